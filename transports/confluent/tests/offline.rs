//! What needs no broker: a cluster nobody answers for is an error within the timeout
//! for the admin client and the consumer, and the refusals made before connecting. The
//! producer, as the Java client's, connects only when it first sends (the CLI checks
//! the cluster through the admin client before it plays), so it is not asked here.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use kmidi_confluent::ConfluentTransport;
use kmidi_transport::{ClientConfig, Transport, TransportError};

fn check_unanswered(bootstrap: &str) {
    let config: ClientConfig = [
        ("bootstrap.servers", bootstrap),
        ("socket.connection.setup.timeout.ms", "1000"),
    ]
    .into_iter()
    .collect();
    let started = Instant::now();
    let admin = ConfluentTransport
        .admin(&config)
        .and_then(|a| a.topic_partitions("t", Duration::from_secs(2)));
    let consumer = ConfluentTransport.consumer(&config, &common::sub("t", "g"));
    let took = started.elapsed();
    for err in [admin.err(), consumer.err()] {
        match err {
            Some(e @ TransportError::Unreachable { .. }) => {
                let text = e.to_string();
                eprintln!("{text}");
                assert!(
                    text.contains(&format!("cannot reach Kafka at {bootstrap}")),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(took < Duration::from_secs(6), "{took:?}");
}

#[test]
fn an_unreachable_broker_is_reported_within_the_timeout() {
    check_unanswered("127.0.0.1:1");
}

#[test]
fn a_silent_listener_is_reported_within_the_timeout() {
    let silent = TcpListener::bind("127.0.0.1:0").expect("a loopback listener");
    check_unanswered(&silent.local_addr().expect("its address").to_string());
}

#[test]
fn unknown_keys_and_classic_settings_are_refused_before_connecting() {
    let config: ClientConfig = [
        ("bootstrap.servers", "127.0.0.1:1"),
        ("statistics.interval.ms", "1000"),
    ]
    .into_iter()
    .collect();
    let text = common::err_text(ConfluentTransport.producer(&config));
    assert!(
        text.contains("\"statistics.interval.ms\"") && text.contains("no such setting"),
        "{text}"
    );
    let config: ClientConfig = [
        ("bootstrap.servers", "127.0.0.1:1"),
        ("heartbeat.interval.ms", "500"),
    ]
    .into_iter()
    .collect();
    let text = common::err_text(ConfluentTransport.consumer(&config, &common::sub("t", "g")));
    assert!(
        text.contains("\"heartbeat.interval.ms\"") && text.contains("KIP-848"),
        "{text}"
    );
}
