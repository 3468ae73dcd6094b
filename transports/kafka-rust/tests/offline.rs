//! What needs no broker: an unreachable or silent cluster is an error within the
//! timeout (the workspace's scenarios, and kafka-rust's own wording), and what
//! kafka-rust refuses before connecting: SASL, and librdkafka's mock cluster.

use std::time::{Duration, Instant};

use kmidi_kafka_rust::KafkaRustTransport;
use kmidi_rdkafka::mock::EmbeddedCluster;
use kmidi_test_support::scenarios;
use kmidi_transport::{ClientConfig, OffsetReset, Subscription, Transport, TransportError};

fn sub(topic: &str) -> Subscription {
    Subscription {
        topics: vec![topic.to_string()],
        group: String::new(),
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
fn an_unreachable_broker_is_reported_within_the_timeout() {
    scenarios::unreachable_broker_is_reported_within_the_timeout(&KafkaRustTransport);
    // With the default connection timeout too.
    let config: ClientConfig = [("bootstrap.servers", "127.0.0.1:1")].into_iter().collect();
    let started = Instant::now();
    let err = KafkaRustTransport.producer(&config).err().expect("refused");
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(6));
}

#[test]
fn a_silent_listener_is_reported_within_the_timeout() {
    let refusal = scenarios::a_silent_listener_is_reported_within_the_timeout(&KafkaRustTransport);
    assert!(
        refusal.contains("gave no usable ApiVersions answer"),
        "{refusal}"
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
        err_text(KafkaRustTransport.consumer(&config, &sub("t"))),
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
