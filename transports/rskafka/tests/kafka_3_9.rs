//! The rskafka transport against a real Apache Kafka 3.9 broker (KRaft): the
//! workspace's transport round-trip suite, through the rlib and the loaded plugin.

mod common;

kmidi_test_support::broker_suite! {
    kafka: "3",
    transport: kmidi_rskafka::RsKafkaTransport,
    expect: common::EXPECT,
    the_loaded_plugin_round_trips_too => common::the_loaded_plugin_round_trips_too,
    one_record_latency_is_measured_against_rdkafka =>
        common::one_record_latency_is_measured_against_rdkafka,
}
