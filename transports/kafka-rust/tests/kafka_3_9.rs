//! kafka-rust against a real Apache Kafka 3.9.2 broker: round trips in order on every
//! partition, the broker restarting under a producer and a consumer, and the refusals
//! that need no broker (unreachable address, SASL, librdkafka's mock cluster).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::{poll_n, Broker};
use kmidi_kafka_rust::KafkaRustTransport;
use kmidi_rdkafka::mock::EmbeddedCluster;
use kmidi_transport::{ClientConfig, OffsetReset, Subscription, Transport, TransportError};

const VERSION: &str = "3.9.2";

fn sub(topic: &str, group: &str) -> Subscription {
    Subscription {
        topics: vec![topic.to_string()],
        group: group.to_string(),
        offset_reset: OffsetReset::Earliest,
    }
}

fn err_text<T>(r: Result<T, TransportError>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn hundreds_of_records_round_trip_in_order_on_every_partition() {
    let broker = Broker::shared(VERSION);
    let topic = broker.unique("kr-round-trip");
    broker.create_topic_with_tool(&topic, 3);
    let t = KafkaRustTransport;
    let config = broker.config();
    let admin = t.admin(&config).unwrap();
    assert_eq!(
        admin
            .topic_partitions(&topic, Duration::from_secs(10))
            .unwrap(),
        Some(3)
    );
    assert_eq!(
        admin
            .topic_partitions("no-such-topic", Duration::from_secs(10))
            .unwrap(),
        None
    );
    assert!(admin
        .describe_cluster(Duration::from_secs(5))
        .unwrap()
        .contains("Produce v0-"));

    let mut consumer = t.consumer(&config, &sub(&topic, "kr-g1")).unwrap();
    assert_eq!(
        consumer.assignment().len(),
        3,
        "every partition is assigned"
    );
    let mut producer = t.producer(&config).unwrap();
    const N: usize = 300;
    for i in 0..N {
        let key = format!("song-{}", i % 7);
        producer
            .send(&topic, key.as_bytes(), format!("{i}").as_bytes())
            .unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
    let stats = producer.stats();
    assert_eq!(
        (stats.sent, stats.delivered, stats.failed),
        (N as u64, N as u64, 0)
    );
    assert!(producer.take_failures().is_empty());

    let got = poll_n(consumer.as_mut(), N, Duration::from_secs(60));
    assert_eq!(got.len(), N);
    let partitions: BTreeSet<i32> = got.iter().map(|r| r.partition).collect();
    assert_eq!(
        partitions,
        BTreeSet::from([0, 1, 2]),
        "all partitions consumed"
    );
    let mut last_offset: BTreeMap<i32, i64> = BTreeMap::new();
    let mut last_value: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for r in &got {
        assert!(
            r.timestamp_ms.is_none(),
            "magic-0 messages have no timestamp"
        );
        if let Some(prev) = last_offset.insert(r.partition, r.offset) {
            assert!(r.offset > prev, "partition {} went backwards", r.partition);
        }
        let v: usize = String::from_utf8_lossy(r.value.as_deref().unwrap())
            .parse()
            .unwrap();
        if let Some(prev) = last_value.insert(r.key.clone().unwrap(), v) {
            assert!(v > prev, "key order broken: {prev} then {v}");
        }
    }
    // Offsets are stored under the group: a new consumer of it starts after them.
    consumer.commit().unwrap();
    drop(consumer);
    let mut again = t.consumer(&config, &sub(&topic, "kr-g1")).unwrap();
    producer.send(&topic, b"song-0", b"after-commit").unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();
    let got = poll_n(again.as_mut(), 1, Duration::from_secs(20));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].value.as_deref(), Some(&b"after-commit"[..]));
    assert!(again.poll(Duration::from_millis(500)).unwrap().is_none());
}

#[test]
fn json_note_payloads_round_trip_unchanged() {
    let broker = Broker::shared(VERSION);
    let topic = broker.unique("kr-notes");
    broker.create_topic_with_tool(&topic, 1);
    let t = KafkaRustTransport;
    let config = broker.config();
    let mut consumer = t.consumer(&config, &sub(&topic, "")).unwrap();
    // Note-shaped JSON values, but only bytes to the transport: it never decodes them.
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
    let mut producer = t.producer(&config).unwrap();
    let started = Instant::now();
    for n in &notes {
        producer.send(&topic, b"ode_to_joy.mid", n).unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "send only enqueues"
    );
    producer.flush(Duration::from_secs(20)).unwrap();
    let got = poll_n(consumer.as_mut(), notes.len(), Duration::from_secs(30));
    let values: Vec<Vec<u8>> = got.iter().map(|r| r.value.clone().unwrap()).collect();
    assert_eq!(values, notes);
    assert!(got
        .iter()
        .all(|r| r.key.as_deref() == Some(&b"ode_to_joy.mid"[..])));
}

