//! The rskafka suite one broker version runs, written once: `broker_suite!` expands to
//! the `#[test]` functions of `kafka_3_9.rs` and `kafka_4.rs`.

/// `broker_suite!(ENV_VAR, "default version")`.
#[macro_export]
macro_rules! broker_suite {
    ($env:literal, $default:literal) => {
        use common::{scenarios, Broker};
        use kmidi_rskafka::RsKafkaTransport;

        fn broker() -> &'static Broker {
            Broker::shared(&std::env::var($env).unwrap_or_else(|_| $default.into()))
        }

        #[test]
        fn notes_round_trip_in_order_over_all_partitions() {
            scenarios::notes_round_trip_in_order_over_all_partitions(&RsKafkaTransport, broker());
        }

        #[test]
        fn the_loaded_plugin_round_trips_too() {
            let plugin =
                kmidi_transport::load_plugin(&common::plugin_path()).expect("plugin loads");
            scenarios::notes_round_trip_in_order_over_all_partitions(&plugin, broker());
        }

        #[test]
        fn admin_creates_and_finds_topics() {
            scenarios::admin_creates_and_finds_topics(broker());
        }

        #[test]
        fn missing_topics_are_reported() {
            scenarios::missing_topics_are_reported(broker());
        }

        #[test]
        fn one_record_latency_is_measured_against_rdkafka() {
            scenarios::one_record_latency(&RsKafkaTransport, broker());
            scenarios::one_record_latency(&kmidi_rdkafka::RdKafkaTransport, broker());
        }
    };
}
