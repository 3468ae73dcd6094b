//! End to end against a real Apache Kafka 4.x broker (KRaft), started by scripts/kafka.sh:
//! the CLI's suite (`common/broker_suite.rs`).

mod common;

/// This binary's broker: the Kafka 4 of `KMIDI_KAFKA_VERSIONS`.
const KAFKA: &str = "4";
/// Kafka 4 removed the v0 protocols the kafka crate speaks: it must refuse, clearly.
const KAFKA_RUST: common::conformance::Expect = common::conformance::Expect::Refuses("KIP-896");

#[path = "common/broker_suite.rs"]
mod suite;
