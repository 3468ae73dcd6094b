//! kafka-rust keeps working after the broker restarts: its pooled connection is broken
//! for good (BrokenPipe on every call), so the transport must rebuild the client. The
//! workspace's restart scenario, on a broker of this binary's own: it wipes the log.

use kmidi_kafka_rust::KafkaRustTransport;
use kmidi_test_support::{kafka_version, scenarios, Broker};

#[test]
fn producer_and_consumer_survive_a_broker_restart() {
    let broker = Broker::shared(&kafka_version("3"));
    scenarios::producer_and_consumer_survive_a_broker_restart(&KafkaRustTransport, broker);
}
