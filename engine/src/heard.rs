//! What the instrument heard, as figures: the end-of-run [`ListenReport`] and the
//! [`LiveFigures`] the listening loop refreshes a few times a second. Plain data, kept
//! apart from the loop (`listen`) and from who watches it (`observe`), so both can
//! name it without naming each other. The engine hands these figures; the binary
//! formats them.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::assignment::AssignmentLog;
use crate::measure::Meter;

/// What the instrument heard.
#[derive(Default)]
pub struct ListenReport {
    pub played: u64,
    /// Records skipped, by kind (`not_json`, `missing_hex`, `invalid_hex`, ...).
    pub bad: BTreeMap<&'static str, u64>,
    pub transient_errors: u64,
    pub sink_errors: u64,
    pub meter: Meter,
    /// The partitions this member held over time: where a rebalance shows.
    pub assignments: AssignmentLog,
    /// How long the instrument listened.
    pub listened: Duration,
    pub interrupted: bool,
    pub fatal: Option<String>,
    /// With a playout delay: the delay, and the notes that missed their deadline.
    pub playout: Option<PlayoutFigures>,
}

/// What the jitter buffer did.
pub struct PlayoutFigures {
    pub delay: Duration,
    /// Notes that arrived after their playout time, per (topic, partition).
    pub missed: BTreeMap<(String, i32), u64>,
}

impl PlayoutFigures {
    /// Missed deadlines over all partitions.
    pub fn missed_total(&self) -> u64 {
        self.missed.values().sum()
    }
}

/// The figures of a run in progress, for a live status line: cheap to take (only
/// percentiles the meter keeps anyway).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveFigures {
    /// Tempo over the last seconds, 1.0 = as the score; `None` until it can be told.
    pub tempo: Option<f64>,
    /// End-to-end latency p50 and p99, µs; `None` before a measured note.
    pub latency_p50_us: Option<u64>,
    pub latency_p99_us: Option<u64>,
    pub late: u64,
    pub lost: u64,
    pub reordered: u64,
    pub bad: u64,
    pub played: u64,
    /// Partitions the consumer holds now; `None` when its library does not say.
    pub assigned: Option<usize>,
    /// How long the instrument has listened.
    pub listening: Duration,
}

impl LiveFigures {
    /// The figures of `report` so far; `assigned` as the consumer reports it.
    pub fn of(report: &ListenReport, assigned: Option<usize>, listening: Duration) -> Self {
        let m = &report.meter;
        let measured = !m.latency_us.is_empty();
        Self {
            tempo: m.live_tempo(),
            latency_p50_us: measured.then(|| m.latency_us.value_at_quantile(0.5)),
            latency_p99_us: measured.then(|| m.latency_us.value_at_quantile(0.99)),
            late: m.late,
            lost: m.lost(),
            reordered: m.reordered,
            bad: report.bad.values().sum(),
            played: report.played,
            assigned,
            listening,
        }
    }
}

/// Where the listening loop leaves its [`LiveFigures`] for a status line to read;
/// `None` until the loop first refreshes it.
#[derive(Default)]
pub struct Live {
    pub figures: Mutex<Option<LiveFigures>>,
}

impl Live {
    /// The latest figures, if any.
    pub fn snapshot(&self) -> Option<LiveFigures> {
        self.figures.lock().ok().and_then(|f| f.clone())
    }
}
