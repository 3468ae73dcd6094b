//! What needs no broker: an unreachable or silent cluster is an error within the
//! timeout (the workspace's scenarios), and `-X` properties the transport cannot
//! honour are refused by name, secrets unshown.

use kmidi_rskafka::RsKafkaTransport;
use kmidi_test_support::scenarios;
use kmidi_transport::{ClientConfig, OffsetReset, Subscription, Transport, TransportError};

fn config(pairs: &[(&str, &str)]) -> ClientConfig {
    let mut c: ClientConfig = pairs.iter().copied().collect();
    c.set_default("bootstrap.servers", "127.0.0.1:1");
    c
}

fn sub() -> Subscription {
    Subscription {
        topics: vec!["t".into()],
        group: "g".into(),
        offset_reset: OffsetReset::Latest,
    }
}

#[test]
fn unreachable_broker_is_reported_within_the_timeout() {
    scenarios::unreachable_broker_is_reported_within_the_timeout(&RsKafkaTransport);
}

#[test]
fn a_silent_listener_is_reported_within_the_timeout() {
    scenarios::a_silent_listener_is_reported_within_the_timeout(&RsKafkaTransport);
}

#[test]
fn unknown_property_is_refused_by_name() {
    let c = config(&[("session.timeout.ms", "6000")]);
    for err in [
        RsKafkaTransport.producer(&c).err(),
        RsKafkaTransport.consumer(&c, &sub()).err(),
        RsKafkaTransport.admin(&c).err(),
    ] {
        match err {
            Some(TransportError::Config { key, reason }) => {
                assert_eq!(key, "session.timeout.ms");
                assert!(reason.contains("fetch.wait.max.ms"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn refused_security_settings_never_show_the_secret() {
    let c = config(&[
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "GSSAPI"),
        ("sasl.username", "alice"),
        ("sasl.password", "hunter2"),
    ]);
    let err = RsKafkaTransport.admin(&c).err().expect("GSSAPI is refused");
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("sasl.mechanism") && !shown.contains("hunter2"),
        "{shown}"
    );
}

#[test]
fn info_says_there_are_no_consumer_groups() {
    let info = RsKafkaTransport.info();
    assert_eq!(info.name, "rskafka");
    assert!(!info.capabilities.consumer_groups);
    // The host says what that means for -g, once (kmidi instrument), not the name.
    assert_eq!(info.library, "rskafka");
    assert!(
        info.library_version.starts_with("0."),
        "{}",
        info.library_version
    );
}

#[test]
fn a_share_group_is_refused_before_any_connection() {
    let err = RsKafkaTransport
        .consumer(&config(&[("kmidi.group.type", "share")]), &sub())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("has no share consumer (KIP-932)") && err.contains("franz-go plugin"),
        "{err}"
    );
    assert!(
        !err.contains("cannot reach"),
        "refused before connecting: {err}"
    );
}
