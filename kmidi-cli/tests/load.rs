//! Load on a real Kafka 4.3.1 broker on loopback, shared by this binary: the load
//! worker the local driver starts (`worker`), `--scenario` load steps and ramps heard
//! by `compare` and `instrument` (`scenario`), the Trogdor driver through the CLI
//! against a real coordinator and agent (`trogdor`), and Ctrl-C mid-load (`interrupt`).
//! Every load is tiny and bounded in count and time.

mod common;

#[path = "load/interrupt.rs"]
mod interrupt;
#[path = "load/scenario.rs"]
mod scenario;
#[path = "load/trogdor.rs"]
mod trogdor;
#[path = "load/worker.rs"]
mod worker;

use std::path::Path;
use std::process::Command;

use common::{kmidi, repo, Broker};
use kmidi_midi::score::Score;
use kmidi_test_support::kafka_version;

/// This binary's broker (the one `worker` shares too).
pub fn broker() -> &'static Broker {
    Broker::shared(&kafka_version("4"))
}

/// The song the CLI tests play: about 15 s, 125 notes.
pub const SONG: &str = "songs/ode_to_joy.mid";

/// `kmidi compare` of rdkafka with itself on this binary's broker, in `dir` (where a
/// compare without outputs writes its files), playing [`SONG`] quietly on `topic` under
/// `scenario`; add the rest.
pub fn compare(dir: &Path, topic: &str, scenario: &str) -> Command {
    let mut c = kmidi();
    c.current_dir(dir)
        .args(["compare", "-q", "-b", &broker().bootstrap, "-t", topic])
        .args(["--transport-a", "rdkafka", "--transport-b", "rdkafka"])
        .arg("--song")
        .arg(repo().join(SONG))
        .args(["--scenario", scenario]);
    c
}

/// Where the score puts each note of `song`, s (at speed 1).
pub fn scheduled_s(song: &Path) -> Vec<f64> {
    let score = Score::load(song).expect("the test song reads");
    score.events.iter().map(|e| e.at.as_secs_f64()).collect()
}

/// Whether a process is gone (or a zombie nobody reaps: it makes no load either).
pub fn process_gone(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}
