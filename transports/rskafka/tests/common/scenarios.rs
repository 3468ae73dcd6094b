//! What every broker version must do with the rskafka transport, driven only through
//! the `Transport` trait as the CLI drives it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use kmidi_rskafka::partitioner::partition_for;
use kmidi_rskafka::RsKafkaTransport;
use kmidi_transport::{Consumer, OffsetReset, Subscription, TopicSpec, Transport, TransportError};
use serde_json::json;

use super::Broker;

const T: Duration = Duration::from_secs(30);

fn create(t: &dyn Transport, broker: &Broker, topic: &str, partitions: i32) {
    let admin = t.admin(&broker.config()).expect("admin");
    admin
        .create_topic(
            &TopicSpec {
                name: topic.to_string(),
                partitions,
                replication_factor: 1,
                configs: Vec::new(),
            },
            T,
        )
        .expect("create_topic");
}

fn subscribe(
    t: &dyn Transport,
    broker: &Broker,
    topic: &str,
    reset: OffsetReset,
) -> Box<dyn Consumer> {
    let sub = Subscription {
        topics: vec![topic.to_string()],
        group: "ignored-by-rskafka".to_string(),
        offset_reset: reset,
    };
    t.consumer(&broker.config(), &sub).expect("consumer")
}

/// Keys ("songs") that together land on every one of `partitions`.
fn songs_covering(partitions: i32) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut songs = Vec::new();
    for i in 0.. {
        let song = format!("song-{i}.mid");
        if seen.insert(partition_for(song.as_bytes(), partitions)) || songs.len() < 4 {
            songs.push(song);
        }
        if seen.len() == partitions as usize && songs.len() >= 4 {
            break;
        }
    }
    songs
}

fn drain(c: &mut dyn Consumer, want: usize) -> Vec<kmidi_transport::Record> {
    let mut got = Vec::new();
    let deadline = Instant::now() + T;
    while got.len() < want && Instant::now() < deadline {
        match c.poll(Duration::from_millis(200)) {
            Ok(Some(r)) => got.push(r),
            Ok(None) => {}
            Err(e) if e.is_transient() => eprintln!("transient: {e}"),
            Err(e) => panic!("poll: {e}"),
        }
    }
    got
}

/// Run with the rlib and with the loaded plugin: same transport, two ways in.
pub fn notes_round_trip_in_order_over_all_partitions(t: &dyn Transport, broker: &Broker) {
    let topic = broker.unique("round-trip");
    create(t, broker, &topic, 3);
    // Latest, created before anything is produced: must still see every record.
    let mut latest = subscribe(t, broker, &topic, OffsetReset::Latest);
    // Through the plugin ABI the host may not carry the assignment (empty then).
    let assigned = latest.assignment();
    assert!(assigned.is_empty() || assigned.len() == 3, "{assigned:?}");

    let songs = songs_covering(3);
    let total = 300;
    let mut producer = RsKafkaTransport
        .producer(&broker.config())
        .expect("producer");
    for i in 0..total {
        let song = &songs[i % songs.len()];
        let note = json!({
            "time": 0.01, "type": "note_on", "channel": 0, "note": 60 + (i % 12),
            "velocity": 64, "hex": "90 3C 40", "song": song, "seq": i / songs.len(),
        });
        producer
            .send(&topic, song.as_bytes(), note.to_string().as_bytes())
            .expect("send");
    }
    producer.flush(T).expect("flush");
    let stats = producer.stats();
    assert_eq!((stats.sent, stats.delivered, stats.failed), (300, 300, 0));
    assert!(producer.take_failures().is_empty());

    for (name, consumer) in [
        ("latest", latest.as_mut()),
        (
            "earliest",
            subscribe(t, broker, &topic, OffsetReset::Earliest).as_mut(),
        ),
    ] {
        let got = drain(consumer, total);
        assert_eq!(got.len(), total, "{name}: all records arrive");
        let mut last: BTreeMap<String, i64> = BTreeMap::new();
        let mut partitions = BTreeSet::new();
        let mut song_partition = BTreeMap::new();
        for r in &got {
            let v: serde_json::Value =
                serde_json::from_slice(r.value.as_deref().expect("value")).expect("json");
            let song = v["song"].as_str().expect("song").to_string();
            assert_eq!(r.key.as_deref(), Some(song.as_bytes()));
            let seq = v["seq"].as_i64().expect("seq");
            let prev = last.insert(song.clone(), seq).unwrap_or(-1);
            assert_eq!(seq, prev + 1, "{name}: {song} stays in order");
            assert_eq!(
                *song_partition.entry(song).or_insert(r.partition),
                r.partition
            );
            assert!(r.timestamp_ms.is_some_and(|t| t > 1_600_000_000_000));
            partitions.insert(r.partition);
        }
        assert_eq!(partitions.len(), 3, "{name}: every partition consumed");
        // Nothing more than was produced.
        assert!(consumer.poll(Duration::from_millis(300)).unwrap().is_none());
        consumer.commit().expect("commit is a no-op");
    }
}

pub fn admin_creates_and_finds_topics(broker: &Broker) {
    let topic = broker.unique("admin");
    create(&RsKafkaTransport, broker, &topic, 2);
    let admin = RsKafkaTransport.admin(&broker.config()).unwrap();
    assert_eq!(admin.topic_partitions(&topic, T).unwrap(), Some(2));
    assert_eq!(admin.topic_partitions("no-such-topic", T).unwrap(), None);
    let spec = TopicSpec {
        name: topic.clone(),
        partitions: 2,
        replication_factor: 1,
        configs: Vec::new(),
    };
    let again = admin.create_topic(&spec, T).unwrap_err().to_string();
    assert!(again.contains("already exists"), "{again}");
    let with_configs = TopicSpec {
        configs: vec![("retention.ms".into(), "5000".into())],
        name: broker.unique("configs"),
        ..spec
    };
    match admin.create_topic(&with_configs, T) {
        Err(TransportError::Unsupported { what, .. }) => assert!(what.contains("retention.ms")),
        other => panic!("{other:?}"),
    }
}

pub fn missing_topics_are_reported(broker: &Broker) {
    let sub = Subscription {
        topics: vec!["no-such-topic".into()],
        group: "g".into(),
        offset_reset: OffsetReset::Latest,
    };
    match RsKafkaTransport.consumer(&broker.config(), &sub) {
        Err(TransportError::TopicMissing { topic, .. }) => assert_eq!(topic, "no-such-topic"),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a consumer on a missing topic"),
    }
    let mut p = RsKafkaTransport.producer(&broker.config()).unwrap();
    p.send("no-such-topic", b"k", b"v").unwrap();
    p.flush(T).unwrap();
    let failures = p.take_failures();
    assert_eq!(failures.len(), 1, "a record to a missing topic is reported");
    assert!(failures[0].error.contains("does not exist"), "{failures:?}");
    assert_eq!(p.stats().failed, 1);
}

/// Produce one record, poll it; repeated, median reported (on loopback). Any
/// transport, so rskafka and rdkafka can be compared on the same broker.
pub fn one_record_latency(t: &dyn Transport, broker: &Broker) {
    let name = t.info().name;
    let topic = broker.unique("latency");
    create(&RsKafkaTransport, broker, &topic, 1);
    // Earliest plus a warm-up record, so a group join (rdkafka) is not measured.
    let mut c = subscribe(t, broker, &topic, OffsetReset::Earliest);
    let mut p = t.producer(&broker.config()).unwrap();
    let mut samples = Vec::new();
    for i in 0..51u32 {
        let started = Instant::now();
        p.send(&topic, b"k", &i.to_le_bytes()).unwrap();
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
