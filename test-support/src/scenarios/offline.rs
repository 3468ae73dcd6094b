//! What needs no broker: a cluster nobody answers for is an error within the timeout,
//! whichever way the client meets it.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use kmidi_transport::{ClientConfig, OffsetReset, Subscription, Transport, TransportError};

fn sub() -> Subscription {
    Subscription {
        topics: vec!["t".into()],
        group: "g".into(),
        offset_reset: OffsetReset::Latest,
    }
}

/// Nothing listens at 127.0.0.1:1: the admin's reachability check, the producer and
/// the consumer each say they cannot reach Kafka there, within their timeouts.
pub fn unreachable_broker_is_reported_within_the_timeout(t: &dyn Transport) {
    let name = t.info().name;
    let down: ClientConfig = [("bootstrap.servers", "127.0.0.1:1")].into_iter().collect();
    let started = Instant::now();
    let err = t
        .admin(&down)
        .and_then(|a| a.topic_partitions("t", Duration::from_secs(2)))
        .expect_err("unreachable");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{name}: {:?}",
        started.elapsed()
    );
    assert!(
        err.to_string()
            .contains("cannot reach Kafka at 127.0.0.1:1"),
        "{name}: {err}"
    );

    let mut bounded = down.clone();
    bounded.set("socket.connection.setup.timeout.ms", "1500");
    let started = Instant::now();
    for err in [
        t.producer(&bounded).err(),
        t.consumer(&bounded, &sub()).err(),
    ] {
        match err {
            Some(e @ TransportError::Unreachable { .. }) => assert!(
                e.to_string().contains("cannot reach Kafka at 127.0.0.1:1"),
                "{name}: {e}"
            ),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{name}: {:?}",
        started.elapsed()
    );
}

/// A listener that accepts but never answers: the consumer and the admin's
/// reachability check fail naming its address, within the connection timeout rather
/// than waiting forever. Returns the consumer's refusal, for the transport's own test
/// to check its wording.
pub fn a_silent_listener_is_reported_within_the_timeout(t: &dyn Transport) -> String {
    let name = t.info().name;
    let silent = TcpListener::bind("127.0.0.1:0").expect("a loopback listener");
    let addr = silent.local_addr().expect("its address").to_string();
    let config: ClientConfig = [
        ("bootstrap.servers", addr.as_str()),
        ("socket.connection.setup.timeout.ms", "1000"),
    ]
    .into_iter()
    .collect();
    let started = Instant::now();
    let refusal = match t.consumer(&config, &sub()) {
        Ok(_) => panic!("{name}: a consumer of a broker that never answers"),
        Err(e) => e.to_string(),
    };
    assert!(refusal.contains(&addr), "{name}: {refusal}");
    let err = t
        .admin(&config)
        .and_then(|a| a.topic_partitions("t", Duration::from_secs(2)))
        .expect_err("a broker that never answers");
    assert!(err.to_string().contains(&addr), "{name}: {err}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{name}: {:?}",
        started.elapsed()
    );
    refusal
}
