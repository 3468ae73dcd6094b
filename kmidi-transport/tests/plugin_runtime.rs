//! A real Rust plugin (`kmidi-plugin-testkit`, made with `export_transport!`) loaded
//! with dlopen: round trips through its in-memory topics, and the host's handling of
//! a plugin that fails, panics, reports transient errors or blocks.

mod common;

use std::time::{Duration, Instant};

use common::testkit_so;

use kmidi_transport::plugin::host::{check, CheckSetup, Outcome, Point};
use kmidi_transport::plugin::Deadlines;
use kmidi_transport::{
    load_plugin, ClientConfig, OffsetReset, PluginTransport, Subscription, TopicSpec, Transport,
    TransportError,
};

fn testkit() -> PluginTransport {
    load_plugin(&testkit_so()).expect("the testkit plugin loads")
}

fn mode(m: &str) -> ClientConfig {
    [("testkit.mode", m), ("testkit.block_ms", "2000")]
        .into_iter()
        .collect()
}

fn earliest(topic: &str) -> Subscription {
    Subscription {
        topics: vec![topic.to_string()],
        group: "tests".to_string(),
        offset_reset: OffsetReset::Earliest,
    }
}

#[test]
fn the_plugin_reports_its_name_and_capabilities() {
    let info = testkit().info();
    assert_eq!(info.name, "testkit");
    assert_eq!(info.library, "kmidi in-memory test transport");
    assert!(info.capabilities.timestamps && !info.capabilities.tls);
}

#[test]
fn records_round_trip_through_the_plugin_with_owned_copies() {
    let t = testkit();
    let config = mode("ok");
    let admin = t.admin(&config).expect("admin");
    assert_eq!(
        admin
            .topic_partitions("rt-topic", Duration::from_secs(1))
            .unwrap(),
        None
    );
    let spec = TopicSpec {
        name: "rt-topic".into(),
        partitions: 1,
        replication_factor: 1,
        configs: vec![("retention.ms".into(), "5000".into())],
    };
    admin
        .create_topic(&spec, Duration::from_secs(1))
        .expect("create");
    assert_eq!(
        admin
            .topic_partitions("rt-topic", Duration::from_secs(1))
            .unwrap(),
        Some(1)
    );

    let mut p = t.producer(&config).expect("producer");
    p.send("rt-topic", b"song.mid", b"{\"hex\":\"90 3C 40\"}")
        .expect("send");
    p.send("rt-topic", b"song.mid", b"").expect("send empty");
    p.flush(Duration::from_secs(1)).expect("flush");
    assert_eq!(p.stats().sent, 2);
    assert!(p.take_failures().is_empty());

    let mut c = t
        .consumer(&config, &earliest("rt-topic"))
        .expect("consumer");
    let first = c.poll(Duration::from_secs(1)).unwrap().expect("a record");
    // Copied out of the plugin's buffer: still intact after the next poll.
    let second = c.poll(Duration::from_secs(1)).unwrap().expect("a record");
    assert_eq!(first.topic, "rt-topic");
    assert_eq!(first.key.as_deref(), Some(&b"song.mid"[..]));
    assert_eq!(first.value.as_deref(), Some(&b"{\"hex\":\"90 3C 40\"}"[..]));
    assert_eq!((first.offset, second.offset), (0, 1));
    assert_eq!(second.value.as_deref(), Some(&b""[..]));
    assert!(first.timestamp_ms.is_some());
    assert!(c.poll(Duration::from_millis(20)).unwrap().is_none());
    c.commit().expect("commit");
}

#[test]
fn a_failing_constructor_passes_its_error_text_to_the_user() {
    let t = testkit();
    let err = t.producer(&mode("fail")).err().expect("fails").to_string();
    assert!(
        err.contains("testkit: producer_new failed on request"),
        "{err}"
    );
    let err = t
        .consumer(&mode("fail"), &earliest("x"))
        .err()
        .expect("fails")
        .to_string();
    assert!(err.contains("consumer_new failed on request"), "{err}");
}

