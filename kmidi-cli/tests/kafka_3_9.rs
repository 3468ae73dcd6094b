//! End to end against a real Apache Kafka 3.9 broker (KRaft), started by scripts/kafka.sh.

mod common;

use common::conformance::{self, Expect};
use common::{scenarios, Broker};

fn broker() -> &'static Broker {
    Broker::shared(&std::env::var("KMIDI_KAFKA_39").unwrap_or_else(|_| "3.9.2".into()))
}

#[test]
fn every_message_arrives_in_order() {
    scenarios::every_message_arrives_in_order(broker());
}

#[test]
fn songs_keep_their_order_across_partitions() {
    scenarios::songs_keep_their_order_across_partitions(broker());
}

#[test]
fn missing_topic_is_a_clear_error() {
    scenarios::missing_topic_is_a_clear_error(broker());
}

#[test]
fn garbage_record_is_counted_and_skipped() {
    scenarios::garbage_record_is_counted_and_skipped(broker());
}

#[test]
fn instrument_silences_every_channel_on_sigterm() {
    scenarios::instrument_silences_every_channel_on_sigterm(broker());
}

#[test]
fn player_flushes_everything_it_sent_on_ctrl_c() {
    scenarios::player_flushes_everything_it_sent_on_ctrl_c(broker());
}

// The conformance suite: the same song through every transport on this broker.

#[test]
fn conformance_rdkafka() {
    conformance::round_trip(broker(), "rdkafka", Expect::Plays);
}

#[test]
fn conformance_kafka_rust() {
    conformance::round_trip(broker(), "kafka-rust", Expect::Plays);
}

#[test]
fn conformance_rskafka_plugin() {
    let so = conformance::plugin("rskafka");
    conformance::round_trip(broker(), &so.display().to_string(), Expect::Plays);
}

#[test]
fn conformance_c_rdkafka_plugin() {
    let so = conformance::plugin("c-rdkafka");
    conformance::round_trip(broker(), &so.display().to_string(), Expect::Plays);
}

#[test]
fn conformance_franz_go_plugin() {
    let so = conformance::plugin("franz-go");
    conformance::round_trip(broker(), &so.display().to_string(), Expect::Plays);
}
