//! What a broker's faults must not break, for a test binary with a broker of its own
//! (these restart it under every other test of the binary).

use std::time::Duration;

use kmidi_transport::{OffsetReset, Transport};

use super::{create_topic, poll_through_errors, subscribe};
use crate::Broker;

/// The broker restarts with fresh storage on the same port under a producer and a
/// consumer; the topic is re-created. Both keep working: every record sent after is
/// delivered, and the consumer reads on, in order, with nothing skipped from where it
/// resumes.
pub fn producer_and_consumer_survive_a_broker_restart(t: &dyn Transport, broker: &Broker) {
    let topic = broker.unique("restart");
    create_topic(t, broker, &topic, 1);
    let mut consumer = subscribe(t, broker, &topic, "", OffsetReset::Earliest);
    let mut producer = t.producer(&broker.config()).expect("producer");
    for i in 0..50 {
        producer
            .send(&topic, b"k", format!("before-{i}").as_bytes())
            .expect("send");
    }
    producer.flush(Duration::from_secs(20)).expect("flush");
    assert_eq!(
        poll_through_errors(consumer.as_mut(), 50, Duration::from_secs(30)).len(),
        50
    );

    broker.restart_fresh();
    create_topic(t, broker, &topic, 1);

    for i in 0..80 {
        producer
            .send(&topic, b"k", format!("after-{i}").as_bytes())
            .expect("send");
    }
    producer.flush(Duration::from_secs(60)).expect("flush");
    let stats = producer.stats();
    assert_eq!(stats.failed, 0, "{:?}", producer.take_failures());
    assert_eq!(stats.delivered, 130);

    let got = poll_through_errors(consumer.as_mut(), 30, Duration::from_secs(60));
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
