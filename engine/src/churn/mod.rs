//! The rebalance lab: a consumer group of several member processes plays one song
//! while a churn script joins, closes and kills members at score times, and what each
//! event cost the music is measured: silence per partition, notes late, lost,
//! duplicated and reordered, and how long the group took to settle again.
//!
//! `script` parses the churn script, `member` is one member process's loop and the
//! lines it writes, `group` runs the members as one consumer, and `figures` turns the
//! group's log and the notes heard into per-event figures.

pub mod figures;
pub mod group;
pub mod member;
pub mod script;

pub use figures::{event_figures, EventFigures, PartitionSilence};
pub use group::{GroupConsumer, GroupPlan, MemberCommand};
pub use script::{parse_time, ChurnEvent, ChurnKind, ChurnScript, ScriptError};

/// A churn event as it was applied.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AppliedEvent {
    /// As written, e.g. `kill@30s`.
    pub event: String,
    pub kind: ChurnKind,
    pub at_score_s: f64,
    /// Wall clock, µs since the Unix epoch.
    pub applied_us: u64,
    /// The member joined, closed or killed; `None` when there was none to close or kill.
    pub member: Option<usize>,
}

/// One member's assignment changed (`None`: the member is gone).
#[derive(Clone, Debug, serde::Serialize)]
pub struct MemberChange {
    pub at_us: u64,
    pub member: usize,
    pub partitions: Option<Vec<(String, i32)>>,
}

/// What the group did, for the figures and the report.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GroupLog {
    pub script: String,
    pub partitions: i32,
    pub members_started: usize,
    /// Whether the members' library reports assignments (without it, "stable again"
    /// cannot be told).
    pub reports_assignment: bool,
    /// The first member's effective consumer settings.
    pub settings: Vec<(String, String)>,
    /// Where the song started, µs since the Unix epoch (from the notes heard).
    pub song_start_us: Option<u64>,
    pub events: Vec<AppliedEvent>,
    pub changes: Vec<MemberChange>,
}
