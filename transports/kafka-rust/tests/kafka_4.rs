//! kafka-rust against Apache Kafka 4: refused before use, clearly and quickly,
//! because Kafka 4.0 removed most of the v0 protocol versions kafka-rust speaks
//! (KIP-896: Fetch v0-v3, ListOffsets v0, OffsetCommit v0-v1; Produce v0-v2 stayed).

use std::time::{Duration, Instant};

use kmidi_kafka_rust::KafkaRustTransport;
use kmidi_test_support::{kafka_version, Broker};
use kmidi_transport::{OffsetReset, Subscription, Transport, TransportError};

fn text<T>(r: Result<T, TransportError>) -> String {
    match r {
        Ok(_) => panic!("kafka-rust must refuse Kafka 4"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn kafka_4_is_refused_naming_the_minimum_versions() {
    let broker = Broker::shared(&kafka_version("4"));
    let config = broker.config();
    let sub = Subscription {
        topics: vec!["t".into()],
        group: "g".into(),
        offset_reset: OffsetReset::Earliest,
    };
    let started = Instant::now();
    let refusals = [
        text(KafkaRustTransport.producer(&config)),
        text(KafkaRustTransport.consumer(&config, &sub)),
        text(
            KafkaRustTransport
                .admin(&config)
                .unwrap()
                .topic_partitions("t", Duration::from_secs(5)),
        ),
    ];
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for t in &refusals {
        eprintln!("{t}");
        assert!(
            t.contains(&format!("the broker at {}", broker.bootstrap)),
            "{t}"
        );
        // Measured on 4.3.1: Produce v0-v2 survived KIP-896 (KAFKA-18659), the rest did not.
        assert!(
            t.contains("requires Fetch ≥ v4, ListOffsets ≥ v1, OffsetCommit ≥ v2"),
            "{t}"
        );
        assert!(
            t.contains("KIP-896") && t.contains("--transport rdkafka"),
            "{t}"
        );
        assert!(
            !t.contains("UnexpectedEof") && !t.contains("Unexpected EOF"),
            "{t}"
        );
    }
    let described = KafkaRustTransport
        .admin(&config)
        .unwrap()
        .describe_cluster(Duration::from_secs(5))
        .unwrap();
    eprintln!("{described}");
    assert!(described.contains("Fetch v4-"), "{described}");
}
