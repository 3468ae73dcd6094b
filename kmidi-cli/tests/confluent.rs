//! Confluent's native Rust client through the CLI, on a real Apache Kafka 4.3.1 broker:
//! it plays a song, compares against rdkafka with `--equalize`, takes part in the
//! rebalance lab under the consumer protocol (KIP-848, the only one it speaks), refuses
//! the classic protocol naming the fix, and refuses the embedded mock cluster before
//! connecting. Built only with the `confluent` feature (`scripts/test.sh` runs it).
#![cfg(feature = "confluent")]

mod common;

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use common::{
    assert_churn_applied, instrument, kmidi, player, read_report, recorded_bytes, repo, run,
    score_bytes, spawn, stderr, wait_bounded,
};
use kmidi_test_support::Broker;
use serde_json::Value;

/// One broker for the binary, with KIP-848's session and heartbeat (which the broker
/// decides) short enough that a killed member is noticed within the song.
fn broker() -> &'static Broker {
    static BROKER: OnceLock<Broker> = OnceLock::new();
    BROKER.get_or_init(|| {
        Broker::start_with(
            &kmidi_test_support::kafka_version("4"),
            &[
                "group.consumer.min.session.timeout.ms=6000",
                "group.consumer.session.timeout.ms=10000",
                "group.consumer.min.heartbeat.interval.ms=1000",
                "group.consumer.heartbeat.interval.ms=2000",
            ],
        )
    })
}

fn create_topic(topic: &str, partitions: u32) {
    let out = run(kmidi().args([
        "topic",
        "create",
        "-b",
        &broker().bootstrap,
        "-t",
        topic,
        "--transport",
        "confluent",
        "--partitions",
        &partitions.to_string(),
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("a count: {v}"))
}

/// Every note the player sent was heard once, none lost, on each side of a report.
fn assert_every_note_heard(doc: &Value) {
    for side in doc["sides"].as_array().expect("sides") {
        let label = &side["label"];
        let sent = u(&side["player"]["sent"]);
        assert!(sent > 0, "{label}");
        let song = &side["instrument"]["songs"][0];
        assert_eq!(u(&song["heard"]), sent, "{label}: {song}");
        assert_eq!(u(&song["lost"]), 0, "{label}: {song}");
        assert_eq!(u(&side["instrument"]["duplicates"]), 0, "{label}");
    }
}

#[test]
fn a_song_plays_through_the_native_client_every_note_in_order() {
    let b = broker();
    let topic = b.unique("confluent-play");
    create_topic(&topic, 3);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("heard.mid");
    let song = repo().join("songs/tempo_change.mid");
    let listening = spawn(
        instrument(&b.bootstrap, &topic)
            .args(["--transport", "confluent", "--idle-exit", "5"])
            .arg("--record")
            .arg(&record),
    );
    let played = run(player(&b.bootstrap, &topic)
        .args(["--transport", "confluent"])
        .arg("-m")
        .arg(&song));
    assert!(played.status.success(), "{}", stderr(&played));
    let heard = wait_bounded(listening, Duration::from_secs(90));
    assert!(heard.status.success(), "{}", stderr(&heard));
    assert_eq!(recorded_bytes(&record), score_bytes(&song));
}

#[test]
fn compare_hears_rdkafka_and_the_native_client_alike_settings_equalized() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("compare.json");
    let out = run(kmidi()
        .current_dir(dir.path())
        .args(["compare", "-q", "--no-port", "-b", &broker().bootstrap])
        .args(["-t", &broker().unique("confluent-ab")])
        .args(["--transport-a", "rdkafka", "--transport-b", "confluent"])
        .args(["--equalize", "-m", "ode_to_joy.mid"])
        .arg("--report")
        .arg(&report));
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let doc = read_report(&report);
    assert_every_note_heard(&doc);
    let b = &doc["sides"][1];
    assert!(
        b["label"]
            .as_str()
            .unwrap_or_default()
            .contains("confluent"),
        "{b}"
    );
    // Equalize set something on the native client and says what stayed different.
    let settings = &b["settings"];
    assert!(
        settings["equalized"]
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "{settings:#}"
    );
    assert!(settings["producer"]
        .as_array()
        .is_some_and(|p| p.iter().any(|kv| kv[0] == "acks" || kv["key"] == "acks")));
}

#[test]
fn the_rebalance_lab_churns_rdkafka_and_the_native_client_under_kip848() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("lab.json");
    let out = run(kmidi()
        .current_dir(dir.path())
        .args(["compare", "-q", "--no-port", "-b", &broker().bootstrap])
        .args(["-t", &broker().unique("confluent-lab")])
        .args([
            "--transport-a",
            "rdkafka",
            "--xa",
            "group.protocol=consumer",
        ])
        .args(["--transport-b", "confluent"])
        .args(["--churn", "join@4s,leave@9s,kill@14s"])
        .args(["-m", "bach_prelude_c.mid"])
        .arg("--report")
        .arg(&report));
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let doc = read_report(&report);
    for side in doc["sides"].as_array().expect("two sides") {
        let label = side["label"].as_str().unwrap_or_default();
        assert_churn_applied(side, [4.0, 9.0, 14.0]);
        // The notes heard plus those missing are the notes sent: nothing made up.
        let song = &side["instrument"]["songs"][0];
        let sent = u(&side["player"]["sent"]);
        let missing = u(&song["lost"]) + u(&song["missed_start"]) + u(&song["missed_end"]);
        assert_eq!(u(&song["heard"]) + missing, sent, "{label}: {song}");
    }
}

#[test]
fn the_classic_protocol_is_refused_naming_the_fix() {
    let topic = broker().unique("confluent-classic");
    create_topic(&topic, 1);
    let out = run(instrument(&broker().bootstrap, &topic)
        .args(["--transport", "confluent", "-X", "group.protocol=classic"])
        .args(["--idle-exit", "2", "--report"])
        .arg(std::env::temp_dir().join(format!("{topic}.json"))));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("group.protocol"), "{err}");
    assert!(
        err.contains("consumer"),
        "names the protocol it speaks: {err}"
    );
}

#[test]
fn the_embedded_mock_cluster_is_refused_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &[
            "demo",
            "-q",
            "--no-port",
            "--report",
            "r.json",
            "--transport",
            "confluent",
        ][..],
        &[
            "compare",
            "-q",
            "--no-port",
            "--transport-a",
            "rdkafka",
            "--transport-b",
            "confluent",
            "--report",
            "r.json",
        ][..],
    ] {
        let started = std::time::Instant::now();
        let out = run(kmidi().current_dir(dir.path()).args(args));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("mock cluster") && err.contains("-b"), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{args:?}: {err}"
        );
    }
    assert!(Path::new(dir.path()).read_dir().unwrap().next().is_none());
}
