//! kafka-rust against a real Apache Kafka 3.9 broker (KRaft): the workspace's transport
//! round-trip suite (records in order on every partition, payloads unchanged, topics
//! found and missing, ...), and what the cluster's description says of the protocol.

mod common;

use std::time::Duration;

use kmidi_kafka_rust::KafkaRustTransport;
use kmidi_test_support::Broker;
use kmidi_transport::Transport;

kmidi_test_support::broker_suite! {
    kafka: "3",
    transport: KafkaRustTransport,
    expect: common::EXPECT,
    the_cluster_description_names_the_v0_protocol_versions => describes_v0_versions,
}

fn describes_v0_versions(broker: &Broker) {
    let described = KafkaRustTransport
        .admin(&broker.config())
        .unwrap()
        .describe_cluster(Duration::from_secs(5))
        .unwrap();
    assert!(described.contains("Produce v0-"), "{described}");
}
