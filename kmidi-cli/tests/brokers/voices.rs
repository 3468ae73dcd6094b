//! A voice and figures per broker (issue 19 item 3): on a per-broker probe topic played
//! with `--key-by voice`, `--voices broker` plays each broker's notes on its own channel
//! with its own program, the report has figures for every broker, and a broker paused
//! mid-song has the longest silence charged to it and not to the others.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use kmidi_transport::{Admin, ClientConfig};
use serde_json::Value;

use super::common::{instrument, player_at, read_report, repo, run, spawn, stderr, wait_bounded};
use super::{cluster, serial};

/// `kmidi topic create --per-broker` with `extra` arguments.
fn probe(topic: &str, extra: &[&str]) {
    let out = run(super::common::kmidi()
        .args(["topic", "create", "-b", &cluster().bootstrap, "-t", topic])
        .args(["--per-broker", "--retention-ms", "600000"])
        .args(extra));
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The instrument on `topic`, writing a report (and `extra`), leaving after `idle` s
/// of silence.
fn listen(topic: &str, report: &Path, idle: u32, extra: &[&str]) -> Child {
    spawn(
        instrument(&cluster().bootstrap, topic)
            .arg("--report")
            .arg(report)
            .args(["--idle-exit", &idle.to_string()])
            .args(extra),
    )
}

/// The player of `song`, keying notes over every partition.
fn play(topic: &str, song: &str, speed: &str) -> Child {
    let song = format!("songs/{song}");
    spawn(player_at(&cluster().bootstrap, topic, speed).args(["-m", &song, "--key-by", "voice"]))
}

fn per_broker(report: &Value) -> Vec<Value> {
    report["sides"][0]["brokers"]["per_broker"]
        .as_array()
        .unwrap_or_else(|| panic!("figures per broker in {report:#}"))
        .clone()
}

/// One line per broker, for the test's log.
fn show(brokers: &[Value]) -> String {
    brokers
        .iter()
        .map(|b| {
            format!(
                "broker {}: notes {}, latency p50/p99 {}/{} ms, onset p99 {} ms, late {}, lost {}, longest silence {} ms",
                b["broker"], b["notes"], b["latency_p50_ms"], b["latency_p99_ms"],
                b["onset_error_p99_ms"], b["late"], b["lost"], b["longest_silence_ms"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn each_broker_plays_its_own_voice_and_has_its_own_figures() {
    let _serial = serial();
    let topic = "voices-probe";
    probe(topic, &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let (record, report) = (dir.path().join("heard.mid"), dir.path().join("heard.json"));
    let plot = dir.path().join("heard.svg");
    let listening = listen(
        topic,
        &report,
        5,
        &[
            "--voices",
            "broker",
            "--record",
            record.to_str().expect("utf-8 path"),
            "--plot",
            plot.to_str().expect("utf-8 path"),
        ],
    );
    let played = wait_bounded(
        play(topic, "ode_to_joy.mid", "0.5"),
        Duration::from_secs(60),
    );
    assert!(played.status.success(), "{}", stderr(&played));
    let heard = wait_bounded(listening, Duration::from_secs(90));
    let said = stderr(&heard);
    eprintln!("{said}");
    assert!(heard.status.success(), "{said}");
    for line in [
        "voices per broker:",
        "broker 1: acoustic grand piano (program 1, channel 1)",
        "broker 2: string ensemble (program 49, channel 2)",
        "broker 3: vibraphone (program 12, channel 3)",
        "per broker (instrument; notes charged to",
    ] {
        assert!(said.contains(line), "{line:?} in:\n{said}");
    }
    assert!(!said.contains("no note came through"), "{said}");

    // The recording: each broker's program on its channel first, then every note on
    // a broker's channel, each channel sounding.
    let recorded: Vec<Vec<u8>> = kmidi_midi::sink::read_recording(&record)
        .expect("a recording")
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    for (channel, program) in [(0u8, 0u8), (1, 48), (2, 11)] {
        let change = recorded
            .iter()
            .position(|b| *b == [0xC0 | channel, program]);
        let first_note = recorded
            .iter()
            .position(|b| b.len() == 3 && b[0] & 0xF0 == 0x90);
        assert!(
            change.is_some() && change < first_note,
            "program {program} on channel {channel} before the first note: {recorded:?}"
        );
        assert!(
            recorded.iter().any(|b| b[0] == 0x90 | channel && b[2] > 0),
            "notes on channel {channel}"
        );
    }
    assert!(
        recorded
            .iter()
            .filter(|b| b.len() == 3 && matches!(b[0] & 0xF0, 0x80 | 0x90))
            .all(|b| b[0] & 0x0F <= 2),
        "every note on a broker's channel"
    );

    let report = read_report(&report);
    let brokers = per_broker(&report);
    eprintln!("{}", show(&brokers));
    let ids: Vec<i64> = brokers
        .iter()
        .filter_map(|b| b["broker"].as_i64())
        .collect();
    assert_eq!(ids, [1, 2, 3], "{brokers:#?}");
    for b in &brokers {
        assert!(b["notes"].as_u64().is_some_and(|n| n > 0), "{b:#}");
        assert!(b["latency_p99_ms"].as_f64().is_some(), "{b:#}");
        assert!(b["onset_error_p99_ms"].as_f64().is_some(), "{b:#}");
        assert_eq!(b["lost"], 0, "{b:#}");
        assert!(b["voice"]["instrument"].is_string(), "{b:#}");
    }
    let notes: u64 = brokers.iter().filter_map(|b| b["notes"].as_u64()).sum();
    assert_eq!(
        Some(notes),
        report["sides"][0]["instrument"]["played"].as_u64(),
        "every note is some broker's"
    );
    let svg = std::fs::read_to_string(&plot).expect("a plot");
    assert!(
        svg.contains("broker 2 (string ensemble)"),
        "a series per broker"
    );
}

/// SIGCONT to a paused broker when dropped, so a failing test never leaves it stopped.
struct Paused(u32);

impl Paused {
    fn pause(pid: u32) -> Self {
        signal(pid, "STOP");
        Paused(pid)
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        signal(self.0, "CONT");
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok || std::thread::panicking(), "kill -{sig} {pid}");
}

/// The pid of node `id`, where `scripts/kafka.sh` keeps it.
fn node_pid(id: u32) -> u32 {
    let cache =
        std::env::var_os("KMIDI_CACHE").map_or_else(|| repo().join(".cache"), PathBuf::from);
    let path = cache.join("run").join(cluster().node(id)).join("pid");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("{}: {text:?}: {e}", path.display()))
}

fn unix_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

fn admin() -> Box<dyn Admin> {
    let config: ClientConfig = [("bootstrap.servers", cluster().bootstrap.as_str())]
        .into_iter()
        .collect();
    kmidi_registry::built_in("rdkafka")
        .expect("built with rdkafka")
        .admin(&config)
        .expect("an admin client")
}

/// Waits (at most 60 s) until `broker` leads `partition` of `topic` again.
fn wait_leading(topic: &str, partition: i32, broker: i32) {
    let admin = admin();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(l) = admin.partition_leaders(topic, Duration::from_secs(5)) {
            if l.led_by(broker).contains(&partition) {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("broker {broker} leads partition {partition} of {topic} again within 60 s");
}

#[test]
fn a_paused_brokers_silence_is_charged_to_it_and_not_to_the_others() {
    let _serial = serial();
    let topic = "voices-pause";
    // One replica each: the paused broker holds only its own partition back (as a
    // follower of the others it would stall their high watermarks too, until it is
    // dropped from their ISR).
    probe(topic, &["--replication-factor", "1"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("heard.json");
    let listening = listen(topic, &report, 10, &[]);
    // Partition i is led by broker i + 1 (`--per-broker`): pause broker 2 mid-song.
    let pid = node_pid(2);
    // Bach's arpeggios: every partition has a note due every fraction of a second.
    let player = play(topic, "bach_prelude_c.mid", "1.0");
    std::thread::sleep(Duration::from_secs(6));
    let paused_at = unix_ms();
    {
        let _paused = Paused::pause(pid);
        std::thread::sleep(Duration::from_secs(4));
    }
    eprintln!("broker 2 paused from {paused_at} to {} ms", unix_ms());
    let played = wait_bounded(player, Duration::from_secs(90));
    let heard = wait_bounded(listening, Duration::from_secs(120));
    let said = stderr(&heard);
    eprintln!("{}\n{said}", stderr(&played));
    wait_leading(topic, 1, 2);
    assert!(played.status.success(), "{}", stderr(&played));
    assert!(heard.status.success(), "{said}");
    let report = read_report(&report);
    let brokers = per_broker(&report);
    eprintln!("{}", show(&brokers));
    let silence = |id: i64| -> f64 {
        brokers
            .iter()
            .find(|b| b["broker"] == id)
            .and_then(|b| b["longest_silence_ms"].as_f64())
            .unwrap_or_else(|| panic!("broker {id} in {brokers:#?}"))
    };
    let paused = silence(2);
    assert!(paused >= 2_500.0, "broker 2 paused 4 s: {paused} ms");
    for other in [1, 3] {
        let s = silence(other);
        assert!(
            s < paused / 2.0,
            "broker {other} ran on: {s} ms (broker 2: {paused} ms)"
        );
    }
}

#[test]
fn compare_has_figures_per_broker_for_each_side() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("compare.json");
    let out = run(super::common::kmidi()
        .args([
            "compare",
            "-q",
            "-b",
            &cluster().bootstrap,
            "-t",
            "voices-compare",
        ])
        .args([
            "--a",
            "rdkafka",
            "--b",
            "rdkafka",
            "-m",
            "ode_to_joy.mid",
            "-s",
            "0.5",
        ])
        .args([
            "--partitions",
            "3",
            "--key-by",
            "voice",
            "--no-port",
            "--report",
        ])
        .arg(&report));
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("per broker (A (rdkafka);"), "{said}");
    let report = read_report(&report);
    for side in report["sides"].as_array().expect("sides") {
        let brokers = side["brokers"]["per_broker"]
            .as_array()
            .expect("per broker");
        eprintln!("{}:\n{}", side["label"], show(brokers));
        // Kafka places three partitions' leaders on the brokers it likes: at least two.
        assert!(brokers.len() >= 2, "{brokers:#?}");
        let notes: u64 = brokers.iter().filter_map(|b| b["notes"].as_u64()).sum();
        assert_eq!(
            Some(notes),
            side["instrument"]["played"].as_u64(),
            "{side:#}"
        );
    }
}
