//! The scenario script: what happens to the cluster during a song, and when, in score
//! time. It extends the churn script (`join@10s,leave@20s,kill@30s`, which stays valid
//! as it is) with load:
//!
//! - `load@10s:rate=5MB/s:size=10KB:for=20s[:topic=NAME][:partitions=6][:rf=1][:consumers=N]`
//!   produces at `rate` (`MB/s`, `KB/s`, `B/s`, decimal, or `rec/s`) for `for`, on the
//!   load's own topic (`kmidi_load`, 6 partitions, replication factor 1) unless told,
//!   with `consumers=N` members of a consumer group reading it;
//! - `ramp@10s:from=1MB/s:to=50MB/s:step=5MB/s:every=10s[:size=..][:topic=..]...`
//!   is consecutive load steps from `from` up by `step` (while not above `to`), each
//!   lasting `every`; it stops rising once the music broke on every side, unless
//!   `until=end` asks for every level.
//!
//! - broker steps and `exec` (`fault`): `broker-kill@20s:leader-of=0:for=10s`,
//!   `broker-pause@20s:broker=2:for=5s`, `broker-restart@20s:broker=2`,
//!   `rolling-restart@20s[:wait-isr=60s]`, `exec@20s:run=NAME[:timeout=60s]`.
//!
//! Steps are comma-separated, written in any order and applied in score order (before
//! `--speed-ratio`, so both sides of a compare load at the same place in the music).
//! Every step is bounded: at most an hour, a ramp at most [`MAX_RAMP_LEVELS`] levels.

mod error;
mod fault;
mod parse;
mod step;
mod units;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use kmidi_engine::churn::ChurnScript;

pub use self::error::ScenarioError;
pub use self::fault::{FaultAction, FaultStep, Target, DEFAULT_EXEC_TIMEOUT, DEFAULT_WAIT_ISR};
pub use self::parse::is_exec_name;
pub use self::step::{
    LoadStep, LoadTopic, Ramp, RampInfo, RampUntil, DEFAULT_PARTITIONS, DEFAULT_RECORD_SIZE,
    DEFAULT_REPLICATION_FACTOR, DEFAULT_TOPIC, MAX_CONSUMERS, MAX_PARTITIONS, MAX_RAMP_LEVELS,
    MAX_RECORD_SIZE, MAX_REPLICATION_FACTOR, MAX_STEP_DURATION,
};
pub use self::units::{
    format_size, format_time, parse_rate, parse_size, parse_time, Rate, ValueProblem,
};
use parse::{parse_step, Parsed};

/// A parsed scenario. `load` holds every load step, the ramps' levels expanded, in score
/// order; `ramps` keeps the ramps as written (for writing the scenario back, and the
/// knee). Written back with `Display`, it reads again as the same scenario.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scenario {
    pub churn: ChurnScript,
    pub load: Vec<LoadStep>,
    /// Indexed by [`RampInfo::index`].
    pub ramps: Vec<Ramp>,
    /// Broker and exec steps, in score order.
    pub faults: Vec<FaultStep>,
}

impl Scenario {
    /// The churn steps alone, for the rebalance lab (which knows nothing of load).
    pub fn churn_only(&self) -> ChurnScript {
        self.churn.clone()
    }

    pub fn has_churn(&self) -> bool {
        !self.churn.events.is_empty()
    }

    pub fn has_load(&self) -> bool {
        !self.load.is_empty()
    }

    pub fn has_faults(&self) -> bool {
        !self.faults.is_empty()
    }

    /// Where the last load step ends, in score time.
    pub fn load_end(&self) -> Option<Duration> {
        self.load.iter().map(LoadStep::end).max()
    }

    /// The topics the load writes, each once, in order of first use (to create them, and
    /// to check none is the music's).
    pub fn load_topics(&self) -> Vec<&LoadTopic> {
        let mut out: Vec<&LoadTopic> = Vec::new();
        for s in &self.load {
            if !out.iter().any(|t| t.name == s.topic.name) {
                out.push(&s.topic);
            }
        }
        out
    }

    /// The load steps of one ramp, in level order.
    pub fn ramp_steps(&self, ramp: usize) -> impl Iterator<Item = (usize, &LoadStep)> {
        self.load
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.ramp.is_some_and(|r| r.index == ramp))
    }
}

impl FromStr for Scenario {
    type Err = ScenarioError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut churn = Vec::new();
        let mut loads = Vec::new();
        let mut ramps = Vec::new();
        let mut faults = Vec::new();
        for step in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            match parse_step(step)? {
                Parsed::Churn(e) => churn.push(e),
                Parsed::Load(l) => loads.push(l),
                Parsed::Ramp(r) => ramps.push(r),
                Parsed::Fault(f) => faults.push(f),
            }
        }
        if churn.is_empty() && loads.is_empty() && ramps.is_empty() && faults.is_empty() {
            return Err(ScenarioError::Empty);
        }
        // Written in any order, applied in score order; ties keep the written order, so
        // the scenario written back reads the same.
        churn.sort_by_key(|e| e.at);
        ramps.sort_by_key(|r: &Ramp| r.at);
        for (index, ramp) in ramps.iter().enumerate() {
            loads.extend(ramp.expand(index));
        }
        loads.sort_by_key(|l| l.at);
        faults.sort_by_key(|f: &FaultStep| f.at);
        Ok(Scenario {
            churn: ChurnScript { events: churn },
            load: loads,
            ramps,
            faults,
        })
    }
}

/// The canonical form: every step in score order (at one time: churn, then loads, then
/// ramps, then broker and exec steps), each with its required keys and the optional ones that are not the defaults.
impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut steps: Vec<(Duration, u8, String)> = Vec::new();
        for e in &self.churn.events {
            steps.push((e.at, 0, e.to_string()));
        }
        for l in self.load.iter().filter(|l| l.ramp.is_none()) {
            steps.push((l.at, 1, l.to_string()));
        }
        for r in &self.ramps {
            steps.push((r.at, 2, r.to_string()));
        }
        for x in &self.faults {
            steps.push((x.at, 3, x.to_string()));
        }
        // Stable: equal keys keep the order above.
        steps.sort_by_key(|(at, kind, _)| (*at, *kind));
        let steps: Vec<String> = steps.into_iter().map(|(_, _, s)| s).collect();
        f.write_str(&steps.join(","))
    }
}

#[cfg(test)]
mod tests;
