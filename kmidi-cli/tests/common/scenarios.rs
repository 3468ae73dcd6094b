//! The end-to-end scenarios every broker version runs; each version's test file
//! calls them against its own broker.

use std::time::Duration;

use super::*;

/// Plays `songs` (a file or the songs/ directory) to a new topic of `partitions` while
/// an instrument records it; returns what the instrument played.
fn round_trip(broker: &Broker, partitions: u32, songs: &Path) -> Vec<Vec<u8>> {
    let topic = broker.unique("roundtrip");
    broker.create_topic(&topic, partitions);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("heard.mid");
    let instrument = spawn_instrument(broker, &topic, &record, 5);
    let player = run(player(&broker.bootstrap, &topic).arg("-m").arg(songs));
    assert!(
        player.status.success(),
        "player failed: {}",
        stderr(&player)
    );
    let out = wait_bounded(instrument, Duration::from_secs(60));
    assert!(out.status.success(), "instrument failed: {}", stderr(&out));
    recorded_bytes(&record)
}

/// Player → Kafka → instrument on every bundled song: every message arrives, with the
/// right bytes, in order (one partition, so order is total).
pub fn every_message_arrives_in_order(broker: &Broker) {
    let heard = round_trip(broker, 1, &repo().join("songs"));
    let expected: Vec<Vec<u8>> = songs().iter().flat_map(|p| score_bytes(p)).collect();
    assert_eq!(heard.len(), expected.len(), "every message arrived once");
    assert_eq!(heard, expected, "bytes and order as in the scores");
}

/// Several partitions: each song (one key) stays in order, nothing is lost.
pub fn songs_keep_their_order_across_partitions(broker: &Broker) {
    let song = repo().join("songs/ode_to_joy.mid");
    assert_eq!(round_trip(broker, 3, &song), score_bytes(&song));
}

pub fn missing_topic_is_a_clear_error(broker: &Broker) {
    let topic = broker.unique("missing");
    let out = run(player(&broker.bootstrap, &topic).args(["-m", "songs/ode_to_joy.mid"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("does not exist") && err.contains("kmidi topic create"),
        "{err}"
    );
}

pub fn garbage_record_is_counted_and_skipped(broker: &Broker) {
    let topic = broker.unique("garbage");
    broker.create_topic(&topic, 1);
    // Kafka's own console producer: records no kmidi transport would write.
    let lines = [
        "not json",
        r#"{"note": 60}"#,
        r#"{"hex": "zz"}"#,
        r#"{"hex": "F0 7E F7"}"#,
        r#"{"time": 0, "type": "note_on", "channel": 0, "note": 60, "velocity": 64, "hex": "90 3C 40", "extra_payload": ""}"#,
    ];
    broker.run_tool_with_input(
        "console-producer",
        &["--topic", &topic],
        &(lines.join("\n") + "\n"),
    );
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("heard.mid");
    let out = wait_bounded(
        spawn_instrument(broker, &topic, &record, 3),
        Duration::from_secs(60),
    );
    assert!(out.status.success());
    let err = stderr(&out);
    for kind in [
        "not_json",
        "missing_hex",
        "invalid_hex",
        "not_channel_message",
    ] {
        assert!(
            err.contains(&format!("skipped 1 bad record(s): {kind}")),
            "{kind}: {err}"
        );
    }
    assert_eq!(recorded_bytes(&record), vec![vec![0x90, 0x3C, 0x40]]);
}

/// SIGTERM mid-song: the instrument silences every channel and still writes what it
/// played, and says with its exit code that a signal ended it.
pub fn instrument_silences_every_channel_on_sigterm(broker: &Broker) {
    let topic = broker.unique("sigterm");
    broker.create_topic(&topic, 1);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("heard.mid");
    let instrument = spawn(
        instrument(&broker.bootstrap, &topic)
            .arg("--record")
            .arg(&record),
    );
    let song = repo().join("songs/ode_to_joy.mid");
    let player = run(player(&broker.bootstrap, &topic).arg("-m").arg(&song));
    assert!(player.status.success());
    // Let the instrument catch up with the whole song before stopping it.
    std::thread::sleep(Duration::from_secs(6));
    signal(&instrument, "TERM");
    let out = wait_bounded(instrument, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(143), "128 + SIGTERM");
    assert!(stderr(&out).contains("interrupted"));
    assert_eq!(recorded_bytes(&record), score_bytes(&song));
}

/// Ctrl-C mid-song: the player stops sending, flushes what it sent, and exits 130;
/// every note it reports as sent is on the topic.
pub fn player_flushes_everything_it_sent_on_ctrl_c(broker: &Broker) {
    let topic = broker.unique("sigint");
    broker.create_topic(&topic, 1);
    let player = spawn(player_at(&broker.bootstrap, &topic, "1").args([
        "--loop",
        "-m",
        "songs/ode_to_joy.mid",
    ]));
    std::thread::sleep(Duration::from_secs(4));
    signal(&player, "INT");
    let out = wait_bounded(player, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(130), "128 + SIGINT");
    let err = stderr(&out);
    assert!(err.contains("interrupted"), "{err}");
    let sent = sent_count(&err);
    assert!(sent > 0, "{err}");

    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("heard.mid");
    let heard = wait_bounded(
        spawn_instrument(broker, &topic, &record, 3),
        Duration::from_secs(60),
    );
    assert!(heard.status.success());
    assert_eq!(recorded_bytes(&record).len(), sent);
}
