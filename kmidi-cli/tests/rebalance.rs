//! The rebalance lab against a real Apache Kafka 4.3.1 broker: churned groups of
//! member processes on both sides of a compare, the classic protocol against KIP-848's,
//! assignments reported through the plugin ABI, and share-group playback.
//!
//! One broker for the binary, with KIP-848's session and heartbeat (which the broker
//! decides) set to what the classic sides ask for themselves: 10 s and 2 s, so a kill
//! is noticed within the song under both protocols.

mod common;

use std::sync::OnceLock;

use common::{assert_churn_applied, churn_events, conformance, kmidi, read_report, run, stderr};
use serde_json::Value;

const CLASSIC_TIMEOUTS: [&str; 4] = [
    "--xa",
    "session.timeout.ms=10000",
    "--xa",
    "heartbeat.interval.ms=2000",
];

fn broker() -> &'static kmidi_test_support::Broker {
    static BROKER: OnceLock<kmidi_test_support::Broker> = OnceLock::new();
    BROKER.get_or_init(|| {
        kmidi_test_support::Broker::start_with(
            &kmidi_test_support::kafka_version("4"),
            &[
                "group.consumer.min.session.timeout.ms=6000",
                "group.consumer.session.timeout.ms=10000",
                "group.consumer.min.heartbeat.interval.ms=1000",
                "group.consumer.heartbeat.interval.ms=2000",
            ],
        )
    })
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kmidi-rebalance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir.join(name)
}

/// `kmidi compare` on the lab broker, quiet, writing its report; add the sides.
fn compare(prefix: &str, report: &std::path::Path) -> std::process::Command {
    let mut c = kmidi();
    c.args(["compare", "-q", "-b", &broker().bootstrap, "-t", prefix])
        .arg("--record")
        .arg(tmp(&format!("{prefix}.mid")))
        .arg("--report")
        .arg(report);
    c
}

/// Creates `topic` with `partitions` through `kmidi topic create`.
fn topic_with(topic: &str, partitions: u32) {
    let out = run(kmidi()
        .args(["topic", "create", "-b", &broker().bootstrap, "-t", topic])
        .args(["--partitions", &partitions.to_string()]));
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Runs `cmd` (a [`compare`]), requires it to succeed, and returns its stderr and the
/// report it wrote to `report`.
fn succeeded(cmd: &mut std::process::Command, report: &std::path::Path) -> (String, Value) {
    let out = run(cmd);
    let err = stderr(&out);
    assert!(out.status.success(), "compare failed:\n{err}");
    (err, read_report(report))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("{v} is not a count"))
}

fn setting<'a>(side: &'a Value, role: &str, key: &str) -> Option<&'a str> {
    side["settings"][role]
        .as_array()?
        .iter()
        .find(|kv| kv[0] == key)
        .and_then(|kv| kv[1].as_str())
}

