//! The end-of-run summary: a table with an audibility verdict per figure, the same
//! side by side for `compare`, and the `--report` JSON (summary, histograms, versions,
//! settings).

use hdrhistogram::Histogram;
use kmidi_engine::listen::ListenReport;
use kmidi_engine::measure::{Meter, AUDIBLE_FLIP_US, AUDIBLE_SHIFT_US, AUDIBLE_TEMPO};
use serde_json::{json, Value};

/// One row of the summary.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Figure {
    pub name: &'static str,
    pub value: String,
    /// `None` when the figure could not be measured (e.g. no kmidi fields).
    pub audible: Option<bool>,
}

fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

fn spread(h: &Histogram<u64>) -> String {
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
        let missed: u64 = songs.iter().map(|s| s.missed_start + s.missed_end).sum();
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
    rows
}

fn verdict(a: Option<bool>) -> &'static str {
    match a {
        Some(true) => "AUDIBLE",
        Some(false) => "no",
        None => "–",
    }
}

/// The table for one instrument.
pub fn table(report: &ListenReport) -> String {
    let mut out = format!("{:<20} {:<52} audible?\n", "figure", "value");
    for f in figures(report) {
        out.push_str(&format!(
            "{:<20} {:<52} {}\n",
            f.name,
            f.value,
            verdict(f.audible)
        ));
    }
    out.push_str(&partitions(&report.meter));
    out
}

fn partitions(m: &Meter) -> String {
    let mut out = String::new();
    for ((topic, p), f) in &m.partitions {
        let lat = if f.latency_us.is_empty() {
            String::new()
        } else {
            format!(
                ", latency p50 {} p99 {}",
                ms(f.latency_us.value_at_quantile(0.5)),
                ms(f.latency_us.value_at_quantile(0.99))
            )
        };
        out.push_str(&format!("  {topic}[{p}]: {} record(s){lat}\n", f.count));
    }
    out
}

/// Two instruments side by side (`compare`).
pub fn side_by_side(a_name: &str, a: &ListenReport, b_name: &str, b: &ListenReport) -> String {
    let (fa, fb) = (figures(a), figures(b));
    let mut out = format!("{:<20} {:<58} {:<58}\n", "figure", a_name, b_name);
    for (x, y) in fa.iter().zip(fb.iter()) {
        let cell = |f: &Figure| {
            if f.audible == Some(true) {
                format!("{} (AUDIBLE)", f.value)
            } else {
                f.value.clone()
            }
        };
        out.push_str(&format!("{:<20} {:<58} {:<58}\n", x.name, cell(x), cell(y)));
    }
    out
}

fn percentiles(h: &Histogram<u64>) -> Value {
    if h.is_empty() {
        return Value::Null;
    }
    let qs = [0.5, 0.9, 0.99, 0.999];
    json!({
        "count": h.len(),
        "min_us": h.min(),
        "max_us": h.max(),
        "mean_us": h.mean(),
        "percentiles_us": qs.iter().map(|q| json!({"q": q, "us": h.value_at_quantile(*q)})).collect::<Vec<_>>(),
    })
}

/// The `--report` document.
pub fn json(report: &ListenReport, context: Value) -> Value {
    let m = &report.meter;
    json!({
        "kmidi_version": env!("CARGO_PKG_VERSION"),
        "context": context,
        "played": report.played,
        "listened_s": report.listened.as_secs_f64(),
        "interrupted": report.interrupted,
        "summary": figures(report),
        "histograms": {
            "latency": percentiles(&m.latency_us),
            "onset_error_abs": percentiles(&m.onset_us),
            "jitter": percentiles(&m.jitter_us),
        },
        "tempo": m.tempo(),
        "late": m.late,
        "reordered": m.reordered,
        "reordered_audible": m.reordered_audible,
        "duplicates": m.duplicates,
        "unmeasured": m.unmeasured,
        "bad_records": report.bad,
        "transient_errors": report.transient_errors,
        "rebalances": report.assignments.rebalances(),
        "assignments": report.assignments.history,
        "songs": m.songs(),
        "partitions": m.partitions.iter().map(|((t, p), f)| json!({
            "topic": t, "partition": p, "count": f.count, "latency": percentiles(&f.latency_us),
        })).collect::<Vec<_>>(),
        // Per note, for the plot and for users' own analysis.
        "samples": m.samples,
        "audibility_thresholds": {
            "shift_us": AUDIBLE_SHIFT_US, "flip_us": AUDIBLE_FLIP_US, "tempo": AUDIBLE_TEMPO,
        },
    })
}
