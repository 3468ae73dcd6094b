//! The rebalance lab's part of the summary and the `--report`: each side's churn events
//! with what they cost (silence per partition, notes late, lost, duplicated,
//! reordered, time to settle), and each side's effective latency settings.

use kmidi_engine::churn::{EventFigures, GroupLog};
use serde::Serialize;

/// A side's effective settings, as its library reports them (librdkafka's names).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EffectiveSettings {
    pub producer: Vec<(String, String)>,
    pub consumer: Vec<(String, String)>,
    /// What `--equalize` set on this side.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub equalized: Vec<(String, String)>,
    /// What `--equalize` could not set on this side, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_equalized: Vec<String>,
}

impl EffectiveSettings {
    /// `linger.ms=0 acks=all ...`, or "not reported".
    pub fn line(pairs: &[(String, String)]) -> String {
        if pairs.is_empty() {
            return "not reported".to_string();
        }
        let parts: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.join(" ")
    }
}

/// One side of the rebalance lab.
#[derive(Clone, Debug, Serialize)]
pub struct Rebalance {
    pub members: usize,
    pub partitions: i32,
    /// The notes' keys, when this process played them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_by: Option<kmidi_engine::perform::KeyBy>,
    pub churn: String,
    pub events: Vec<EventFigures>,
    /// The events as applied and every member's assignment change, wall-clock µs.
    pub group: GroupLog,
}

fn secs(s: Option<f64>) -> String {
    s.map_or("not stable".to_string(), |s| format!("{s:.1} s"))
}

/// `p3 4.1 s (+3.9)`: the partition silent longest beyond the score, if any was.
fn worst(e: &EventFigures) -> String {
    match e.worst_silence() {
        Some(w) => format!(
            "p{} {:.2} s (+{:.2}){}",
            w.partition,
            w.silence_ms / 1000.0,
            w.beyond_score_ms / 1000.0,
            if w.resumed { "" } else { " never resumed" }
        ),
        None => "–".to_string(),
    }
}

/// One block per side: a row per churn event.
pub fn table(sides: &[(&str, &Rebalance)]) -> String {
    let mut out = String::new();
    for (label, r) in sides {
        let keys = r
            .key_by
            .map(|k| format!(", keys by {}", format!("{k:?}").to_lowercase()))
            .unwrap_or_default();
        out.push_str(&format!(
            "rebalances, {label}: {} members, {} partitions{keys}, churn {}\n",
            r.members, r.partitions, r.churn
        ));
        out.push_str(&format!(
            "  {:<12} {:>8} {:<30} {:>5} {:>5} {:>5} {:>5} {:>12}\n",
            "event",
            "applied",
            "longest silence (beyond score)",
            "late",
            "lost",
            "dup",
            "reord",
            "stable after"
        ));
        for e in &r.events {
            out.push_str(&format!(
                "  {:<12} {:>6.1} s {:<30} {:>5} {:>5} {:>5} {:>5} {:>12}\n",
                e.event,
                e.applied_at_s,
                worst(e),
                e.late,
                e.lost,
                e.duplicated,
                e.reordered,
                if r.group.reports_assignment {
                    secs(e.stable_after_s)
                } else {
                    "not reported".to_string()
                }
            ));
        }
        if r.events.is_empty() {
            out.push_str("  (no churn event was applied: the song ended first?)\n");
        }
    }
    out
}
