//! Shared harness for the CLI's integration tests: one real Apache Kafka broker per test
//! binary (from `kmidi-test-support`, the only way to `scripts/kafka.sh`), the `kmidi`
//! commands the tests run (player, instrument, signals to them, bounded waits), and
//! readers for what the instrument recorded and reported.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use kmidi_test_support::repo;

pub fn kmidi() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kmidi"));
    // kmidi's own default: warnings, and librdkafka's debug lines when -X debug asks.
    c.current_dir(repo())
        .env("RUST_LOG", "warn,librdkafka=debug");
    c
}

pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("kmidi runs");
    eprintln!(
        "--- {:?}\n{}{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// This test binary's real broker (from `kmidi-test-support`), with topics created
/// through `kmidi topic create` itself.
pub struct Broker {
    inner: &'static kmidi_test_support::Broker,
}

impl std::ops::Deref for Broker {
    type Target = kmidi_test_support::Broker;

    fn deref(&self) -> &Self::Target {
        self.inner
    }
}

impl Broker {
    /// The broker of `version` for this test binary, started on first use.
    pub fn shared(version: &str) -> &'static Broker {
        static BROKER: OnceLock<Broker> = OnceLock::new();
        BROKER.get_or_init(|| Broker {
            inner: kmidi_test_support::Broker::shared(version),
        })
    }

    pub fn create_topic(&self, topic: &str, partitions: u32) {
        let out = run(kmidi().args([
            "topic",
            "create",
            "-b",
            &self.bootstrap,
            "-t",
            topic,
            "--partitions",
            &partitions.to_string(),
            "--retention-ms",
            "600000",
        ]));
        assert!(
            out.status.success(),
            "topic create failed: {}",
            stderr(&out)
        );
    }
}

/// `kmidi player` on `topic`, quiet, at `speed` (`-s`: 0.5 is twice as fast as written);
/// add `-m`.
pub fn player_at(bootstrap: &str, topic: &str, speed: &str) -> Command {
    let mut c = kmidi();
    c.args(["player", "-q", "-b", bootstrap, "-t", topic, "-s", speed]);
    c
}

/// `kmidi player` on `topic`, quiet and ten times as fast as written; add `-m`.
pub fn player(bootstrap: &str, topic: &str) -> Command {
    player_at(bootstrap, topic, "0.1")
}

/// `kmidi instrument` on `topic` in consumer group `group`, from the earliest offset,
/// to no port; add what it should write.
pub fn instrument_in(bootstrap: &str, topic: &str, group: &str) -> Command {
    let mut c = kmidi();
    c.args([
        "instrument",
        "-q",
        "-b",
        bootstrap,
        "-t",
        topic,
        "-g",
        group,
    ])
    .args(["--from", "earliest", "--no-port"]);
    c
}

/// [`instrument_in`] a group of the topic's own (`g-TOPIC`).
pub fn instrument(bootstrap: &str, topic: &str) -> Command {
    instrument_in(bootstrap, topic, &format!("g-{topic}"))
}

/// Starts `cmd` with its stdout and stderr captured, for [`wait_bounded`] or
/// [`exit_within`] (which drain them).
pub fn spawn(cmd: &mut Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?} starts: {e}"))
}

/// Starts an instrument that records to `record` and exits after `idle` seconds of
/// silence once notes have arrived.
pub fn spawn_instrument(broker: &Broker, topic: &str, record: &Path, idle: u32) -> Child {
    spawn(
        instrument(&broker.bootstrap, topic)
            .arg("--record")
            .arg(record)
            .args(["--idle-exit", &idle.to_string()]),
    )
}

/// Sends `sig` (`INT`, `TERM`, ...) to `child`, as a user's Ctrl-C or a service manager
/// would.
pub fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{sig} {}", child.id());
}

