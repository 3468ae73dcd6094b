//! The CLI's end-to-end suite, listed once for every broker version: `kafka_3_9.rs` and
//! `kafka_4.rs` each mount this file as their `suite` module, with `KAFKA` the major
//! version of their broker and `KAFKA_RUST` what the kafka-rust transport owes it. It
//! is no module of `common`, which every test binary mounts: only those two run it.
//! Each test calls a scenario (`common::scenarios`) or the conformance suite
//! (`common::conformance`) on the binary's shared broker.

use super::{KAFKA, KAFKA_RUST};
use crate::common::conformance::{self, Expect};
use crate::common::{scenarios, Broker};

kmidi_test_support::broker_suite! {
    kafka: KAFKA,
    broker: Broker::shared,
    every_message_arrives_in_order => scenarios::every_message_arrives_in_order,
    songs_keep_their_order_across_partitions =>
        scenarios::songs_keep_their_order_across_partitions,
    missing_topic_is_a_clear_error => scenarios::missing_topic_is_a_clear_error,
    garbage_record_is_counted_and_skipped => scenarios::garbage_record_is_counted_and_skipped,
    instrument_silences_every_channel_on_sigterm =>
        scenarios::instrument_silences_every_channel_on_sigterm,
    player_flushes_everything_it_sent_on_ctrl_c =>
        scenarios::player_flushes_everything_it_sent_on_ctrl_c,

    // The conformance suite: the same song through every transport.
    conformance_rdkafka => |b| conformance::round_trip(b, "rdkafka", Expect::Plays),
    conformance_kafka_rust => |b| conformance::round_trip(b, "kafka-rust", KAFKA_RUST),
    conformance_rskafka_plugin => |b| conformance::plugin_round_trip(b, "rskafka"),
    conformance_c_rdkafka_plugin => |b| conformance::plugin_round_trip(b, "c-rdkafka"),
    conformance_franz_go_plugin => |b| conformance::plugin_round_trip(b, "franz-go"),

    // The plugin author's conformance pass (`kmidi transports --check`) on each.
    transports_check_passes_the_rskafka_plugin =>
        |b| conformance::check_passes(b, "rskafka"),
    transports_check_passes_the_c_rdkafka_plugin =>
        |b| conformance::check_passes(b, "c-rdkafka"),
    transports_check_passes_the_franz_go_plugin =>
        |b| conformance::check_passes(b, "franz-go"),
}
