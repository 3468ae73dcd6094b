//! The CLI without a real broker: help, argument errors, bad input, the embedded demo
//! on librdkafka's mock cluster, and the bounded failure on an unreachable broker.

mod common;

use std::time::{Duration, Instant};

use common::{kmidi, run, stderr};
use kmidi_midi::smf::{Format, Smf, Track};

#[test]
fn help_lists_every_subcommand() {
    let out = run(kmidi().arg("--help"));
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in [
        "player",
        "instrument",
        "demo",
        "topic",
        "ports",
        "transports",
    ] {
        assert!(text.contains(sub), "{sub} missing from --help");
    }
    for sub in ["player", "instrument", "demo", "topic create"] {
        let mut cmd = kmidi();
        cmd.args(sub.split(' ')).arg("--help");
        assert!(run(&mut cmd).status.success(), "{sub} --help");
    }
}

#[test]
fn unreachable_broker_fails_within_the_connect_timeout() {
    let started = Instant::now();
    let out = run(kmidi().args([
        "player",
        "-q",
        "-b",
        "127.0.0.1:1",
        "-m",
        "songs/ode_to_joy.mid",
        "--connect-timeout",
        "2",
    ]));
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot reach Kafka at 127.0.0.1:1"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn corrupt_midi_file_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.mid");
    let mut track = Track::new();
    track.message(0, &[0x90, 60, 100]).end();
    let good = Smf::new(Format::Single, 96)
        .with_tracks([track])
        .to_bytes()
        .unwrap();
    // Cut inside the header's length field.
    std::fs::write(&bad, &good[..6]).unwrap();
    let out = run(kmidi()
        .args(["player", "-q", "-b", "127.0.0.1:1"])
        .arg("-m")
        .arg(&bad));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("broken.mid"), "{}", stderr(&out));
}

#[test]
fn bad_client_property_is_refused_with_an_example() {
    let out = run(kmidi().args(["player", "-m", "songs/", "-X", "linger.ms"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("key=value"), "{}", stderr(&out));
}

#[test]
fn demo_records_and_renders_on_the_mock_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let mid = dir.path().join("demo.mid");
    let out = run(kmidi()
        .args([
            "demo",
            "-q",
            "--song",
            "ode_to_joy.mid",
            "-s",
            "0.2",
            "--record",
        ])
        .arg(&mid));
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = common::score_bytes(&common::repo().join("songs/ode_to_joy.mid"));
    assert_eq!(common::recorded_bytes(&mid), expected);
}

#[test]
fn demo_without_a_port_writes_mid_and_wav_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(kmidi()
        .args([
            "demo",
            "-q",
            "--song",
            "tempo_change.mid",
            "-s",
            "0.2",
            "--out-dir",
        ])
        .arg(dir.path()));
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(dir.path().join("kmidi-demo.mid").exists(), "{err}");
    assert!(err.contains("kmidi-demo.mid"), "{err}");
    if kmidi_midi::sink::find_soundfont().is_some() {
        let wav = dir.path().join("kmidi-demo.wav");
        let summary = kmidi_midi::sink::wav_summary(&wav).unwrap();
        assert!(summary.peak > 0.01, "rendered audio is not silent");
    }
}

