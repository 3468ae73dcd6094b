//! The rskafka transport against a real Apache Kafka 4.x broker (KRaft).

mod common;

broker_suite!("KMIDI_KAFKA_4", "4.3.1");
