//! Broker steps scripted at song times (`--scenario` with `--fault-driver script`) on
//! this binary's three-node cluster: `kmidi instrument` runs the steps (its song time
//! from the first note heard) while `kmidi player` plays; rdkafka with acks=all and
//! idempotence. Each test leaves every broker up: the steps put back what they took
//! down, and kmidi does at exit what a step could not.

use std::path::Path;
use std::process::Child;
use std::time::Duration;

use serde_json::Value;

use super::common::{
    instrument, kmidi, player_at, read_report, repo, run, score_bytes, spawn, stderr, wait_bounded,
};
use super::{cluster, serial};

const SONG: &str = "songs/ode_to_joy.mid";
/// The project's script acts on the cluster's nodes.
const SCRIPT: [&str; 2] = ["--fault-driver", "script"];

/// A topic of one partition on all three nodes, for this test alone.
fn topic(name: &str) -> String {
    let topic = format!("steps-{name}-{}", std::process::id());
    let created = run(kmidi().args([
        "topic",
        "create",
        "-b",
        &cluster().bootstrap,
        "-t",
        &topic,
        "--partitions",
        "1",
        "--replication-factor",
        "3",
        "--retention-ms",
        "600000",
    ]));
    assert!(created.status.success(), "{}", stderr(&created));
    topic
}

/// The instrument running `scenario` (and `extra`: its `--fault-driver`...) until it heard every note of the
/// song, and the player playing it at `speed`; both waited for, bounded by `limit`.
fn play(dir: &Path, topic: &str, speed: &str, scenario: &str, extra: &[&str], limit: u64) -> Value {
    let b = &cluster().bootstrap;
    let song = repo().join(SONG);
    let notes = score_bytes(&song).len();
    let instrument: Child = spawn(
        instrument(b, topic)
            .args(["-X", "acks=all", "--idle-exit", "40"])
            .args(["--max-messages", &notes.to_string()])
            .args(["--scenario", scenario])
            .args(extra)
            .arg("--report")
            .arg(dir.join("r.json")),
    );
    let player: Child = spawn(
        player_at(b, topic, speed)
            .args(["-X", "acks=all", "-X", "enable.idempotence=true"])
            .arg("-m")
            .arg(&song)
            .args(["--flush-timeout", "60"]),
    );
    let limit = Duration::from_secs(limit);
    let played = wait_bounded(player, limit);
    let heard = wait_bounded(instrument, limit);
    assert_eq!(played.status.code(), Some(0), "player: {}", stderr(&played));
    assert!(!stderr(&played).contains("not delivered"));
    assert_eq!(
        heard.status.code(),
        Some(0),
        "instrument: {}",
        stderr(&heard)
    );
    let doc = read_report(&dir.join("r.json"));
    let heard = &doc["sides"][0]["instrument"];
    assert_eq!(heard["songs"][0]["lost"], 0, "{heard}");
    assert_eq!(heard["songs"][0]["heard"], notes, "{heard}");
    assert_eq!(heard["duplicates"], 0, "{heard}");
    doc
}

/// Every node answers as a running broker of the cluster (nothing left down).
fn all_up() {
    let status = kmidi_test_support::kafka_sh(&["status"]);
    let text = String::from_utf8_lossy(&status.stdout);
    let c = cluster();
    for id in 1..=c.nodes {
        let node = c.node(id);
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("{node} ")) && l.ends_with(" running")),
            "{node} is running: {text}"
        );
    }
}

fn step<'a>(doc: &'a Value, label_starts: &str) -> &'a Value {
    doc["faults"]["steps"]
        .as_array()
        .expect("the report has the fault steps")
        .iter()
        .find(|s| s["label"].as_str().unwrap().starts_with(label_starts))
        .unwrap_or_else(|| panic!("no step {label_starts}: {}", doc["faults"]))
}

/// The longest silence of partition 0 during a step (one side).
fn silence(step: &Value) -> f64 {
    step["sides"][0]["partitions"][0]["longest_s"]
        .as_f64()
        .expect("a silence per partition")
}

/// The leader of the song's partition is SIGKILLed and started again 2.5 s later, then
/// every broker is restarted in turn: with acks=all every
/// note arrives once, the kill is heard as a silence of seconds (a failover), and the
/// report says when the ISR was full again after each.
#[test]
fn a_leader_kill_and_a_rolling_restart_lose_no_note_with_acks_all() {
    let _serial = serial();
    let topic = topic("kill-roll");
    let dir = tempfile::tempdir().unwrap();
    // The instrument's song times are as played: at 4x the song lasts 60 s; the kill at
    // 2 s, started again at 4 s (up some 10 s later: a JVM starting); the roll from 15 s.
    let scenario = "broker-kill@2s:leader-of=0:for=2s,rolling-restart@15s:wait-isr=30s";
    let doc = play(dir.path(), &topic, "4", scenario, &SCRIPT, 150);
    let kill = step(&doc, "broker-kill");
    let roll = step(&doc, "rolling-restart");
    eprintln!(
        "kill: broker {} (leader of partition 0), at {} s, back at {} s, full ISR after {} s, \
         longest silence {:.2} s; rolling restart: {} brokers, full ISR after {} s, longest \
         silence {:.2} s",
        kill["broker"],
        kill["started_s"],
        kill["restored_s"],
        kill["time_to_full_isr_s"],
        silence(kill),
        roll["rolling"].as_array().map_or(0, Vec::len),
        roll["time_to_full_isr_s"],
        silence(roll),
    );
    assert_eq!(kill["outcome"], "done", "{kill}");
    assert_eq!(
        kill["broker"], kill["leaders"][&topic]["0"],
        "the broker killed led partition 0 when the step began: {kill}"
    );
    assert!(kill["time_to_full_isr_s"].as_f64().is_some(), "{kill}");
    // Failover waits for the broker's session to time out (3 s here): heard.
    assert!(silence(kill) >= 1.0, "{kill}");
    assert_eq!(roll["outcome"], "done", "{roll}");
    let rolled: Vec<i64> = roll["rolling"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["broker"].as_i64().unwrap())
        .collect();
    assert_eq!(rolled, vec![1, 2, 3], "{roll}");
    assert!(
        roll["rolling"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["full_isr_s"].is_number()),
        "each broker waited for a full ISR: {roll}"
    );
    all_up();
}

