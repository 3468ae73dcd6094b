//! Records the instrument cannot play, written to the topic by another client (kcat,
//! librdkafka's command-line tool, and Kafka's own tools): each kind is counted in the
//! `--report`, warned about once, and skipped, and the notes after them still play.

mod common;

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use common::kcat::kcat_produce;
use common::{instrument, read_heard, recorded_bytes, spawn, stderr, wait_bounded, Broker};

fn broker() -> &'static Broker {
    Broker::shared(&kmidi_test_support::kafka_version("4"))
}

/// A note as the player writes it, with every measurement field, so a record without a
/// key is measured like any other.
fn note(hex: &str, run: &str, seq: u64, total: u64, offset_us: u64, padding: usize) -> String {
    let sent_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    serde_json::json!({
        "time": 0, "type": "note_on", "channel": 0, "hex": hex,
        "extra_payload": "x".repeat(padding),
        "kmidi_run": run, "kmidi_song": "bad.mid", "kmidi_seq": seq, "kmidi_total": total,
        "kmidi_offset_us": offset_us, "kmidi_sent_us": sent_us,
    })
    .to_string()
}

fn spawn_instrument(broker: &Broker, topic: &str, record: &Path, report: &Path) -> Child {
    spawn(
        instrument(&broker.bootstrap, topic)
            .args(["--idle-exit", "3", "--record"])
            .arg(record)
            .arg("--report")
            .arg(report),
    )
}

#[test]
fn every_kind_of_bad_record_is_counted_warned_once_and_skipped() {
    let broker = broker();
    let topic = broker.unique("bad");
    broker.create_topic(&topic, 1);
    // Two of each kind, so "logged once per kind" is tested, not assumed.
    let bad = [
        ("not_json", "song.mid:not json"),
        ("missing_hex", r#"song.mid:{"note": 60, "velocity": 64}"#),
        ("invalid_hex", r#"song.mid:{"hex": "zz 3C"}"#),
        ("not_channel_message", r#"song.mid:{"hex": "F0 7E F7"}"#),
        // An empty value after the colon is a NULL value with -Z (a tombstone).
        ("null_value", "song.mid:"),
    ];
    let mut lines: Vec<String> = Vec::new();
    for (_, l) in &bad {
        lines.push(l.to_string());
        lines.push(l.to_string());
    }
    // A valid note with a NULL key (empty key with -Z) plays and is measured, then a
    // valid keyed note after all the garbage.
    lines.push(format!(":{}", note("90 3C 40", "badrun", 0, 2, 0, 0)));
    lines.push(format!(
        "bad.mid:{}",
        note("80 3C 00", "badrun", 1, 2, 1_000, 0)
    ));
    kcat_produce(&broker.bootstrap, &topic, &lines, &[]);

    let dir = tempfile::tempdir().unwrap();
    let (record, report) = (dir.path().join("heard.mid"), dir.path().join("r.json"));
    let out = wait_bounded(
        spawn_instrument(broker, &topic, &record, &report),
        Duration::from_secs(60),
    );
    let err = stderr(&out);
    assert!(out.status.success(), "instrument failed: {err}");
    assert_eq!(
        recorded_bytes(&record),
        vec![vec![0x90, 0x3C, 0x40], vec![0x80, 0x3C, 0x00]],
        "both valid notes played, in order, after the garbage"
    );
    let r = read_heard(&report);
    for (kind, _) in &bad {
        assert_eq!(r["bad_records"][kind], 2, "{kind} in {}", r["bad_records"]);
        let warned = err
            .matches(&format!("skipping a bad record ({kind})"))
            .count();
        assert_eq!(warned, 1, "one warning for {kind}: {err}");
    }
    assert_eq!(
        r["bad_records"].as_object().unwrap().len(),
        bad.len(),
        "no other kind: {}",
        r["bad_records"]
    );
    assert_eq!(r["played"], 2);
    // The keyless note counts like any other: same run and song, no loss, measured.
    assert_eq!(r["unmeasured"], 0, "{r}");
    assert_eq!(r["duplicates"], 0);
    let songs = r["songs"].as_array().unwrap();
    assert_eq!(songs.len(), 1, "{songs:?}");
    assert_eq!(songs[0]["heard"], 2);
    assert_eq!(songs[0]["lost"], 0);
}

/// A record of several MB (the topic allows it with max.message.bytes): the instrument
/// fetches it and plays it rather than stalling on a record bigger than its fetch sizes,
/// and the notes after it play too.
#[test]
fn a_record_of_several_megabytes_does_not_stall_the_instrument() {
    const BIG: usize = 5 * 1024 * 1024;
    let broker = broker();
    let topic = broker.unique("big");
    // The broker's default limit is about 1 MB per record batch; raise it on this topic.
    broker.run_tool(
        "topics",
        &[
            "--create",
            "--topic",
            &topic,
            "--partitions",
            "1",
            "--replication-factor",
            "1",
            "--config",
            "max.message.bytes=16777216",
        ],
    );
    let lines = vec![
        format!("bad.mid:{}", note("90 3C 40", "bigrun", 0, 3, 0, 0)),
        // Several MB of padding around a valid note, and a several-MB non-JSON blob.
        format!("bad.mid:{}", note("90 40 40", "bigrun", 1, 3, 1_000, BIG)),
        format!("bad.mid:{}", "y".repeat(BIG)),
        format!("bad.mid:{}", note("80 3C 00", "bigrun", 2, 3, 2_000, 0)),
    ];
    // kcat's own producer limit (1 MB by default) must allow the record too.
    kcat_produce(
        &broker.bootstrap,
        &topic,
        &lines,
        &["-X", "message.max.bytes=16777216"],
    );

    let dir = tempfile::tempdir().unwrap();
    let (record, report) = (dir.path().join("heard.mid"), dir.path().join("r.json"));
    let started = Instant::now();
    let out = wait_bounded(
        spawn_instrument(broker, &topic, &record, &report),
        Duration::from_secs(60),
    );
    let err = stderr(&out);
    assert!(out.status.success(), "instrument failed: {err}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "no stall: {:?}",
        started.elapsed()
    );
    assert_eq!(
        recorded_bytes(&record),
        vec![
            vec![0x90, 0x3C, 0x40],
            vec![0x90, 0x40, 0x40],
            vec![0x80, 0x3C, 0x00]
        ]
    );
    let r = read_heard(&report);
    assert_eq!(r["bad_records"]["not_json"], 1, "{}", r["bad_records"]);
    assert_eq!(err.matches("skipping a bad record (not_json)").count(), 1);
    assert_eq!(r["songs"][0]["lost"], 0);
}
