//! The CLI without a real broker: help, argument errors, bad input, the embedded demo
//! on librdkafka's mock cluster, and the bounded failure on an unreachable broker.

mod common;

use std::time::{Duration, Instant};

use common::{kmidi, run, stderr};

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
    std::fs::write(&bad, b"MThd\x00\x00").unwrap();
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