#[test]
fn a_panicking_constructor_is_an_error_and_the_host_survives() {
    let t = testkit();
    let err = t
        .producer(&mode("panic-new"))
        .err()
        .expect("fails")
        .to_string();
    assert!(err.contains("panicked"), "{err}");
    assert!(err.contains("producer_new panicked on request"), "{err}");
    let admin = t
        .admin(&mode("panic-new"))
        .expect("admin handle is host-side");
    let err = admin
        .topic_partitions("t", Duration::from_secs(1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("panicked"), "{err}");
}

#[test]
fn a_panic_poisons_the_handle_and_later_calls_are_refused() {
    let t = testkit();
    let mut p = t.producer(&mode("panic")).expect("created fine");
    let err = p.send("poison", b"k", b"v").unwrap_err().to_string();
    assert!(err.contains("panicked in produce"), "{err}");
    assert!(err.contains("produce panicked on request"), "{err}");
    assert!(err.contains("poisoned"), "{err}");
    let again = p.send("poison", b"k", b"v").unwrap_err().to_string();
    assert!(
        again.contains("poisoned") && again.contains("refusing"),
        "{again}"
    );
    let flushed = p.flush(Duration::from_millis(10)).unwrap_err().to_string();
    assert!(flushed.contains("poisoned"), "{flushed}");
    drop(p); // producer_free is still called, and must not crash

    let mut c = t
        .consumer(&mode("panic"), &earliest("poison"))
        .expect("created fine");
    assert!(c
        .poll(Duration::from_millis(10))
        .unwrap_err()
        .to_string()
        .contains("panicked"));
    assert!(c
        .poll(Duration::from_millis(10))
        .unwrap_err()
        .to_string()
        .contains("poisoned"));
}

#[test]
fn a_transient_poll_error_is_reported_as_transient() {
    let t = testkit();
    let mut c = t
        .consumer(&mode("transient"), &earliest("tr"))
        .expect("consumer");
    let err = c.poll(Duration::from_millis(10)).unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(err.to_string().contains("broker restarting"), "{err}");
    assert!(c
        .poll(Duration::from_millis(10))
        .unwrap_err()
        .is_transient());
}

#[test]
fn a_plugin_that_ignores_its_timeout_cannot_hang_the_host() {
    let t = testkit().with_deadlines(Deadlines {
        constructor: Duration::from_millis(200),
        grace: Duration::from_millis(200),
    });
    let started = Instant::now();
    let admin = t.admin(&mode("block")).expect("admin");
    let err = admin
        .topic_partitions("blk", Duration::from_millis(100))
        .unwrap_err();
    assert!(matches!(err, TransportError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("ignored its timeout"), "{err}");
    let err = t
        .producer(&mode("block"))
        .err()
        .expect("abandoned")
        .to_string();
    assert!(err.contains("producer_new"), "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_flush_that_ignores_its_timeout_abandons_the_producer() {
    let quick = testkit().with_deadlines(Deadlines {
        constructor: Duration::from_secs(5),
        grace: Duration::from_millis(100),
    });
    // Blocking only while flushing: the constructor sleeps too, so give it a short nap.
    let config: ClientConfig = [("testkit.mode", "block"), ("testkit.block_ms", "600")]
        .into_iter()
        .collect();
    let mut p = quick.producer(&config).expect("producer after a nap");
    let started = Instant::now();
    let err = p.flush(Duration::from_millis(50)).unwrap_err().to_string();
    assert!(err.contains("abandoned"), "{err}");
    assert!(started.elapsed() < Duration::from_millis(500));
    let again = p.send("t", b"", b"").unwrap_err().to_string();
    assert!(again.contains("abandoned"), "{again}");
}

/// `kmidi transports --check`'s pass on the testkit in `config`'s mode: each point's
/// name and outcome, and whether the pass as a whole passed.
fn conformance(config: ClientConfig, topic: &str) -> (Vec<(&'static str, Outcome)>, bool) {
    let setup = CheckSetup {
        config,
        topic: topic.to_string(),
        timeout: Duration::from_secs(2),
    };
    let mut points = Vec::new();
    let ok = check(&testkit_so(), &setup, |p: &Point| {
        points.push((p.what, p.outcome))
    });
    (points, ok)
}

#[test]
fn the_conformance_pass_passes_every_point_of_a_good_plugin() {
    let (points, ok) = conformance(ClientConfig::new(), "check-good");
    assert!(ok, "{points:?}");
    let names: Vec<&str> = points.iter().map(|p| p.0).collect();
    for point in [
        "table",
        "entries",
        "round trip",
        "idle poll",
        "NULL topic",
        "NULL message",
    ] {
        assert!(names.contains(&point), "{point} checked: {names:?}");
    }
    assert!(points.iter().all(|p| p.1 == Outcome::Pass), "{points:?}");
}

#[test]
fn the_conformance_pass_fails_a_plugin_whose_constructors_fail() {
    let (points, ok) = conformance(mode("fail"), "check-fail");
    assert!(!ok);
    let outcome = |name| points.iter().find(|p| p.0 == name).map(|p| p.1);
    assert_eq!(outcome("table"), Some(Outcome::Pass));
    assert_eq!(outcome("producer_new"), Some(Outcome::Fail));
    assert_eq!(outcome("consumer_new"), Some(Outcome::Fail));
    assert_eq!(outcome("round trip"), Some(Outcome::Skip));
}

#[test]
fn the_conformance_pass_fails_a_plugin_whose_poll_fails_or_loses_records() {
    for (m, topic) in [
        ("poll-error", "check-poll"),
        ("undelivered", "check-undelivered"),
    ] {
        let (points, ok) = conformance(mode(m), topic);
        assert!(!ok, "{m}");
        let round_trip = points.iter().find(|p| p.0 == "round trip").map(|p| p.1);
        assert_eq!(round_trip, Some(Outcome::Fail), "{m}: {points:?}");
    }
}