#[test]
fn instrument_without_a_midi_system_says_what_to_do() {
    if !kmidi_midi::sink::list_output_ports()
        .map(|p| p.is_empty())
        .unwrap_or(true)
    {
        eprintln!("skipped: this machine has MIDI ports");
        return;
    }
    let out = run(kmidi().args(["instrument", "-b", "127.0.0.1:1", "--port", "fluidsynth"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("--record") && err.to_lowercase().contains("fluidsynth"),
        "{err}"
    );
}

#[test]
fn transports_lists_rdkafka_with_its_version() {
    let out = run(kmidi().arg("transports"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("rdkafka") && text.contains("librdkafka"),
        "{text}"
    );
}

#[test]
fn compare_on_the_mock_cluster_renders_a_left_and_right_stereo_wav() {
    if kmidi_midi::sink::find_soundfont().is_none() {
        eprintln!("skipped: no soundfont installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("ab.wav");
    let out = run(kmidi()
        .args([
            "compare", "-q", "--a", "rdkafka", "--b", "rdkafka", "-s", "0.2",
        ])
        .args(["-m", "ode_to_joy.mid", "--render"])
        .arg(&wav));
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("A (rdkafka)") && err.contains("B (rdkafka)"),
        "{err}"
    );
    assert!(err.contains("onset error"), "one side-by-side table: {err}");
    let s = kmidi_midi::sink::wav_summary(&wav).unwrap();
    assert_eq!(s.channels, 2);
    assert!(s.peak > 0.01, "not silent");
}

#[test]
fn compare_says_which_transport_the_mock_cluster_cannot_serve() {
    let out = run(kmidi().args([
        "compare",
        "-q",
        "--a",
        "rdkafka",
        "--b",
        "kafka-rust",
        "-m",
        "ode_to_joy.mid",
        "--no-port",
        "--report",
        "/dev/null",
    ]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("B (kafka-rust) cannot play") && err.contains("v2 record batches"),
        "{err}"
    );
}

#[test]
fn demo_writes_a_json_report_and_an_svg_plot() {
    let dir = tempfile::tempdir().unwrap();
    let (json, svg) = (dir.path().join("r.json"), dir.path().join("p.svg"));
    let out = run(kmidi()
        .args([
            "demo",
            "-q",
            "--song",
            "ode_to_joy.mid",
            "-s",
            "0.2",
            "--no-port",
            "--report",
        ])
        .arg(&json)
        .arg("--plot")
        .arg(&svg));
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["command"], "demo");
    assert_eq!(doc["sides"][0]["transport"]["name"], "rdkafka");
    assert_eq!(doc["sides"][0]["player"]["sent"], 125);
    let r = &doc["sides"][0]["instrument"];
    assert_eq!(r["played"], 125);
    assert_eq!(r["samples"].as_array().unwrap().len(), 125);
    assert!(r["histograms"]["latency"]["percentiles_us"].is_array());
    assert!(r["summary"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "onset error"));
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(
        plot.starts_with("<svg") && plot.contains("inaudible"),
        "an SVG with the band"
    );
}

#[test]
fn demo_with_a_playout_delay_reports_its_missed_deadlines() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = run(kmidi()
        .args([
            "demo",
            "-q",
            "-m",
            "ode_to_joy.mid",
            "-s",
            "0.2",
            "--no-port",
        ])
        .args(["--playout-delay", "80", "--report"])
        .arg(&json));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("missed deadlines") && stderr(&out).contains("80 ms playout delay"),
        "{}",
        stderr(&out)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let heard = &doc["sides"][0]["instrument"];
    assert_eq!(heard["played"], 125);
    assert_eq!(heard["playout"]["delay_ms"], 80.0);
    assert!(heard["playout"]["missed_deadlines"].as_u64().unwrap() <= 125);
    let bad = run(kmidi().args(["demo", "--playout-delay", "-5"]));
    assert!(!bad.status.success());
}

#[test]
fn a_bad_churn_script_is_refused_with_an_example() {
    let out = run(kmidi().args([
        "compare", "--a", "rdkafka", "--b", "rdkafka", "--churn", "crash@3s",
    ]));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("unknown action 'crash' (join, leave, kill, load or ramp), e.g. join@10s"),
        "{err}"
    );
}

#[test]
fn churn_on_a_transport_without_consumer_groups_is_refused() {
    let out = run(kmidi().args([
        "compare",
        "--a",
        "kafka-rust",
        "--b",
        "rdkafka",
        "--members",
        "2",
    ]));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("side A: the kafka-rust transport has no consumer groups"),
        "{err}"
    );
}
