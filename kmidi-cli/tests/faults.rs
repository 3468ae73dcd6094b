//! Broker faults against real Apache Kafka: a broker restarted mid-song, a broker that
//! is not there (or does not answer), and a missing topic. Every transport must fail
//! with a clear message in bounded time; rdkafka must also lose and repeat nothing. (The
//! leader of the song's partition killed in a three-node cluster is a scenario step:
//! `tests/brokers/steps.rs`.)

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use common::{
    instrument, kmidi, player_at, read_heard, recorded_bytes, repo, score_bytes, spawn, stderr,
    wait_bounded, Broker,
};
use serde_json::Value;

/// Kafka 3.9: the newest line the kafka-rust transport still speaks to.
fn broker() -> &'static Broker {
    Broker::shared(&kmidi_test_support::kafka_version("3"))
}

/// Tests that take the shared broker down hold this for writing; tests that need it up
/// hold it for reading, so a restart never fails an unrelated test.
static BROKER_UP: RwLock<()> = RwLock::new(());

/// Held by the tests that restart a broker: on two cores, a broker restarting while
/// another boots is a load no operator runs their cluster under,
/// and timing-sensitive recovery should be measured one scenario at a time.
static HEAVY: Mutex<()> = Mutex::new(());

fn heavy() -> MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

/// The last `n` lines of `text`, for a failure message.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn spawn_instrument(bootstrap: &str, topic: &str, dir: &Path, extra: &[&str]) -> Reap {
    Reap(Some(spawn(
        instrument(bootstrap, topic)
            .arg("--record")
            .arg(dir.join("heard.mid"))
            .arg("--report")
            .arg(dir.join("r.json"))
            .args(extra),
    )))
}

fn spawn_player(bootstrap: &str, topic: &str, song: &Path, speed: &str, extra: &[&str]) -> Reap {
    Reap(Some(spawn(
        player_at(bootstrap, topic, speed)
            .arg("-m")
            .arg(song)
            .args(["--flush-timeout", "60"])
            .args(extra),
    )))
}

/// A kmidi process that is killed if the test fails before waiting for it: an
/// instrument that never got a note would otherwise wait on a dead cluster forever.
struct Reap(Option<Child>);

impl Reap {
    fn take(&mut self) -> Child {
        self.0.take().expect("a child is waited for once")
    }
}

