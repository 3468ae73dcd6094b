//! The rskafka transport against a real Apache Kafka 3.9 broker (KRaft).

mod common;

broker_suite!("KMIDI_KAFKA_39", "3.9.2");
