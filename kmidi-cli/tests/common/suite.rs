//! The end-to-end suite one broker version runs, written once: `broker_suite!` expands
//! to the `#[test]` functions of a test binary (`kafka_3_9.rs`, `kafka_4.rs`), each
//! calling a scenario or the conformance suite on that binary's shared broker.

/// `broker_suite!(ENV_VAR, "default version", kafka_rust: Expect::...)`.
#[macro_export]
macro_rules! broker_suite {
    ($env:literal, $default:literal, kafka_rust: $kafka_rust:expr) => {
        use common::conformance::{self, Expect};
        use common::{scenarios, Broker};

        fn broker() -> &'static Broker {
            Broker::shared(&std::env::var($env).unwrap_or_else(|_| $default.into()))
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

        // The conformance suite: the same song through every transport.

        #[test]
        fn conformance_rdkafka() {
            conformance::round_trip(broker(), "rdkafka", Expect::Plays);
        }

        #[test]
        fn conformance_kafka_rust() {
            conformance::round_trip(broker(), "kafka-rust", $kafka_rust);
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

        // The plugin author's conformance pass (`kmidi transports --check`) on each.

        #[test]
        fn transports_check_passes_the_rskafka_plugin() {
            conformance::check_passes(broker(), "rskafka");
        }

        #[test]
        fn transports_check_passes_the_c_rdkafka_plugin() {
            conformance::check_passes(broker(), "c-rdkafka");
        }

        #[test]
        fn transports_check_passes_the_franz_go_plugin() {
            conformance::check_passes(broker(), "franz-go");
        }
    };
}
