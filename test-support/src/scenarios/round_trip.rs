//! Records through a producer and back out of consumers: all of them, unchanged, in
//! order per key and partition, with what the transport says about timestamps; and
//! the waits around that (an idle poll, one record's latency).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use kmidi_transport::{OffsetReset, Transport};

use super::{assert_assigned_all, create_topic, drain, subscribe, Expect, T};
use crate::Broker;

/// Songs (keys) the round trip sends: enough that every partition of three gets one
/// under any client's partitioner.
const SONGS: usize = 12;

/// A note as the player writes it (JSON, but only bytes to the transport), numbered
/// within its song.
fn note(song: &str, seq: usize, pitch: usize) -> Vec<u8> {
    format!(
        r#"{{"time": 0.01, "type": "note_on", "channel": 0, "note": {pitch}, "velocity": 64, "hex": "90 3C 40", "song": "{song}", "seq": {seq}}}"#
    )
    .into_bytes()
}

/// Hundreds of notes of several songs over three partitions, read by a consumer from
/// `Latest` subscribed before the first send and by one from `Earliest` after the
/// last: every record arrives once, each song in order on one partition, offsets
/// rising per partition, timestamps as the transport's capabilities say, nothing
/// more; committing works, and where offsets are stored the group resumes after them.
pub fn notes_round_trip_in_order_over_all_partitions(
    t: &dyn Transport,
    broker: &Broker,
    expect: &Expect,
) {
    let info = t.info();
    let name = info.name;
    let topic = broker.unique("round-trip");
    create_topic(t, broker, &topic, 3);
    // Latest, created before anything is produced: must still see every record.
    let mut latest = subscribe(
        t,
        broker,
        &topic,
        &broker.unique("latest"),
        OffsetReset::Latest,
    );
    assert_assigned_all(latest.as_ref(), 3);

    let songs: Vec<String> = (0..SONGS).map(|i| format!("song-{i}.mid")).collect();
    let total = 300;
    let mut sent: HashMap<Vec<u8>, (usize, usize)> = HashMap::new();
    let mut producer = t.producer(&broker.config()).expect("producer");
    for i in 0..total {
        let (song, seq) = (i % SONGS, i / SONGS);
        let value = note(&songs[song], seq, 60 + i % 12);
        producer
            .send(&topic, songs[song].as_bytes(), &value)
            .expect("send");
        sent.insert(value, (song, seq));
    }
    producer.flush(T).expect("flush");
    let stats = producer.stats();
    assert_eq!(
        (stats.sent, stats.delivered, stats.failed),
        (total as u64, total as u64, 0)
    );
    assert!(producer.take_failures().is_empty());

    let group = broker.unique("earliest");
    for (which, consumer) in [
        ("latest", latest.as_mut()),
        (
            "earliest",
            subscribe(t, broker, &topic, &group, OffsetReset::Earliest).as_mut(),
        ),
    ] {
        if which == "earliest" {
            assert_assigned_all(consumer, 3);
        }
        let got = drain(consumer, total);
        assert_eq!(got.len(), total, "{name} {which}: all records arrive");
        let mut next_seq = [0; SONGS];
        let mut song_partition = BTreeMap::new();
        let mut last_offset: BTreeMap<i32, i64> = BTreeMap::new();
        for r in &got {
            let value = r.value.as_deref().expect("value");
            let &(song, seq) = sent
                .get(value)
                .unwrap_or_else(|| panic!("{name} {which}: a record nobody sent: {r:?}"));
            assert_eq!(r.key.as_deref(), Some(songs[song].as_bytes()));
            assert_eq!(
                seq, next_seq[song],
                "{name} {which}: {} stays in order",
                songs[song]
            );
            next_seq[song] += 1;
            assert_eq!(
                *song_partition.entry(song).or_insert(r.partition),
                r.partition,
                "{name} {which}: one song, one partition"
            );
            if let Some(prev) = last_offset.insert(r.partition, r.offset) {
                assert!(
                    r.offset > prev,
                    "{name} {which}: partition {} went backwards",
                    r.partition
                );
            }
            if info.capabilities.timestamps {
                assert!(
                    r.timestamp_ms.is_some_and(|t| t > 1_600_000_000_000),
                    "{name} {which}: a timestamp, as its capabilities say: {r:?}"
                );
            } else {
                assert!(
                    r.timestamp_ms.is_none(),
                    "{name} {which}: no timestamp, as its capabilities say: {r:?}"
                );
            }
        }
        assert_eq!(
            last_offset.keys().copied().collect::<BTreeSet<_>>(),
            BTreeSet::from([0, 1, 2]),
            "{name} {which}: every partition consumed"
        );
        // Nothing more than was produced.
        assert!(consumer.poll(Duration::from_millis(300)).unwrap().is_none());
        consumer.commit().expect("commit");
    }

    if expect.commits_offsets {
        // Offsets are stored under the group: a new consumer of it starts after them.
        let mut again = subscribe(t, broker, &topic, &group, OffsetReset::Earliest);
        producer
            .send(&topic, songs[0].as_bytes(), b"after-commit")
            .expect("send");
        producer.flush(T).expect("flush");
        let got = drain(again.as_mut(), 1);
        assert_eq!(got.len(), 1, "{name}: the record after the commit arrives");
        assert_eq!(got[0].value.as_deref(), Some(&b"after-commit"[..]));
        assert!(again.poll(Duration::from_millis(500)).unwrap().is_none());
    }
}

