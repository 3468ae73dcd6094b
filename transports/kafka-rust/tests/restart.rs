//! kafka-rust keeps working after the broker restarts: its pooled connection is broken
//! for good (BrokenPipe on every call), so the transport must rebuild the client. The
//! broker comes back on the same port with fresh storage, so the topic is re-created;
//! the consumer keeps its position (50), as it would on a broker that kept its log, and
//! reads on from there once the new log reaches it.

mod common;

use std::time::Duration;

use common::{poll_n, Broker};
use kmidi_kafka_rust::KafkaRustTransport;
use kmidi_transport::{OffsetReset, Subscription, Transport};

#[test]
fn producer_and_consumer_survive_a_broker_restart() {
    let broker = Broker::shared("3.9.2");
    let topic = broker.unique("kr-restart");
    broker.create_topic_with_tool(&topic, 1);
    let t = KafkaRustTransport;
    let config = broker.config();
    let sub = Subscription {
        topics: vec![topic.clone()],
        group: String::new(),
        offset_reset: OffsetReset::Earliest,
    };
    let mut consumer = t.consumer(&config, &sub).unwrap();
    let mut producer = t.producer(&config).unwrap();
    for i in 0..50 {
        producer
            .send(&topic, b"k", format!("before-{i}").as_bytes())
            .unwrap();
    }
    producer.flush(Duration::from_secs(20)).unwrap();
    assert_eq!(
        poll_n(consumer.as_mut(), 50, Duration::from_secs(30)).len(),
        50
    );

    broker.restart_fresh();
    broker.create_topic_with_tool(&topic, 1);

    for i in 0..80 {
        producer
            .send(&topic, b"k", format!("after-{i}").as_bytes())
            .unwrap();
    }
    producer.flush(Duration::from_secs(60)).unwrap();
    let stats = producer.stats();
    assert_eq!(stats.failed, 0, "{:?}", producer.take_failures());
    assert_eq!(stats.delivered, 130);

    let got = poll_n(consumer.as_mut(), 30, Duration::from_secs(60));
    let values: Vec<String> = got
        .iter()
        .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
        .collect();
    // The wiped log restarts at offset 0. The consumer resumes at its old position (50)
    // if the new log reached it before the next fetch, or else, told its offset is out
    // of range, from the earliest one as its reset policy says: either way it reads on,
    // in order, with nothing skipped from where it starts.
    let start = if values.first().map(String::as_str) == Some("after-0") {
        0
    } else {
        50
    };
    let expected: Vec<String> = (start..start + 30).map(|i| format!("after-{i}")).collect();
    assert_eq!(values, expected);
}