impl Drop for Reap {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn max_latency_us(report: &Value) -> u64 {
    report["histograms"]["latency"]["max_us"]
        .as_u64()
        .unwrap_or_else(|| panic!("no latency in {report}"))
}

/// The broker is halted and started again on the same port with the same data while
/// the song plays: rdkafka's idempotent producer delivers every note exactly once, the
/// instrument reconnects by itself, and the report shows the silence.
#[test]
fn rdkafka_loses_and_repeats_no_note_across_a_broker_restart() {
    let _heavy = heavy();
    let broker = broker();
    let topic = broker.unique("restart");
    broker.create_topic(&topic, 1);
    let restarting = BROKER_UP.write().unwrap_or_else(|e| e.into_inner());
    let song = repo().join("songs/ode_to_joy.mid");
    let expected = score_bytes(&song);
    let dir = tempfile::tempdir().unwrap();
    // The instrument stops on the song's last note; --idle-exit outlasts the outage
    // (no note arrives while the broker is down) and bounds the wait if notes are lost.
    let mut instrument = spawn_instrument(
        &broker.bootstrap,
        &topic,
        dir.path(),
        &[
            "--max-messages",
            &expected.len().to_string(),
            "--idle-exit",
            "30",
            // What librdkafka did, should it ever not resume: shown if the test fails.
            "-X",
            "debug=cgrp,fetch,broker",
        ],
    );
    // 0.6: about 12.5 s of song, long enough to restart the broker inside it.
    let mut player = spawn_player(&broker.bootstrap, &topic, &song, "0.6", &[]);
    std::thread::sleep(Duration::from_secs(3));
    let down = Instant::now();
    broker.restart();
    let outage = down.elapsed();
    let played = wait_bounded(player.take(), Duration::from_secs(90));
    let heard = wait_bounded(instrument.take(), Duration::from_secs(90));
    drop(restarting);

    let perr = stderr(&played);
    assert_eq!(played.status.code(), Some(0), "player: {perr}");
    assert!(
        perr.contains(&format!("sent {} message(s)", expected.len())),
        "{perr}"
    );
    assert!(!perr.contains("not delivered"), "{perr}");
    assert_eq!(
        heard.status.code(),
        Some(0),
        "instrument: {}",
        stderr(&heard)
    );
    let recorded = recorded_bytes(&dir.path().join("heard.mid"));
    assert!(
        recorded == expected,
        "every note once, in order: heard {} of {} messages; the instrument's last log lines:\n{}",
        recorded.len(),
        expected.len(),
        tail(&stderr(&heard), 150)
    );
    let r = read_heard(&dir.path().join("r.json"));
    assert_eq!(r["duplicates"], 0, "{r}");
    assert_eq!(r["songs"][0]["lost"], 0, "{r}");
    assert_eq!(r["songs"][0]["heard"], expected.len());
    // The notes sent while the broker was down waited for it: the silence is in the
    // report (the broker was unreachable for most of the restart command's time).
    let max = max_latency_us(&r);
    eprintln!("restart took {outage:?}; max latency {max} µs; report: {r}");
    assert!(
        max >= (outage / 2).as_micros() as u64 && max >= 1_000_000,
        "max latency {max} µs vs a {outage:?} restart"
    );
    assert!(r["late"].as_u64().unwrap() > 0, "{r}");
    assert!(
        r["transient_errors"].as_u64().unwrap() > 0,
        "the consumer saw the broker go: {r}"
    );
}

/// The transports to check: the built-ins and the plugins, built if need be.
fn transports() -> Vec<String> {
    let mut v = vec!["rdkafka".to_string(), "kafka-rust".to_string()];
    for plugin in ["rskafka", "c-rdkafka", "franz-go"] {
        v.push(common::conformance::plugin(plugin).display().to_string());
    }
    v
}

/// What a command on `transport` against `bootstrap` printed, and how long it took.
/// Every case runs at once (each is mostly waiting), so the whole matrix costs one
/// timeout, not one per case.
fn run_all(cases: Vec<(String, Command)>, limit: Duration) -> Vec<(String, Output, Duration)> {
    let started: Vec<(String, Child, Instant)> = cases
        .into_iter()
        .map(|(what, mut cmd)| (what, spawn(&mut cmd), Instant::now()))
        .collect();
    started
        .into_iter()
        .map(|(what, child, t0)| {
            let out = wait_bounded(child, limit.saturating_sub(t0.elapsed()));
            (what, out, t0.elapsed())
        })
        .collect()
}

/// player, instrument and topic create for every transport against `bootstrap`.
fn commands(bootstrap: &str, topic: &str, timeout: Option<&str>) -> Vec<(String, Command)> {
    let dir = std::env::temp_dir();
    let mut cases = Vec::new();
    for transport in transports() {
        for what in ["player", "instrument", "topic create"] {
            let mut cmd = kmidi();
            match what {
                "player" => cmd.args(["player", "-q", "-m", "songs/ode_to_joy.mid"]),
                "instrument" => cmd
                    .args(["instrument", "-q", "--no-port", "--record"])
                    .arg(dir.join(format!("kmidi-faults-{}.mid", std::process::id()))),
                _ => cmd.args(["topic", "create"]),
            };
            cmd.args(["-b", bootstrap, "-t", topic, "--transport", &transport]);
            if let Some(t) = timeout {
                cmd.args(["--connect-timeout", t]);
            }
            cases.push((format!("{transport} {what}"), cmd));
        }
    }
    cases
}

/// `topic create` is an admin request the kafka crate and rskafka do not have: they
/// refuse it at once, by name, instead of pretending.
fn unsupported(what: &str) -> bool {
    what.ends_with("topic create") && (what.contains("kafka-rust") || what.contains("rskafka"))
}

fn assert_clear_unreachable(results: &[(String, Output, Duration)], bound: Duration) {
    for (what, out, took) in results {
        let err = stderr(out);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(*took < bound, "{what} took {took:?}: {err}");
        if unsupported(what) {
            assert!(err.contains("not supported"), "{what}: {err}");
        } else {
            assert!(
                err.contains("cannot reach Kafka at") && err.contains("check that a broker"),
                "{what}: {err}"
            );
        }
        eprintln!("{what}: exit 1 after {took:?}");
    }
}

/// Nothing listens on the port: connections are refused at once.
#[test]
fn a_refused_connection_is_a_clear_error_within_the_connect_timeout() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The listener is dropped: the port is closed (and no broker uses it).
    let bootstrap = format!("127.0.0.1:{port}");
    let results = run_all(
        commands(&bootstrap, "midi_notes", Some("3")),
        Duration::from_secs(60),
    );
    assert_clear_unreachable(&results, Duration::from_secs(3 + 5));
}

/// Something accepts connections but never answers (a firewall or a hung broker): the
/// worst case for a client, which the connect timeout must still bound.
#[test]
fn a_silent_listener_is_a_clear_error_within_the_connect_timeout() {
    let (bootstrap, _silent) = silent_listener();
    let results = run_all(
        commands(&bootstrap, "midi_notes", Some("3")),
        Duration::from_secs(60),
    );
    assert_clear_unreachable(&results, Duration::from_secs(3 + 5));
}

