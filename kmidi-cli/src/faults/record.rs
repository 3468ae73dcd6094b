//! What became of each broker or exec step: what was done to which broker and when, on
//! the song's time axis, and when the cluster was whole again. The `--report` section
//! is these records, with each side's figures added once the run is over.

use std::collections::BTreeMap;

use kmidi_lab::fault::{ExecOutcome, StepCharge};
use kmidi_lab::FaultStep;
use serde::Serialize;

/// One step as it ran. Song times are s from the song's start (after speed).
#[derive(Clone, Debug, Default, Serialize)]
pub struct StepRecord {
    pub step: usize,
    /// As written (canonical form).
    pub label: String,
    pub action: &'static str,
    /// `done`, `failed`, `skipped`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The broker hit (a `leader-of=P` resolved when the step started).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_name: Option<String>,
    /// When the action began and when the broker was back (restarted, resumed) or the
    /// command ended.
    pub started_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored_s: Option<f64>,
    /// When every partition of the music topic(s) had a leader and a full ISR again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_isr_s: Option<f64>,
    /// `full_isr_s - started_s`: how long the cluster took to be whole again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_full_isr_s: Option<f64>,
    /// Where the step's figures end: full ISR, or the end of the wait for it.
    pub ended_s: Option<f64>,
    /// What was done, in order, as said to the user.
    pub actions: Vec<String>,
    /// A rolling restart's brokers, in turn.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rolling: Vec<RollingBroker>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecRecord>,
    /// Topic -> partition -> leader, when the step started.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub leaders: BTreeMap<String, BTreeMap<i32, i32>>,
    /// Per side, in side order: what the step cost its music.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sides: Vec<SideCharge>,
}

/// One broker of a rolling restart.
#[derive(Clone, Debug, Serialize)]
pub struct RollingBroker {
    pub broker: i32,
    pub started_s: f64,
    pub restored_s: Option<f64>,
    pub full_isr_s: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExecRecord {
    pub name: String,
    pub command: String,
    #[serde(flatten)]
    pub outcome: ExecOutcome,
}

#[derive(Clone, Debug, Serialize)]
pub struct SideCharge {
    pub side: String,
    #[serde(flatten)]
    pub charge: StepCharge,
}

impl StepRecord {
    pub fn new(step: usize, s: &FaultStep) -> Self {
        StepRecord {
            step,
            label: s.to_string(),
            action: s.verb(),
            outcome: "skipped",
            ..StepRecord::default()
        }
    }

    pub fn fail(&mut self, why: impl Into<String>) {
        self.outcome = "failed";
        self.reason = Some(why.into());
    }
}