#[test]
fn classic_and_consumer_protocols_are_measured_under_the_same_churn() {
    let report = tmp("protocols.json");
    let (err, doc) = succeeded(
        compare(&broker().unique("lab"), &report)
            .args(["--a", "rdkafka", "--xa", "group.protocol=classic"])
            .args(CLASSIC_TIMEOUTS)
            .args(["--b", "rdkafka", "--xb", "group.protocol=consumer"])
            .args([
                "--churn",
                "join@4s,leave@9s,kill@14s",
                "-m",
                "bach_prelude_c.mid",
            ]),
        &report,
    );
    // Same library on both sides: the labels carry what differs.
    assert!(
        err.contains("rebalances, A (rdkafka group.protocol=classic"),
        "{err}"
    );
    assert!(
        err.contains("rebalances, B (rdkafka group.protocol=consumer)"),
        "{err}"
    );
    let sides = doc["sides"].as_array().expect("two sides");
    assert_eq!(
        setting(&sides[0], "consumer", "group.protocol"),
        Some("classic")
    );
    assert_eq!(
        setting(&sides[1], "consumer", "group.protocol"),
        Some("consumer")
    );
    for side in sides {
        let label = side["label"].as_str().unwrap_or_default();
        // Applied where the score says, on both sides alike.
        let ev = assert_churn_applied(side, [4.0, 9.0, 14.0]);
        let group = &side["rebalance"]["group"];
        assert_eq!(group["reports_assignment"], true, "{label}");
        // A crashed member's partitions wait for its session to time out (10 s) under
        // either protocol before the group is whole again.
        let kill = &ev[2];
        let stable = kill["stable_after_s"].as_f64();
        assert!(stable.is_some_and(|s| s > 5.0), "{label}: kill {kill}");
        let orphaned = kill["silences"]
            .as_array()
            .and_then(|s| {
                s.iter()
                    .filter_map(|p| p["beyond_score_ms"].as_f64())
                    .reduce(f64::max)
            })
            .unwrap_or(0.0);
        assert!(
            orphaned > 5000.0,
            "{label}: the kill silenced nothing? {kill}"
        );
        // The events' figures are the notes heard, charged out: nothing counted twice
        // or made up.
        let instrument = &side["instrument"];
        let song = &instrument["songs"][0];
        let sent = u(&side["player"]["sent"]);
        let missing = u(&song["lost"]) + u(&song["missed_start"]) + u(&song["missed_end"]);
        assert_eq!(u(&song["total"]), sent, "{label}: {song}");
        assert_eq!(u(&song["heard"]) + missing, sent, "{label}: {song}");
        let sum = |k: &str| ev.iter().map(|e| u(&e[k])).sum::<u64>();
        assert!(sum("lost") <= missing, "{label}: {song}");
        assert!(sum("duplicated") <= u(&instrument["duplicates"]), "{label}");
        assert!(sum("late") <= u(&instrument["late"]), "{label}");
    }
}

#[test]
fn plugins_report_their_assignment_through_the_abi() {
    let (c, go) = (
        conformance::plugin("c-rdkafka"),
        conformance::plugin("franz-go"),
    );
    let report = tmp("plugins.json");
    let (err, doc) = succeeded(
        compare(&broker().unique("plugins"), &report)
            .arg("--a")
            .arg(&c)
            .arg("--b")
            .arg(&go)
            .args([
                "--members",
                "2",
                "--churn",
                "leave@6s",
                "-m",
                "ode_to_joy.mid",
            ]),
        &report,
    );
    for side in doc["sides"].as_array().expect("two sides") {
        let label = side["label"].as_str().unwrap_or_default();
        let group = &side["rebalance"]["group"];
        assert_eq!(group["reports_assignment"], true, "{label}");
        let changes = group["changes"].as_array().expect("changes");
        for member in [0, 1] {
            assert!(
                changes
                    .iter()
                    .any(|c| c["member"] == member && c["partitions"].is_array()),
                "{label}: member {member} never reported an assignment: {group}"
            );
        }
        let leave = &churn_events(side)[0];
        assert!(
            leave["stable_after_s"].as_f64().is_some(),
            "{label}: {leave}"
        );
    }
    // Like with like: the C plugin runs the librdkafka the built-in links.
    assert!(err.contains("acks="), "effective settings shown: {err}");
    let listed = String::from_utf8_lossy(
        &run(kmidi()
            .arg("transports")
            .arg("--plugin-dir")
            .arg(c.parent().expect("the plugin's directory")))
        .stdout,
    )
    .into_owned();
    let builtin = listed
        .lines()
        .find(|l| l.starts_with("rdkafka"))
        .unwrap_or_default();
    let plugin = listed
        .lines()
        .find(|l| l.starts_with("c-rdkafka"))
        .unwrap_or_default();
    let version = |line: &str| {
        line.split_whitespace()
            .find(|w| w.starts_with("2."))
            .map(str::to_string)
    };
    assert!(version(builtin).is_some(), "{listed}");
    assert_eq!(version(builtin), version(plugin), "{listed}");
}

