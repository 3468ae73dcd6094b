//! confluent-kafka against a real Apache Kafka 4 broker (KRaft): the workspace's
//! transport round-trip suite, then what this transport reports about itself (the
//! settings it applies, the partitions its KIP-848 group assigned) and the classic
//! group protocol refused before any connection, naming the fix, and the partition
//! leaders its admin client describes.

mod common;

use std::time::Duration;

use kmidi_confluent::ConfluentTransport;
use kmidi_test_support::Broker;
use kmidi_transport::{ClientConfig, Transport, TransportError};

kmidi_test_support::broker_suite! {
    kafka: "4",
    transport: ConfluentTransport,
    expect: common::EXPECT,
    settings_and_assignment_are_reported => reports_settings_and_assignment,
    the_classic_group_protocol_is_refused_naming_the_fix => classic_is_refused,
    partition_leaders_are_read_from_the_cluster => leaders_are_reported,
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn reports_settings_and_assignment(broker: &Broker) {
    let topic = broker.unique("settings");
    broker.create_topic_with_tool(&topic, 2);
    let p = ConfluentTransport
        .producer(&broker.config())
        .expect("producer");
    let settings = p.settings();
    eprintln!("producer: {settings:?}");
    assert_eq!(value(&settings, "linger.ms"), Some("0"), "kmidi's default");
    assert_eq!(
        value(&settings, "acks"),
        Some("-1"),
        "the Java client's all"
    );
    assert_eq!(value(&settings, "enable.idempotence"), Some("true"));
    let mut user = broker.config();
    user.set("linger.ms", "20").set("acks", "1");
    let settings = ConfluentTransport
        .producer(&user)
        .expect("producer")
        .settings();
    assert_eq!(value(&settings, "linger.ms"), Some("20"));
    assert_eq!(value(&settings, "acks"), Some("1"));
    // acks=1 is incompatible with idempotence, which the Java client then turns off.
    assert_eq!(value(&settings, "enable.idempotence"), Some("false"));

    let mut config = broker.config();
    config.set("fetch.wait.max.ms", "10");
    let c = ConfluentTransport
        .consumer(&config, &common::sub(&topic, &broker.unique("g")))
        .expect("consumer");
    let settings = c.settings();
    eprintln!("consumer: {settings:?}");
    assert_eq!(value(&settings, "fetch.wait.max.ms"), Some("10"));
    assert_eq!(value(&settings, "fetch.min.bytes"), Some("1"));
    assert_eq!(value(&settings, "group.protocol"), Some("consumer"));
    assert_eq!(
        value(&settings, "session.timeout.ms"),
        None,
        "the broker's under KIP-848"
    );
    assert!(c.reports_assignment());
    assert_eq!(c.assignment(), vec![(topic.clone(), 0), (topic, 1)]);
}

fn classic_is_refused(broker: &Broker) {
    let topic = broker.unique("classic");
    broker.create_topic_with_tool(&topic, 1);
    for protocol in ["classic", "CLASSIC"] {
        let mut config: ClientConfig = broker.config();
        config.set("group.protocol", protocol);
        let err = ConfluentTransport
            .consumer(&config, &common::sub(&topic, "g"))
            .err()
            .expect("refused");
        let text = err.to_string();
        assert!(matches!(err, TransportError::Config { .. }), "{text}");
        assert!(
            text.contains("\"group.protocol\"")
                && text.contains("only the KIP-848 consumer group protocol")
                && text.contains("set group.protocol=consumer")
                && text.contains("--transport rdkafka"),
            "{text}"
        );
    }
}

/// The single test broker (node.id 1) leads every partition, alone in its replicas and
/// ISR; a missing topic has no partitions, and the broker is still listed.
fn leaders_are_reported(broker: &Broker) {
    let topic = broker.unique("leaders");
    broker.create_topic_with_tool(&topic, 3);
    let admin = ConfluentTransport.admin(&broker.config()).expect("admin");
    // A new topic's leaders may take a moment to be elected.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let l = loop {
        let l = admin
            .partition_leaders(&topic, Duration::from_secs(10))
            .expect("leaders");
        let led = l.topic_exists() && l.partitions.iter().all(|p| p.leader.is_some());
        if led || std::time::Instant::now() > deadline {
            break l;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(l.known, "{l:?}");
    assert_eq!(l.brokers, [1]);
    assert_eq!(l.leaders(), [(0, Some(1)), (1, Some(1)), (2, Some(1))]);
    assert!(
        l.partitions
            .iter()
            .all(|p| p.replicas == [1] && p.isr == [1]),
        "{l:?}"
    );
    let missing = admin
        .partition_leaders(&broker.unique("no-such-topic"), Duration::from_secs(10))
        .expect("a missing topic is an answer");
    assert!(missing.known && !missing.topic_exists(), "{missing:?}");
    assert_eq!(missing.brokers, [1]);
}
