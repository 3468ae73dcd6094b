//! `broker_suite!`: the `#[test]` functions of one real-broker test binary, each a
//! scenario run against this binary's broker of one Kafka major version (the exact
//! version from `KMIDI_KAFKA_VERSIONS`, see [`crate::kafka_version`]). Every crate's
//! `tests/kafka_3_9.rs` and `tests/kafka_4.rs` expand it.

/// The tests of a real-broker test binary.
///
/// With a transport, the transport round-trip suite ([`crate::scenarios`]), then any
/// further tests:
///
/// ```ignore
/// kmidi_test_support::broker_suite! {
///     kafka: "4",
///     transport: kmidi_rskafka::RsKafkaTransport,
///     expect: common::EXPECT,
///     the_loaded_plugin_round_trips_too => common::the_loaded_plugin_round_trips_too,
/// }
/// ```
///
/// Without, only the tests given, each `NAME => SCENARIO` calling `SCENARIO(broker)`
/// with what `broker: SHARED` returns for the version (`SHARED(&str) -> &'static B`,
/// e.g. a CLI harness's own broker type):
///
/// ```ignore
/// kmidi_test_support::broker_suite! {
///     kafka: "3",
///     broker: common::Broker::shared,
///     every_message_arrives_in_order => scenarios::every_message_arrives_in_order,
/// }
/// ```
#[macro_export]
macro_rules! broker_suite {
    (
        kafka: $major:expr,
        transport: $transport:expr,
        expect: $expect:expr
        $(, $name:ident => $scenario:expr)* $(,)?
    ) => {
        $crate::broker_suite! {
            kafka: $major,
            broker: $crate::Broker::shared,
            notes_round_trip_in_order_over_all_partitions => |b| {
                $crate::scenarios::notes_round_trip_in_order_over_all_partitions(
                    &$transport, b, &$expect,
                )
            },
            json_note_payloads_round_trip_unchanged => |b| {
                $crate::scenarios::json_note_payloads_round_trip_unchanged(&$transport, b)
            },
            poll_honours_its_timeout_on_an_idle_topic => |b| {
                $crate::scenarios::poll_honours_its_timeout_on_an_idle_topic(&$transport, b)
            },
            large_records_sent_back_to_back_are_all_delivered => |b| {
                $crate::scenarios::large_records_sent_back_to_back_are_all_delivered(
                    &$transport, b,
                )
            },
            admin_creates_and_finds_topics => |b| {
                $crate::scenarios::admin_creates_and_finds_topics(&$transport, b, &$expect)
            },
            missing_topics_are_reported => |b| {
                $crate::scenarios::missing_topics_are_reported(&$transport, b)
            },
            $($name => $scenario,)*
        }
    };
    (
        kafka: $major:expr,
        broker: $shared:expr
        $(, $name:ident => $scenario:expr)* $(,)?
    ) => {
        $(
            #[test]
            fn $name() {
                let scenario = $scenario;
                scenario($shared(&$crate::kafka_version($major)));
            }
        )*
    };
}
