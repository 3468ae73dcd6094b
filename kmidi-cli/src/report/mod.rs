//! Every export of a run's figures, from one typed result: the summary rows (one per
//! figure, with an audibility verdict) here; `table` as text (side by side for
//! `compare`), `document` the typed `--report`, `plot` the `--plot` SVG, `rebalance`
//! the lab's part of each, and `export` writes the files a command was asked for.

mod brokers;
mod document;
mod export;
mod faults;
mod load;
mod plot;
mod rebalance;
mod table;

pub use brokers::{silent_brokers, table as brokers_table, Brokers};
pub use document::{Document, PlayerFigures, SideReport};
pub use export::write_outputs;
pub use faults::table as faults_table;
pub use load::{table as load_table, LoadSection, SideLoad};
pub use rebalance::table as rebalance_table;
pub use rebalance::{EffectiveSettings, Rebalance};
pub use table::{side_by_side, table};

use hdrhistogram::Histogram;
use kmidi_engine::listen::ListenReport;
use kmidi_engine::measure::{Meter, AUDIBLE_FLIP_US, AUDIBLE_SHIFT_US, AUDIBLE_TEMPO};

/// One row of the summary.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Figure {
    pub name: &'static str,
    pub value: String,
    /// `None` when the figure could not be measured (e.g. no kmidi fields).
    pub audible: Option<bool>,
}

pub(crate) fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

pub(crate) fn spread(h: &Histogram<u64>) -> String {
    format!(
        "p50 {}  p99 {}  max {}",
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    )
}

/// The summary rows for one instrument.
pub fn figures(report: &ListenReport) -> Vec<Figure> {
    let m: &Meter = &report.meter;
    let measured = !m.onset_us.is_empty();
    let unavailable = |name| Figure {
        name,
        value: "unavailable (no kmidi_* fields)".to_string(),
        audible: None,
    };
    let mut rows = Vec::new();
    rows.push(if m.latency_us.is_empty() {
        unavailable("end-to-end latency")
    } else {
        Figure {
            name: "end-to-end latency",
            value: spread(&m.latency_us),
            // A constant delay is not heard; its variation is, as onset error and jitter.
            audible: Some(false),
        }
    });
    if !measured {
        for name in [
            "onset error",
            "jitter",
            "tempo",
            "late notes",
            "reordered",
            "lost",
        ] {
            rows.push(unavailable(name));
        }
    } else {
        rows.push(Figure {
            name: "onset error",
            value: spread(&m.onset_us),
            audible: Some(m.onset_us.value_at_quantile(0.99) >= AUDIBLE_SHIFT_US),
        });
        rows.push(Figure {
            name: "jitter",
            value: if m.jitter_us.is_empty() {
                "–".to_string()
            } else {
                spread(&m.jitter_us)
            },
            audible: Some(m.jitter_us.value_at_quantile(0.99) >= AUDIBLE_SHIFT_US),
        });
        rows.push(match m.tempo() {
            Some(t) => Figure {
                name: "tempo",
                value: format!("{:.1} % of the score", t * 100.0),
                audible: Some((t - 1.0).abs() >= AUDIBLE_TEMPO),
            },
            None => Figure {
                name: "tempo",
                value: "too short to tell".to_string(),
                audible: None,
            },
        });
        rows.push(Figure {
            name: "late notes",
            value: format!(
                "{} of {} more than {} ms late",
                m.late,
                report.played,
                AUDIBLE_SHIFT_US / 1000
            ),
            audible: Some(m.late > 0),
        });
        rows.push(Figure {
            name: "reordered",
            value: format!(
                "{} ({} swapped ≥ {} ms apart)",
                m.reordered,
                m.reordered_audible,
                AUDIBLE_FLIP_US / 1000
            ),
            audible: Some(m.reordered_audible > 0),
        });
        let songs = m.songs();
        let folded = m.folded();
        let missed: u64 = songs
            .iter()
            .map(|s| s.missed_start + s.missed_end)
            .sum::<u64>()
            + folded.missed_start
            + folded.missed_end;
        rows.push(Figure {
            name: "lost",
            value: format!(
                "{} in sequence gaps{}",
                m.lost(),
                if missed > 0 {
                    format!(" (+{missed} before joining or after stopping)")
                } else {
                    String::new()
                }
            ),
            audible: Some(m.lost() > 0),
        });
    }
    rows.push(Figure {
        name: "duplicates",
        value: m.duplicates.to_string(),
        audible: Some(m.duplicates > 0),
    });
    let log = &report.assignments;
    rows.push(Figure {
        name: "rebalances",
        value: if log.history.is_empty() {
            "unknown (the client does not report its assignment)".to_string()
        } else {
            format!("{}: {}", log.rebalances(), log.describe())
        },
        // Heard as the late notes and jitter above, not by itself.
        audible: None,
    });
    rows.push(Figure {
        name: "bad records",
        value: if report.bad.is_empty() {
            "0".to_string()
        } else {
            report
                .bad
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
        audible: None,
    });
    if let Some(p) = &report.playout {
        let missed = p.missed_total();
        let by_partition: Vec<String> = p
            .missed
            .iter()
            .map(|((t, part), n)| format!("{t}[{part}] {n}"))
            .collect();
        rows.push(Figure {
            name: "missed deadlines",
            value: format!(
                "{missed} of {} later than the {} ms playout delay{}",
                report.played,
                p.delay.as_millis(),
                if by_partition.is_empty() {
                    String::new()
                } else {
                    format!(": {}", by_partition.join(", "))
                }
            ),
            // A missed deadline is played at once: heard as out of time.
            audible: Some(missed > 0),
        });
    }
    rows
}