/// The N of the player's `sent N message(s)` line.
pub fn sent_count(player_stderr: &str) -> usize {
    player_stderr
        .lines()
        .find_map(|l| l.strip_prefix("sent "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no 'sent N' line in: {player_stderr}"))
}

/// The JSON an instrument (or `kmidi compare`) wrote with `--report`.
pub fn read_report(path: &Path) -> serde_json::Value {
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("the report was written"))
            .expect("the report is JSON");
    assert_eq!(
        doc["schema_version"], 1,
        "a report of the schema these tests know"
    );
    doc
}

/// What the one instrument of an `instrument` or `demo` report heard
/// (`sides[0].instrument`).
/// A side's rebalance events from its `--report`.
pub fn churn_events(side: &serde_json::Value) -> &Vec<serde_json::Value> {
    side["rebalance"]["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no rebalance events in {side}"))
}

/// A side churned by `join@A,leave@B,kill@C` (`at_s` = [A, B, C]): its events are
/// those three, each applied within 0.5 s of its score time, and its group started 4
/// members (3, then one joined). Returns the events.
pub fn assert_churn_applied(side: &serde_json::Value, at_s: [f64; 3]) -> &Vec<serde_json::Value> {
    let label = side["label"].as_str().unwrap_or_default();
    let ev = churn_events(side);
    let kinds: Vec<&str> = ev.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["join", "leave", "kill"], "{label}");
    for (e, at) in ev.iter().zip(at_s) {
        let applied = e["applied_at_s"].as_f64().unwrap_or(-1.0);
        assert!((applied - at).abs() < 0.5, "{label}: {e}");
    }
    let group = &side["rebalance"]["group"];
    assert_eq!(group["members_started"], 4, "{label}: 3, then one joined");
    ev
}

pub fn read_heard(path: &Path) -> serde_json::Value {
    let mut doc = read_report(path);
    let sides = doc["sides"].as_array_mut().expect("a report has sides");
    assert_eq!(sides.len(), 1, "one instrument");
    sides[0]["instrument"].take()
}

/// Waits for a child with a bound, killing it if the bound passes.
pub fn wait_bounded(child: Child, limit: Duration) -> Output {
    exit_within(child, limit).0
}

/// Waits for `child` at most `limit`, killing it there; returns its output, how long it
/// ran, and whether it exited by itself.
pub fn exit_within(mut child: Child, limit: Duration) -> (Output, Duration, bool) {
    // Drained while waiting: a child that writes more than a pipe holds (librdkafka's
    // debug log, say) would otherwise block on its next write and look hung.
    fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    }
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let started = Instant::now();
    let mut exited = false;
    while started.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            exited = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let took = started.elapsed();
    if !exited {
        let _ = child.kill();
    }
    let status = child.wait().expect("child exit status");
    let out = Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    eprintln!(
        "--- child (exit {:?} after {took:?})\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, took, exited)
}

/// The channel messages of a song, as the player sends them.
pub fn score_bytes(path: &Path) -> Vec<Vec<u8>> {
    kmidi_midi::score::Score::load(path)
        .expect("bundled song loads")
        .events
        .iter()
        .map(|e| e.message.bytes().to_vec())
        .collect()
}

/// What the instrument played, in order, without the silencing messages it sends last.
pub fn recorded_bytes(path: &Path) -> Vec<Vec<u8>> {
    let mut played: Vec<Vec<u8>> = kmidi_midi::sink::read_recording(path)
        .expect("recording is a MIDI file")
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    let silence = kmidi_midi::message::silence_all_channels().len();
    assert!(
        played.len() >= silence,
        "the recording ends with the silencing messages"
    );
    let tail = played.split_off(played.len() - silence);
    let expected: Vec<Vec<u8>> = kmidi_midi::message::silence_all_channels()
        .iter()
        .map(|m| m.bytes().to_vec())
        .collect();
    assert_eq!(
        tail, expected,
        "the instrument silences every channel at the end"
    );
    played
}

pub fn songs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("songs"))
        .expect("songs/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "mid"))
        .collect();
    v.sort();
    v
}
pub mod conformance;
pub mod kcat;
pub mod scenarios;