#[test]
fn a_share_group_plays_what_it_is_given() {
    let go = conformance::plugin("franz-go");
    let b = broker();
    let topic = b.unique("share");
    topic_with(&topic, 2);
    let played =
        run(common::player_at(&b.bootstrap, &topic, "0.2").args(["-m", "songs/ode_to_joy.mid"]));
    assert!(played.status.success(), "{}", stderr(&played));
    let report = tmp("share.json");
    let out = run(kmidi()
        .args([
            "instrument",
            "-q",
            "-b",
            &b.bootstrap,
            "-t",
            &topic,
            "--share",
        ])
        .args(["-g", &format!("share-{topic}"), "--from", "earliest"])
        .args(["--idle-exit", "10", "--no-port", "--transport"])
        .arg(&go)
        .arg("--report")
        .arg(&report));
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("share group share-{topic}")), "{err}");
    let doc = read_report(&report);
    let side = &doc["sides"][0];
    let song = &side["instrument"]["songs"][0];
    assert_eq!(
        u(&song["heard"]),
        125,
        "every note of the song, once or more: {song}"
    );
    assert!(
        side["client_properties"]
            .as_array()
            .is_some_and(|p| p.iter().any(|kv| kv == "kmidi.group.type=share")),
        "{side}"
    );
    // The built-in library has no share consumer: refused, naming the alternative.
    let refused = run(kmidi().args([
        "instrument",
        "-q",
        "-b",
        &b.bootstrap,
        "-t",
        &topic,
        "--share",
        "--no-port",
    ]));
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("has no share groups (KIP-932)"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn an_instrument_churns_its_own_group_at_song_times() {
    let b = broker();
    let topic = b.unique("solo");
    topic_with(&topic, 4);
    let report = tmp("solo.json");
    let instrument = common::spawn(
        kmidi()
            .args([
                "instrument",
                "-q",
                "-b",
                &b.bootstrap,
                "-t",
                &topic,
                "-g",
                &topic,
            ])
            .args([
                "--members",
                "2",
                "--churn",
                "leave@6s",
                "--no-port",
                "--idle-exit",
                "10",
            ])
            .arg("--report")
            .arg(&report),
    );
    // The group settles before the song: members are up once it names them in its log.
    std::thread::sleep(std::time::Duration::from_secs(8));
    let played = run(common::player_at(&b.bootstrap, &topic, "1").args([
        "--key-by",
        "voice",
        "-m",
        "songs/ode_to_joy.mid",
    ]));
    assert!(played.status.success(), "{}", stderr(&played));
    let out = common::wait_bounded(instrument, std::time::Duration::from_secs(90));
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("rebalances, instrument: 2 members, 4 partitions, churn leave@6s"),
        "{err}"
    );
    let doc = read_report(&report);
    let side = &doc["sides"][0];
    let leave = &churn_events(side)[0];
    let applied = leave["applied_at_s"].as_f64().unwrap_or(-1.0);
    assert!(
        (applied - 6.0).abs() < 0.5,
        "applied at the song's 6 s: {leave}"
    );
    assert!(leave["stable_after_s"].as_f64().is_some(), "{leave}");
    // Every partition carried notes: the voices spread the song.
    let partitions = side["instrument"]["partitions"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(partitions, 4, "{}", side["instrument"]["partitions"]);
}

#[test]
fn equalize_sets_both_libraries_alike_and_names_what_stays_different() {
    let go = conformance::plugin("franz-go");
    let report = tmp("equalize.json");
    let (err, doc) = succeeded(
        compare(&broker().unique("equal"), &report)
            .args(["--a", "rdkafka", "--b"])
            .arg(&go)
            .args([
                "--equalize",
                "--xb",
                "linger.ms=5",
                "-m",
                "ode_to_joy.mid",
                "-s",
                "0.3",
            ]),
        &report,
    );
    let sides = doc["sides"].as_array().expect("two sides");
    for side in sides {
        // librdkafka's 500 ms and franz-go's 5 s fetch waits, made alike.
        assert_eq!(
            setting(side, "consumer", "fetch.wait.max.ms"),
            Some("10"),
            "{side}"
        );
        assert_eq!(
            setting(side, "consumer", "fetch.min.bytes"),
            Some("1"),
            "{side}"
        );
    }
    assert_eq!(setting(&sides[0], "producer", "linger.ms"), Some("0"));
    // The user's own value wins, and the difference is said.
    assert_eq!(setting(&sides[1], "producer", "linger.ms"), Some("5"));
    assert!(err.contains("B: not equalized: linger.ms: set by"), "{err}");
    assert!(
        err.contains("still different after --equalize: linger.ms: A 0, B 5"),
        "{err}"
    );
    assert!(!err.contains("acks: A"), "acks is alike: {err}");
}
