//! The optional reporting entries appended to the first v1 table, through a real Rust
//! plugin (the testkit, made with `export_transport!`) loaded with dlopen: its
//! consumer's assignment and both clients' settings cross the ABI, a consumer that
//! cannot tell reports no assignment, a panic there poisons the handle, partition
//! leaders cross it (growing the host's buffers when they do not fit), and the
//! conformance pass checks the three.

mod common;

use std::time::Duration;

use common::testkit_so;
use kmidi_transport::plugin::host::{check, CheckSetup, Outcome, Point};
use kmidi_transport::{
    load_plugin, ClientConfig, Leadership, OffsetReset, PluginTransport, Subscription, Transport,
    GROUP_TYPE_KEY,
};

fn testkit() -> PluginTransport {
    load_plugin(&testkit_so()).expect("the testkit plugin loads")
}

fn config(pairs: &[(&str, &str)]) -> ClientConfig {
    pairs.iter().copied().collect()
}

fn latest(topics: &[&str]) -> Subscription {
    Subscription {
        topics: topics.iter().map(|t| t.to_string()).collect(),
        group: "tests".to_string(),
        offset_reset: OffsetReset::Latest,
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_testkit_consumer_reports_its_assignment_through_the_abi() {
    let c = testkit()
        .consumer(&ClientConfig::new(), &latest(&["rep-a", "rep-b"]))
        .expect("consumer");
    assert!(c.reports_assignment());
    assert_eq!(
        c.assignment(),
        [("rep-a".to_string(), 0), ("rep-b".to_string(), 0)]
    );
}

#[test]
fn an_assignment_larger_than_the_first_buffer_is_read_whole() {
    let names: Vec<String> = (0..40).map(|i| format!("rep-many-{i:02}")).collect();
    let topics: Vec<&str> = names.iter().map(String::as_str).collect();
    let c = testkit()
        .consumer(&ClientConfig::new(), &latest(&topics))
        .expect("consumer");
    let got: Vec<String> = c.assignment().into_iter().map(|(t, _)| t).collect();
    assert_eq!(got, names);
}

#[test]
fn the_testkit_settings_cross_the_abi_as_key_value_pairs() {
    let t = testkit();
    let p = t.producer(&ClientConfig::new()).expect("producer");
    assert_eq!(p.settings(), pairs(&[("linger.ms", "0"), ("acks", "-1")]));
    let c = t
        .consumer(&ClientConfig::new(), &latest(&["rep-settings"]))
        .expect("consumer");
    assert_eq!(
        c.settings(),
        pairs(&[("fetch.wait.max.ms", "0"), ("fetch.min.bytes", "1")])
    );
}

#[test]
fn a_consumer_that_cannot_tell_reports_no_assignment_and_keeps_working() {
    let mut c = testkit()
        .consumer(
            &config(&[("testkit.assignment", "unreported")]),
            &latest(&["rep-unreported"]),
        )
        .expect("consumer");
    assert!(
        !c.reports_assignment(),
        "KMIDI_UNSUPPORTED reads as no entry"
    );
    assert!(c.assignment().is_empty());
    assert!(c
        .poll(Duration::from_millis(10))
        .expect("not poisoned")
        .is_none());
}

#[test]
fn a_panic_in_consumer_assignment_poisons_the_consumer() {
    let mut c = testkit()
        .consumer(
            &config(&[("testkit.mode", "panic")]),
            &latest(&["rep-panic"]),
        )
        .expect("created fine");
    assert!(c.assignment().is_empty(), "no assignment was ever known");
    let err = c.poll(Duration::from_millis(10)).unwrap_err().to_string();
    assert!(
        err.contains("poisoned") && err.contains("refusing"),
        "the host knew before polling: {err}"
    );
    assert!(c.settings().is_empty(), "a poisoned consumer is not asked");
}

#[test]
fn a_panic_in_producer_settings_reports_none_and_poisons_the_producer() {
    let mut p = testkit()
        .producer(&config(&[("testkit.mode", "panic")]))
        .expect("created fine");
    assert!(p.settings().is_empty());
    let err = p.send("rep-panic-p", b"k", b"v").unwrap_err().to_string();
    assert!(err.contains("panicked"), "{err}");
}

#[test]
fn a_share_group_is_refused_by_a_transport_without_share_groups() {
    let t = testkit();
    assert!(!t.info().capabilities.share_groups);
    let err = t
        .consumer(
            &config(&[(GROUP_TYPE_KEY, "share")]),
            &latest(&["rep-share"]),
        )
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains(GROUP_TYPE_KEY), "{err}");
}

#[test]
fn the_conformance_pass_checks_settings_and_assignment() {
    let setup = CheckSetup {
        config: ClientConfig::new(),
        topic: "rep-check".to_string(),
        timeout: Duration::from_secs(2),
    };
    let mut points = Vec::new();
    let ok = check(&testkit_so(), &setup, |p: &Point| {
        points.push((p.what, p.outcome, p.detail.clone()))
    });
    assert!(ok, "{points:?}");
    let find = |name| {
        points
            .iter()
            .find(|p| p.0 == name)
            .unwrap_or_else(|| panic!("a {name} point: {points:?}"))
    };
    let settings = find("settings");
    assert_eq!(settings.1, Outcome::Pass, "{settings:?}");
    assert!(
        settings.2.contains("linger.ms=0") && settings.2.contains("fetch.min.bytes=1"),
        "{settings:?}"
    );
    let assignment = find("assignment");
    assert_eq!(assignment.1, Outcome::Pass, "{assignment:?}");
    assert!(assignment.2.contains("rep-check[0]"), "{assignment:?}");
    let leaders = find("leaders");
    assert_eq!(leaders.1, Outcome::Pass, "{leaders:?}");
    assert!(leaders.2.contains("leaders 0->1"), "{leaders:?}");
}

fn leaders_of(pairs: &[(&str, &str)], topic: &str) -> Leadership {
    testkit()
        .admin(&config(pairs))
        .expect("admin")
        .partition_leaders(topic, Duration::from_secs(2))
        .expect("leaders")
}

#[test]
fn partition_leaders_cross_the_abi() {
    let any = ("testkit.topics", "any");
    let l = leaders_of(&[any], "rep-leaders");
    assert!(l.known);
    assert_eq!(l.brokers, [1]);
    assert_eq!(l.leaders(), [(0, Some(1))]);
    assert_eq!(
        (&l.partitions[0].replicas[..], &l.partitions[0].isr[..]),
        (&[1][..], &[1][..])
    );
    let missing = leaders_of(&[], "rep-leaders-missing");
    assert!(missing.known && !missing.topic_exists());
}

#[test]
fn leadership_bigger_than_the_first_buffers_is_read_whole() {
    let l = leaders_of(
        &[("testkit.topics", "any"), ("testkit.leaders", "many")],
        "rep-wide",
    );
    assert_eq!((l.partitions.len(), l.brokers.len()), (100, 20));
    assert!(l
        .partitions
        .iter()
        .all(|p| p.replicas.len() == 3 && p.isr == p.replicas));
    for b in 1..=20 {
        assert_eq!(l.led_by(b).len(), 5, "broker {b}");
    }
}

#[test]
fn a_plugin_that_cannot_tell_leaders_reports_them_unknown() {
    let pairs = [("testkit.topics", "any"), ("testkit.leaders", "unknown")];
    assert_eq!(leaders_of(&pairs, "rep-unknown"), Leadership::unknown(1));
    let setup = CheckSetup {
        config: config(&pairs),
        topic: "rep-check-leaders-unknown".to_string(),
        timeout: Duration::from_secs(2),
    };
    let mut points = Vec::new();
    let ok = check(&testkit_so(), &setup, |p: &Point| {
        points.push((p.what, p.outcome, p.detail.clone()))
    });
    assert!(ok, "{points:?}");
    let leaders = points.iter().find(|p| p.0 == "leaders");
    assert!(
        matches!(leaders, Some((_, Outcome::Pass, d)) if d.contains("KMIDI_UNSUPPORTED")),
        "{leaders:?}"
    );
}

#[test]
fn the_conformance_pass_skips_an_unreported_assignment_without_failing() {
    let setup = CheckSetup {
        config: config(&[("testkit.assignment", "unreported")]),
        topic: "rep-check-unreported".to_string(),
        timeout: Duration::from_secs(2),
    };
    let mut points = Vec::new();
    let ok = check(&testkit_so(), &setup, |p: &Point| {
        points.push((p.what, p.outcome, p.detail.clone()))
    });
    assert!(ok, "{points:?}");
    let assignment = points.iter().find(|p| p.0 == "assignment");
    assert!(
        matches!(assignment, Some((_, Outcome::Pass, d)) if d.contains("KMIDI_UNSUPPORTED")),
        "{assignment:?}"
    );
}
