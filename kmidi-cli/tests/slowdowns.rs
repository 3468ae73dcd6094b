//! Proof against real slowdowns, on a real Apache Kafka 3.9 broker: what the ear would
//! hear shows up in the instrument's report. A producer quota makes the music fall
//! behind as the quota predicts; a second instrument joining the group mid-song shows
//! the rebalance gap and the partition split; the kafka crate's own fetch defaults
//! against kmidi's tuned ones are the audible difference they are.

mod common;

use std::time::Duration;

use common::{
    instrument_in, kmidi, player_at, read_heard, read_report, run, spawn, stderr, wait_bounded,
    Broker,
};
use serde_json::Value;

fn broker() -> &'static Broker {
    Broker::shared(&kmidi_test_support::kafka_version("3"))
}

fn latencies_ms(report: &Value) -> Vec<f64> {
    report["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .filter_map(|s| s["latency_ms"].as_f64())
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn instrument(
    topic: &str,
    group: &str,
    report: &std::path::Path,
    idle: u32,
) -> std::process::Child {
    spawn(
        instrument_in(&broker().bootstrap, topic, group)
            .args(["--idle-exit", &idle.to_string(), "--report"])
            .arg(report),
    )
}

#[test]
fn producer_quota_makes_the_music_fall_behind_as_predicted() {
    let b = broker();
    let topic = b.unique("quota");
    b.create_topic(&topic, 1);
    let client = format!("kmidi-throttled-{}", std::process::id());
    let quota = 20_000.0; // bytes per second
    b.run_tool(
        "configs",
        &[
            "--alter",
            "--add-config",
            &format!("producer_byte_rate={quota}"),
            "--entity-type",
            "clients",
            "--entity-name",
            &client,
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let inst = instrument(&topic, &format!("g-{topic}"), &report, 8);
    let record_size = 2000;
    let speed = 0.5;
    let player = run(player_at(&b.bootstrap, &topic, &speed.to_string())
        .args([
            "--record-size",
            &record_size.to_string(),
            "--flush-timeout",
            "60",
        ])
        .args([
            "-X",
            &format!("client.id={client}"),
            "-m",
            "songs/ode_to_joy.mid",
        ]));
    assert!(player.status.success(), "{}", stderr(&player));
    let heard = wait_bounded(inst, Duration::from_secs(120));
    assert!(heard.status.success(), "{}", stderr(&heard));

    let r = read_heard(&report);
    let lat = latencies_ms(&r);
    assert_eq!(lat.len(), 125, "every note arrived");
    let (first, last) = (mean(&lat[..10]), mean(&lat[lat.len() - 10..]));
    // The quota admits `quota` bytes a second; the song offers more, so the backlog,
    // and with it the lateness, grows until the last note: bytes / quota − duration.
    let song_s = 19.14 * speed;
    let bytes = 125.0 * (record_size as f64 + 330.0);
    let predicted_ms = (bytes / quota - song_s) * 1000.0;
    eprintln!("latency first {first:.0} ms, last {last:.0} ms, predicted {predicted_ms:.0} ms");
    assert!(
        last > first + 1000.0,
        "lateness grows: {first:.0} → {last:.0} ms"
    );
    assert!(
        last > predicted_ms * 0.4 && last < predicted_ms * 2.5,
        "last notes {last:.0} ms late, the quota predicts about {predicted_ms:.0} ms"
    );
    // Kafka measures a quota over a window of seconds, so the first notes pass
    // unthrottled; from then on every note is later than the one before.
    let late = r["late"].as_u64().unwrap();
    assert!(
        late >= 25,
        "the throttled part of the song is audibly late: {late}"
    );
}

#[test]
fn a_second_instrument_joining_shows_the_rebalance_gap_and_the_split() {
    let b = broker();
    let topic = b.unique("rebalance");
    b.create_topic(&topic, 2);
    let group = format!("g-{topic}");
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = (dir.path().join("r1.json"), dir.path().join("r2.json"));
    let first = instrument(&topic, &group, &r1, 6);
    std::thread::sleep(Duration::from_secs(3));
    // Two songs at once: their keys land on different partitions (CRC32, as librdkafka).
    let players: Vec<_> = [
        ("songs/ode_to_joy.mid", "0.8"),
        ("songs/bach_prelude_c.mid", "0.5"),
    ]
    .iter()
    .map(|(song, speed)| spawn(player_at(&b.bootstrap, &topic, speed).args(["-m", song])))
    .collect();
    std::thread::sleep(Duration::from_secs(6));
    let second = instrument(&topic, &group, &r2, 6);
    for p in players {
        let out = wait_bounded(p, Duration::from_secs(60));
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let (o1, o2) = (
        wait_bounded(first, Duration::from_secs(60)),
        wait_bounded(second, Duration::from_secs(60)),
    );
    assert!(o1.status.success() && o2.status.success());
    let (j1, j2) = (read_heard(&r1), read_heard(&r2));
    let parts = |j: &Value| -> Vec<(i64, u64)> {
        j["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["partition"].as_i64().unwrap(),
                    p["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let (p1, p2) = (parts(&j1), parts(&j2));
    eprintln!("first instrument: {p1:?}, second: {p2:?}");
    assert_eq!(
        p1.iter().map(|p| p.0).collect::<Vec<_>>(),
        vec![0, 1],
        "first had both"
    );
    assert_eq!(
        p2.len(),
        1,
        "the second instrument got one partition: {p2:?}"
    );
    let (moved, second_count) = p2[0];
    let first_count = p1.iter().find(|p| p.0 == moved).map_or(0, |p| p.1);
    assert!(
        second_count > 0,
        "the second instrument played its partition"
    );
    // The moved partition's song: heard by the first instrument until the rebalance,
    // by the second after it. Nothing falls between the two.
    let song = |j: &Value| -> Vec<(u64, f64)> {
        j["samples"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["partition"].as_i64() == Some(moved))
            .map(|s| {
                (
                    s["seq"].as_u64().unwrap(),
                    s["arrived_unix_ms"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let (before, after) = (song(&j1), song(&j2));
    let total = first_count.max(before.len() as u64) + second_count;
    let mut heard: Vec<u64> = before.iter().chain(after.iter()).map(|s| s.0).collect();
    heard.sort_unstable();
    heard.dedup();
    let last_seq = *heard.last().unwrap();
    assert_eq!(
        heard.len() as u64,
        last_seq + 1,
        "no note of the moved song was lost"
    );
    // The handover: the first instrument's last note of the partition to the second
    // instrument's first, and the notes both played (the group had not committed them).
    let last_before = before.iter().map(|s| s.1).fold(f64::MIN, f64::max);
    let first_after = after.iter().map(|s| s.1).fold(f64::MAX, f64::min);
    let replayed = before
        .iter()
        .filter(|b| after.iter().any(|a| a.0 == b.0))
        .count();
    eprintln!(
        "rebalance: partition {moved} moved after {} notes; handover gap {:.0} ms; {replayed} note(s) played twice; {total} records in all",
        before.len(),
        first_after - last_before
    );
    assert!(
        !before.is_empty() && !after.is_empty(),
        "the partition was split in time"
    );
    // The reports say when the partition moved. How long the music stalled is measured,
    // not asserted: on loopback an eager rebalance can finish between two notes.
    let history = |j: &Value| -> Vec<(f64, Vec<i64>)> {
        j["assignments"]
            .as_array()
            .expect("the report has the assignment history")
            .iter()
            .map(|a| {
                let parts = a["partitions"].as_array().unwrap().iter();
                (
                    a["at_unix_ms"].as_f64().unwrap(),
                    parts.map(|p| p[1].as_i64().unwrap()).collect(),
                )
            })
            .collect()
    };
    let (h1, h2) = (history(&j1), history(&j2));
    eprintln!("assignments: first {h1:?}, second {h2:?}");
    assert_eq!(h1.first().map(|a| a.1.clone()), Some(vec![0, 1]), "{h1:?}");
    assert!(j1["rebalances"].as_u64().unwrap() >= 1, "{h1:?}");
    // Whichever instrument stops first hands its partitions back to the other, so
    // only the start of each history is fixed.
    let kept = 1 - moved;
    assert!(h1.iter().any(|a| a.1 == vec![kept]), "{h1:?}");
    assert_eq!(h2.first().map(|a| a.1.clone()), Some(vec![moved]), "{h2:?}");
    let left = h1
        .iter()
        .find(|a| !a.1.contains(&moved))
        .map(|a| a.0)
        .unwrap();
    let joined = h2[0].0;
    eprintln!(
        "the first instrument saw partition {moved} go at {:+.0} ms, the second saw it come at {:+.0} ms (from the last note before)",
        left - last_before,
        joined - last_before
    );
    // The assignment is read every 100 ms, between polls of 50 ms.
    assert!(
        last_before <= left + 500.0 && joined <= first_after + 500.0,
        "the reported handover agrees with the notes: left {left}, joined {joined}, notes until {last_before} and from {first_after}"
    );
    let summary = |j: &Value| -> String {
        j["summary"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "rebalances")
            .map(|f| f["value"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert!(
        summary(&j1).starts_with(&format!("{}: [0, 1] at", h1.len() - 1)),
        "the summary table shows the rebalance: {}",
        summary(&j1)
    );
}

#[test]
fn the_kafka_crate_defaults_are_audibly_later_than_kmidis_tuning() {
    let b = broker();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("c.json");
    let prefix = b.unique("fetchwait");
    let out = run(kmidi()
        .args([
            "compare",
            "-q",
            "--a",
            "kafka-rust",
            "--b",
            "kafka-rust",
            "-b",
            &b.bootstrap,
        ])
        .args([
            "-t",
            &prefix,
            "-m",
            "ode_to_joy.mid",
            "-s",
            "0.5",
            "--no-port",
        ])
        .args([
            "--xa",
            "fetch.min.bytes=4096",
            "--xa",
            "fetch.wait.max.ms=100",
        ])
        .arg("--record")
        .arg(dir.path().join("both.mid"))
        .arg("--report")
        .arg(&report));
    assert!(out.status.success(), "{}", stderr(&out));
    let r = read_report(&report);
    let p50 = |side: usize| {
        r["sides"][side]["instrument"]["histograms"]["latency"]["percentiles_us"][0]["us"]
            .as_u64()
            .unwrap()
    };
    let (library, tuned) = (p50(0), p50(1));
    eprintln!("kafka crate defaults p50 {library} µs, kmidi's tuning p50 {tuned} µs");
    assert!(
        library > 30_000,
        "a 100 ms fetch wait holds small notes back: {library} µs"
    );
    assert!(
        tuned < 20_000,
        "min bytes 1 and a short wait do not: {tuned} µs"
    );
    let audible = |side: usize| {
        r["sides"][side]["instrument"]["summary"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "jitter" && f["audible"] == true)
    };
    assert!(audible(0), "the library defaults' jitter is audible");
}
