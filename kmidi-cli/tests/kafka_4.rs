//! End to end against a real Apache Kafka 4.x broker (KRaft), started by scripts/kafka.sh.
//! Kafka 4 removed the v0 protocols the kafka crate speaks: it must refuse, clearly.

mod common;

broker_suite!("KMIDI_KAFKA_4", "4.3.1", kafka_rust: Expect::Refuses("KIP-896"));
