//! The admin surface (create, find) and what a missing topic does to each client.

use kmidi_transport::{OffsetReset, Subscription, TopicSpec, Transport, TransportError};

use super::{Expect, T};
use crate::Broker;

/// The admin API finds a topic's partitions and says `None` for a missing one; it
/// creates topics, refusing one that exists, or says it cannot; configs on create are
/// honoured or refused by name, never dropped.
pub fn admin_creates_and_finds_topics(t: &dyn Transport, broker: &Broker, expect: &Expect) {
    let name = t.info().name;
    let admin = t.admin(&broker.config()).expect("admin");
    let topic = broker.unique("admin");
    let spec = TopicSpec {
        name: topic.clone(),
        partitions: 2,
        replication_factor: 1,
        configs: Vec::new(),
    };
    if expect.creates_topics {
        admin.create_topic(&spec, T).expect("create_topic");
    } else {
        let err = admin.create_topic(&spec, T).unwrap_err();
        assert!(
            matches!(err, TransportError::Unsupported { .. }),
            "{name}: {err}"
        );
        broker.create_topic_with_tool(&topic, 2);
    }
    // A topic made by Kafka's tool reaches the broker's metadata a moment later.
    let until = std::time::Instant::now() + T;
    let mut found = admin.topic_partitions(&topic, T).unwrap();
    while found.is_none() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(100));
        found = admin.topic_partitions(&topic, T).unwrap();
    }
    assert_eq!(found, Some(2), "{name}");
    let missing = broker.unique("no-such-topic");
    assert_eq!(admin.topic_partitions(&missing, T).unwrap(), None);
    if !expect.creates_topics {
        return;
    }
    let again = admin.create_topic(&spec, T).unwrap_err().to_string();
    assert!(again.contains("already exists"), "{name}: {again}");
    let with_configs = TopicSpec {
        configs: vec![("retention.ms".into(), "5000".into())],
        name: broker.unique("configs"),
        ..spec
    };
    match admin.create_topic(&with_configs, T) {
        Ok(()) if expect.topic_configs => {}
        Err(TransportError::Unsupported { what, .. }) if !expect.topic_configs => {
            assert!(what.contains("retention.ms"), "{name}: {what}")
        }
        other => panic!("{name}: creating with retention.ms: {other:?}"),
    }
}

/// A consumer of a missing topic is refused naming it; a record sent to one comes back
/// as a delivery failure saying so, never silently dropped.
pub fn missing_topics_are_reported(t: &dyn Transport, broker: &Broker) {
    let name = t.info().name;
    let missing = broker.unique("no-such-topic");
    let sub = Subscription {
        topics: vec![missing.clone()],
        group: broker.unique("missing"),
        offset_reset: OffsetReset::Latest,
    };
    match t.consumer(&broker.config(), &sub) {
        Err(TransportError::TopicMissing { topic, .. }) => assert_eq!(topic, missing),
        Err(other) => panic!("{name}: {other}"),
        Ok(_) => panic!("{name}: a consumer on a missing topic"),
    }
    let mut p = t.producer(&broker.config()).expect("producer");
    p.send(&missing, b"k", b"v").expect("send only enqueues");
    p.flush(T)
        .expect("flush ends; the failure is reported apart");
    let failures = p.take_failures();
    assert_eq!(
        failures.len(),
        1,
        "{name}: a record to a missing topic is reported"
    );
    assert!(
        failures[0].error.contains("does not exist"),
        "{name}: {failures:?}"
    );
    assert_eq!(p.stats().failed, 1);
}