/// Note-shaped JSON values of one song come back byte for byte, in order, with their
/// key; sending only enqueues (the player's scheduler must never wait on it).
pub fn json_note_payloads_round_trip_unchanged(t: &dyn Transport, broker: &Broker) {
    let topic = broker.unique("notes");
    create_topic(t, broker, &topic, 1);
    let mut consumer = subscribe(
        t,
        broker,
        &topic,
        &broker.unique("notes"),
        OffsetReset::Earliest,
    );
    let notes: Vec<Vec<u8>> = (0..50u8)
        .map(|i| {
            let status = if i % 2 == 0 { "90" } else { "80" };
            format!(
                r#"{{"hex": "{status} {:02X} 40", "extra_payload": "{}"}}"#,
                60 + i % 12,
                "x".repeat(200)
            )
            .into_bytes()
        })
        .collect();
    let mut producer = t.producer(&broker.config()).expect("producer");
    let started = Instant::now();
    for n in &notes {
        producer.send(&topic, b"ode_to_joy.mid", n).expect("send");
    }
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "send only enqueues: {:?}",
        started.elapsed()
    );
    producer.flush(T).expect("flush");
    let got = drain(consumer.as_mut(), notes.len());
    let values: Vec<Vec<u8>> = got
        .iter()
        .map(|r| r.value.clone().unwrap_or_default())
        .collect();
    assert_eq!(values, notes);
    assert!(got
        .iter()
        .all(|r| r.key.as_deref() == Some(&b"ode_to_joy.mid"[..])));
}

/// A poll on a topic nobody writes to returns nothing after about its timeout: not at
/// once (a busy loop) and not much later (a late note).
pub fn poll_honours_its_timeout_on_an_idle_topic(t: &dyn Transport, broker: &Broker) {
    let topic = broker.unique("idle");
    create_topic(t, broker, &topic, 2);
    let mut c = subscribe(
        t,
        broker,
        &topic,
        &broker.unique("idle"),
        OffsetReset::Earliest,
    );
    let started = Instant::now();
    assert!(c.poll(Duration::from_millis(300)).unwrap().is_none());
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_millis(800),
        "{took:?}"
    );
}

/// 3 MB of 10 KB notes sent back to back are all delivered: the transport splits what
/// it batches below the broker's request limit instead of having it refused.
pub fn large_records_sent_back_to_back_are_all_delivered(t: &dyn Transport, broker: &Broker) {
    let topic = broker.unique("large");
    create_topic(t, broker, &topic, 1);
    let mut producer = t.producer(&broker.config()).expect("producer");
    let value = vec![b'x'; 10 * 1024];
    for _ in 0..300 {
        producer.send(&topic, b"big.mid", &value).expect("send");
    }
    producer.flush(T).expect("flush");
    let failures = producer.take_failures();
    assert!(failures.is_empty(), "{:?}", failures.first());
    assert_eq!(producer.stats().delivered, 300, "none refused");
}

/// Produces one record and polls it, 50 times after a warm-up, and prints the median
/// (on loopback): any transport, so two can be compared on the same broker.
pub fn one_record_latency(t: &dyn Transport, broker: &Broker) {
    let name = t.info().name;
    let topic = broker.unique("latency");
    create_topic(t, broker, &topic, 1);
    // Earliest plus a warm-up record, so a group join (rdkafka) is not measured.
    let mut c = subscribe(
        t,
        broker,
        &topic,
        &broker.unique("latency"),
        OffsetReset::Earliest,
    );
    let mut p = t.producer(&broker.config()).expect("producer");
    let mut samples = Vec::new();
    for i in 0..51u32 {
        let started = Instant::now();
        p.send(&topic, b"k", &i.to_le_bytes()).expect("send");
        loop {
            if let Ok(Some(r)) = c.poll(Duration::from_secs(5)) {
                assert_eq!(r.value.as_deref(), Some(&i.to_le_bytes()[..]));
                break;
            }
            assert!(started.elapsed() < T, "{name}: record {i} never arrived");
        }
        if i > 0 {
            samples.push(started.elapsed());
        }
    }
    samples.sort();
    eprintln!(
        "{name} produce->poll on Kafka {}: median {:?}, p90 {:?}, max {:?}",
        broker.version,
        samples[samples.len() / 2],
        samples[samples.len() * 9 / 10],
        samples[samples.len() - 1]
    );
}