/// Without --connect-timeout the bound is about 10 s.
#[test]
fn the_default_connect_timeout_is_about_ten_seconds() {
    let (bootstrap, _silent) = silent_listener();
    let cases: Vec<(String, Command)> = commands(&bootstrap, "midi_notes", None)
        .into_iter()
        .filter(|(what, _)| what.starts_with("rdkafka"))
        .collect();
    let results = run_all(cases, Duration::from_secs(60));
    for (what, _, took) in &results {
        assert!(
            *took >= Duration::from_secs(9),
            "{what} gave up early: {took:?}"
        );
    }
    assert_clear_unreachable(&results, Duration::from_secs(10 + 5));
    assert!(results
        .iter()
        .all(|(_, out, _)| stderr(out).contains("within 10s")));
}

/// Accepts TCP connections on loopback and holds them without reading or answering, on
/// a thread that ends with the test process.
fn silent_listener() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let bootstrap = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        // Bounded: enough connections for every client of every case, then stop.
        for conn in listener.incoming().take(500) {
            match conn {
                Ok(c) => held.push(c),
                Err(_) => break,
            }
        }
    });
    (bootstrap, handle)
}

/// A topic that does not exist on a live broker: an error naming the topic and the
/// fix, for every transport, in bounded time (not after the connect timeout's worth
/// of retries, and never a hang).
#[test]
fn a_missing_topic_is_a_clear_error_on_every_transport() {
    let broker = broker();
    let _up = BROKER_UP.read().unwrap_or_else(|e| e.into_inner());
    let topic = broker.unique("missing");
    let cases: Vec<(String, Command)> = commands(&broker.bootstrap, &topic, Some("5"))
        .into_iter()
        .filter(|(what, _)| !what.ends_with("topic create"))
        .collect();
    let results = run_all(cases, Duration::from_secs(60));
    for (what, out, took) in &results {
        let err = stderr(out);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(*took < Duration::from_secs(5 + 5), "{what} took {took:?}");
        assert!(
            err.contains(&format!("topic \"{topic}\" does not exist"))
                && err.contains("kmidi topic create"),
            "{what}: {err}"
        );
        eprintln!("{what}: exit 1 after {took:?}");
    }
}

/// The leader and in-sync replicas of `topic`'s `partition`, from cluster metadata.
/// What each transport can promise across a broker restart (halt, then start again
/// with the same data) in the middle of a song: run by hand for the README's table
/// (`cargo test -p kmidi --test faults -- --ignored --nocapture`); one restart per
/// transport, so about 20 s each. Every transport may be slow; none may lose a note
/// silently: a note that is not heard is one the player reported as not delivered.
#[test]
#[ignore = "a measurement (about 90 s): run by hand for the README's transport table"]
fn every_transport_across_a_broker_restart() {
    let broker = broker();
    let song = repo().join("songs/ode_to_joy.mid");
    let total = score_bytes(&song).len() as u64;
    let mut rows = Vec::new();
    let _heavy = heavy();
    for transport in transports() {
        let topic = broker.unique("restart-all");
        broker.create_topic(&topic, 1);
        let restarting = BROKER_UP.write().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let t = ["--transport", transport.as_str()];
        let mut instrument = spawn_instrument(
            &broker.bootstrap,
            &topic,
            dir.path(),
            &[&t[..], &["--idle-exit", "20"]].concat(),
        );
        let mut player = spawn_player(&broker.bootstrap, &topic, &song, "0.6", &t);
        std::thread::sleep(Duration::from_secs(3));
        broker.restart();
        let played = wait_bounded(player.take(), Duration::from_secs(120));
        let heard = wait_bounded(instrument.take(), Duration::from_secs(120));
        drop(restarting);
        let perr = stderr(&played);
        // Notes the client refused to take, and notes it took but could not deliver.
        let undelivered: u64 = [
            " message(s) could not be handed to the client",
            " message(s) were not delivered",
        ]
        .iter()
        .map(|suffix| {
            perr.lines()
                .filter_map(|l| l.strip_prefix("error: "))
                .find_map(|l| l.strip_suffix(suffix))
                .map_or(0, |n| n.trim().parse::<u64>().unwrap())
        })
        .sum();
        assert!(heard.status.success(), "{transport}: {}", stderr(&heard));
        let r = read_heard(&dir.path().join("r.json"));
        let heard_n = r["songs"][0]["heard"].as_u64().unwrap_or(0);
        let dups = r["duplicates"].as_u64().unwrap();
        let row = format!(
            "| {transport} | {heard_n}/{total} | {} | {dups} | {} | {:.1} s | {} |",
            total - heard_n.min(total),
            undelivered,
            r["histograms"]["latency"]["max_us"].as_u64().unwrap_or(0) as f64 / 1e6,
            played.status.code().unwrap_or(-1),
        );
        eprintln!("{row}");
        rows.push(row);
        // `heard` counts distinct notes; a replayed one is in `duplicates` as well.
        assert_eq!(
            heard_n,
            total - undelivered,
            "{transport}: every note not heard was reported as not delivered"
        );
    }
    eprintln!(
        "| transport | heard | lost | duplicates | reported undelivered | max latency | player exit |"
    );
    for row in rows {
        eprintln!("{row}");
    }
}
