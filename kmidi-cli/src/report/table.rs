//! The summary as text: one instrument's table with per-partition lines, and two side
//! by side for `compare`.

use kmidi_engine::listen::ListenReport;
use kmidi_engine::measure::Meter;

use super::{figures, ms, Figure};

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