/// An exec step runs the user's command at its song time, its status and output in the
/// report; a pause (SIGSTOP for 5 s, then SIGCONT) of the leader of the
/// song's partition is charged to that partition and that broker as a silence.
#[test]
fn an_exec_step_runs_at_its_time_and_a_pause_silences_the_paused_broker() {
    let _serial = serial();
    let topic = topic("exec-pause");
    let dir = tempfile::tempdir().unwrap();
    let stamp = dir.path().join("stamp");
    let command = format!(
        "stamp=date +%s%N > '{}'; echo ran, with: colons",
        stamp.display()
    );
    // Song times as played, at 1.5x: the command at 1 s, the pause from 4 s to 9 s of a
    // 22 s song.
    let scenario = "exec@1s:run=stamp,broker-pause@4s:leader-of=0:for=5s";
    let extra = [&SCRIPT[..], &["--exec", &command]].concat();
    let doc = play(dir.path(), &topic, "1.5", scenario, &extra, 90);
    let exec = step(&doc, "exec");
    let pause = step(&doc, "broker-pause");
    // The song's start, as the instrument hears it: arrival less latency less song time.
    let samples = doc["sides"][0]["instrument"]["samples"].as_array().unwrap();
    let start_ms = samples
        .iter()
        .filter_map(|s| {
            Some(
                s["arrived_unix_ms"].as_f64()?
                    - s["latency_ms"].as_f64()?
                    - s["at_s"].as_f64()? * 1000.0,
            )
        })
        .fold(f64::INFINITY, f64::min);
    let ran_ms = std::fs::read_to_string(&stamp)
        .expect("the command ran")
        .trim()
        .parse::<f64>()
        .expect("date +%s%N")
        / 1e6;
    let at_s = (ran_ms - start_ms) / 1000.0;
    eprintln!(
        "exec: ran at {at_s:.2} s of the song (asked 1 s), {}; pause: broker {} at {} s, \
         resumed at {} s, full ISR after {} s, silence of partition 0 {:.2} s, per broker {}",
        exec["exec"],
        pause["broker"],
        pause["started_s"],
        pause["restored_s"],
        pause["time_to_full_isr_s"],
        silence(pause),
        pause["sides"][0]["brokers"],
    );
    assert_eq!(exec["exec"]["status"], 0, "{exec}");
    assert_eq!(exec["exec"]["output_tail"], "ran, with: colons\n", "{exec}");
    assert!((0.5..2.5).contains(&at_s), "ran at {at_s} s, asked 1 s");
    assert!(
        (exec["started_s"].as_f64().unwrap() - at_s).abs() < 0.5,
        "{exec}"
    );
    assert_eq!(pause["outcome"], "done", "{pause}");
    let paused = &pause["broker"];
    assert_eq!(*paused, pause["leaders"][&topic]["0"], "{pause}");
    let brokers = pause["sides"][0]["brokers"].as_array().unwrap();
    assert_eq!(brokers.len(), 1, "one partition, one leader: {pause}");
    assert_eq!(brokers[0]["broker"], *paused);
    // Paused past its session (3 s): its partition is silent until the failover.
    assert!(silence(pause) >= 1.0, "{pause}");
    assert!(brokers[0]["longest_s"].as_f64().unwrap() >= 1.0);
    all_up();
}

/// `broker-pause` through Trogdor (the real-cluster form): a `ProcessStopFaultSpec` on
/// the agent of the broker's host. Here every broker shares one host, and every one is a
/// `kafka.Kafka` Java process, so `process=` names the paused node's own config file
/// (`BASE-{id}/server.properties`, which `jcmd` shows): only that broker stops.
#[test]
fn a_pause_through_trogdor_stops_the_broker_it_names() {
    let _serial = serial();
    let c = cluster();
    let trogdor = kmidi_test_support::Trogdor::start(&c.version, 1);
    let topic = topic("trogdor-pause");
    let dir = tempfile::tempdir().unwrap();
    let agents: Vec<String> = (1..=c.nodes).map(|id| format!("{id}:agent-1")).collect();
    let driver = format!(
        "trogdor={},agents={},process={}-{{id}}/server.properties",
        trogdor.url,
        agents.join("+"),
        c.base
    );
    let scenario = "broker-pause@3s:leader-of=0:for=4s";
    let doc = play(
        dir.path(),
        &topic,
        "1",
        scenario,
        &["--fault-driver", &driver],
        60,
    );
    let pause = step(&doc, "broker-pause");
    eprintln!(
        "trogdor pause: broker {} at {} s, resumed at {} s, full ISR after {} s, silence of \
         partition 0 {:.2} s; {}",
        pause["broker"],
        pause["started_s"],
        pause["restored_s"],
        pause["time_to_full_isr_s"],
        silence(pause),
        pause["actions"]
    );
    assert_eq!(pause["outcome"], "done", "{pause}");
    assert_eq!(pause["broker"], pause["leaders"][&topic]["0"], "{pause}");
    assert!(
        pause["actions"][0]
            .as_str()
            .unwrap()
            .contains("ProcessStopFaultSpec"),
        "{pause}"
    );
    assert!(silence(pause) >= 1.0, "{pause}");
    all_up();
}