#[test]
fn poll_honours_its_timeout_on_an_idle_topic() {
    let broker = Broker::shared(VERSION);
    let topic = broker.unique("kr-idle");
    broker.create_topic_with_tool(&topic, 2);
    let mut c = KafkaRustTransport
        .consumer(&broker.config(), &sub(&topic, ""))
        .unwrap();
    let started = Instant::now();
    assert!(c.poll(Duration::from_millis(300)).unwrap().is_none());
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_millis(800),
        "{took:?}"
    );
}

#[test]
fn a_missing_topic_is_reported_as_missing() {
    let broker = Broker::shared(VERSION);
    let text = err_text(KafkaRustTransport.consumer(&broker.config(), &sub("kr-nope", "")));
    assert!(text.contains("does not exist"), "{text}");
    let err = KafkaRustTransport
        .admin(&broker.config())
        .unwrap()
        .create_topic(
            &kmidi_transport::TopicSpec {
                name: "x".into(),
                partitions: 1,
                replication_factor: 1,
                configs: vec![],
            },
            Duration::from_secs(5),
        )
        .unwrap_err();
    assert!(matches!(err, TransportError::Unsupported { .. }), "{err}");
}

#[test]
fn an_unreachable_broker_is_reported_within_the_timeout() {
    let config: ClientConfig = [("bootstrap.servers", "127.0.0.1:1")].into_iter().collect();
    let started = Instant::now();
    let err = KafkaRustTransport.producer(&config).err().expect("refused");
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("cannot reach Kafka at 127.0.0.1:1"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(6));
    // A listener that accepts but never answers: the probe's read timeout bounds it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let config: ClientConfig = [
        ("bootstrap.servers", addr.as_str()),
        ("socket.connection.setup.timeout.ms", "1000"),
    ]
    .into_iter()
    .collect();
    let started = Instant::now();
    let text = err_text(KafkaRustTransport.consumer(&config, &sub("t", "")));
    assert!(text.contains("gave no usable ApiVersions answer"), "{text}");
    let admin = KafkaRustTransport.admin(&config).unwrap();
    let err = admin
        .topic_partitions("t", Duration::from_secs(2))
        .unwrap_err();
    assert!(err.to_string().contains(&addr), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn sasl_properties_are_refused_before_connecting() {
    let config: ClientConfig = [
        ("bootstrap.servers", "127.0.0.1:1"),
        ("sasl.mechanism", "PLAIN"),
    ]
    .into_iter()
    .collect();
    let err = KafkaRustTransport.producer(&config).err().expect("refused");
    let text = err.to_string();
    assert!(matches!(err, TransportError::Config { .. }), "{text}");
    assert!(
        text.contains("sasl.mechanism")
            && text.contains("kafka-rust has no SASL support; use --transport rdkafka"),
        "{text}"
    );
}

#[test]
fn librdkafkas_mock_cluster_is_refused_clearly() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    cluster.create_topic("t", 1).unwrap();
    let config: ClientConfig = [("bootstrap.servers", cluster.bootstrap())]
        .into_iter()
        .collect();
    let started = Instant::now();
    for text in [
        err_text(KafkaRustTransport.producer(&config)),
        err_text(KafkaRustTransport.consumer(&config, &sub("t", ""))),
        err_text(
            KafkaRustTransport
                .admin(&config)
                .unwrap()
                .topic_partitions("t", Duration::from_secs(5)),
        ),
    ] {
        assert!(text.contains("librdkafka's mock cluster"), "{text}");
        assert!(text.contains("accepts only v2 record batches"), "{text}");
        assert!(text.contains("--transport rdkafka"), "{text}");
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn large_records_sent_back_to_back_are_split_below_the_brokers_request_limit() {
    let broker = Broker::shared(VERSION);
    let topic = broker.unique("kr-large");
    broker.create_topic_with_tool(&topic, 1);
    let t = KafkaRustTransport;
    let mut producer = t.producer(&broker.config()).unwrap();
    let value = vec![b'x'; 10 * 1024];
    for _ in 0..300 {
        producer.send(&topic, b"big.mid", &value).unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
    let failures = producer.take_failures();
    assert!(failures.is_empty(), "{:?}", failures.first());
    assert_eq!(
        producer.stats().delivered,
        300,
        "3 MB in 10 KB notes, none refused"
    );
}
