//! confluent-kafka against a real Apache Kafka 4 broker (KRaft): the workspace's
//! transport round-trip suite, then what this transport reports about itself (the
//! settings it applies, the partitions its KIP-848 group assigned) and the classic
//! group protocol refused before any connection, naming the fix.

mod common;

use kmidi_confluent::ConfluentTransport;
use kmidi_test_support::Broker;
use kmidi_transport::{ClientConfig, Transport, TransportError};

kmidi_test_support::broker_suite! {
    kafka: "4",
    transport: ConfluentTransport,
    expect: common::EXPECT,
    settings_and_assignment_are_reported => reports_settings_and_assignment,
    the_classic_group_protocol_is_refused_naming_the_fix => classic_is_refused,
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
