//! `--load-driver trogdor=URL` through the CLI, against a real Trogdor coordinator and
//! agent (Kafka's Maven jars, on loopback): each load step becomes a task at its song
//! time, its status is collected into the report, and kmidi destroys its tasks when it
//! exits.

use std::sync::Mutex;

use kmidi_lab::trogdor::TrogdorClient;
use kmidi_test_support::{kafka_version, Trogdor};

use super::{broker, compare};
use crate::common::{read_report, run, stderr};

/// The coordinator's task list is read whole by the tests: one at a time.
pub static TROGDOR: Mutex<()> = Mutex::new(());

pub fn trogdor() -> &'static Trogdor {
    Trogdor::shared(&kafka_version("4"))
}

/// `--load-driver` for this binary's coordinator and its agents.
pub fn driver_flag(t: &Trogdor) -> String {
    format!("trogdor={},agents={}", t.url, t.agent_names().join("+"))
}

/// Every task id the coordinator knows now.
pub fn task_ids(t: &Trogdor) -> Vec<String> {
    TrogdorClient::new(&t.url)
        .unwrap()
        .tasks(&[])
        .unwrap()
        .into_keys()
        .collect()
}

#[test]
fn a_trogdor_load_step_is_a_task_at_its_time_and_destroyed_at_exit() {
    let _one = TROGDOR.lock().unwrap_or_else(|p| p.into_inner());
    let (b, t) = (broker(), trogdor());
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("trogdor.json");
    let scenario = format!(
        "load@2s:rate=100rec/s:size=1KB:for=3s:topic={}",
        b.unique("trogdor-cli-load")
    );
    let out = run(compare(dir.path(), &b.unique("trogdor-cli"), &scenario)
        .args(["--load-driver", &driver_flag(t), "--report"])
        .arg(&report));
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("made by Trogdor tasks on"), "{err}");
    let doc = read_report(&report);
    let step = &doc["load"]["steps"][0];
    assert_eq!(step["state"], "done", "{step:#}");
    let started = step["started_s"].as_f64().unwrap();
    assert!((1.9..4.0).contains(&started), "{step:#}");
    let achieved = &step["achieved"];
    // The agent's own count of what it sent, at about the asked rate.
    let sent = achieved["records_sent"].as_u64().unwrap();
    assert!((150..=450).contains(&sent), "{step:#}");
    let id = step["id"].as_str().expect("the task id").to_string();
    let left: Vec<String> = task_ids(t)
        .into_iter()
        .filter(|t| t.starts_with(&id))
        .collect();
    assert!(left.is_empty(), "kmidi left tasks behind: {left:?}");
}
