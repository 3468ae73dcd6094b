//! confluent-kafka against Apache Kafka 3.9 (KRaft), which offers the KIP-848 consumer
//! group protocol only as an early access it does not enable by default: a group
//! consumer is refused clearly and quickly, naming the cause and what to use instead,
//! while producing, the admin client and consumers without a group work.

mod common;

use std::time::{Duration, Instant};

use kmidi_confluent::ConfluentTransport;

use kmidi_test_support::{kafka_version, Broker};
use kmidi_transport::Transport;

const T: Duration = Duration::from_secs(30);

fn broker() -> &'static Broker {
    Broker::shared(&kafka_version("3"))
}

#[test]
fn a_group_consumer_is_refused_naming_the_kip848_protocol() {
    let b = broker();
    let topic = b.unique("kip848");
    b.create_topic_with_tool(&topic, 1);
    let started = Instant::now();
    let text =
        common::err_text(ConfluentTransport.consumer(&b.config(), &common::sub(&topic, "g")));
    eprintln!("{:?}: {text}", started.elapsed());
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "{:?}",
        started.elapsed()
    );
    assert!(
        text.contains("need the KIP-848 consumer group protocol")
            && text.contains("Apache Kafka 4.0 or newer")
            && text.contains("--transport rdkafka"),
        "{text}"
    );
}

#[test]
fn producing_admin_and_a_consumer_without_a_group_work() {
    let b = broker();
    let admin = ConfluentTransport.admin(&b.config()).expect("admin");
    let topic = b.unique("no-group");
    let spec = kmidi_transport::TopicSpec {
        name: topic.clone(),
        partitions: 2,
        replication_factor: 1,
        configs: Vec::new(),
    };
    admin.create_topic(&spec, T).expect("create_topic");
    assert_eq!(admin.topic_partitions(&topic, T).unwrap(), Some(2));
    let mut consumer = ConfluentTransport
        .consumer(&b.config(), &common::sub(&topic, ""))
        .expect("a consumer without a group");
    assert_eq!(consumer.assignment().len(), 2);
    let mut p = ConfluentTransport.producer(&b.config()).expect("producer");
    for i in 0..20u8 {
        p.send(&topic, b"song.mid", &[i]).expect("send");
    }
    p.flush(T).expect("flush");
    assert_eq!(p.stats().delivered, 20);
    let mut got = Vec::new();
    let deadline = Instant::now() + T;
    while got.len() < 20 && Instant::now() < deadline {
        if let Some(r) = consumer.poll(Duration::from_millis(200)).expect("poll") {
            got.push(r.value.unwrap_or_default()[0]);
        }
    }
    assert_eq!(got, (0..20).collect::<Vec<u8>>());
}
