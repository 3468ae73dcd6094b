//! End to end against a real Apache Kafka 3.9 broker (KRaft), started by scripts/kafka.sh.
//! The kafka crate still speaks this version's protocol, so every transport plays.

mod common;

broker_suite!("KMIDI_KAFKA_39", "3.9.2", kafka_rust: Expect::Plays);
