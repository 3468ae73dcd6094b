//! What the page shows besides the sound: an [`Observer`] that hands the hub each note
//! heard (with the meter's verdict) and, a few times a second, the same figures as the
//! end-of-run table.

use std::sync::Arc;

use kmidi_engine::listen::ListenReport;
use kmidi_engine::measure::Verdict;
use kmidi_engine::observe::Observer;
use serde_json::{json, Value};

use super::hub::Hub;
use crate::report;

/// One side's notes and figures, to the hub.
pub struct WebObserver {
    pub hub: Arc<Hub>,
    pub side: usize,
}

impl Observer for WebObserver {
    fn heard(&self, topic: &str, partition: i32, verdict: &Verdict) {
        self.hub.heard(self.side, topic, partition, verdict);
    }

    fn live(&self, report: &ListenReport) {
        self.hub.figures(self.side, rows(report), live(report));
    }
}

/// The end-of-run table's rows for `report`.
pub fn rows(report: &ListenReport) -> Value {
    serde_json::to_value(report::figures(report)).unwrap_or(Value::Null)
}

/// The counters and percentiles a live view draws, as numbers.
pub fn live(report: &ListenReport) -> Value {
    let m = &report.meter;
    let ms = |us: u64| us as f64 / 1000.0;
    let quantile =
        |h: &hdrhistogram::Histogram<u64>, q| (!h.is_empty()).then(|| ms(h.value_at_quantile(q)));
    json!({
        "played": report.played,
        "late": m.late,
        "lost": m.lost(),
        "reordered": m.reordered,
        "duplicates": m.duplicates,
        "bad": report.bad.values().sum::<u64>(),
        "tempo": m.live_tempo(),
        "latency_p50_ms": quantile(&m.latency_us, 0.5),
        "latency_p99_ms": quantile(&m.latency_us, 0.99),
        "onset_p50_ms": quantile(&m.onset_us, 0.5),
        "onset_p99_ms": quantile(&m.onset_us, 0.99),
        // The lanes: the partitions held now, when the client says.
        "partitions": report.assignments.history.last().map(|a| &a.partitions),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_figures_are_the_tables_rows_and_numbers() {
        let hub = Hub::new("instrument", &["instrument"], 16);
        let l = hub.subscribe();
        let observer = WebObserver {
            hub: Arc::clone(&hub),
            side: 0,
        };
        let report = ListenReport {
            played: 7,
            ..ListenReport::default()
        };
        observer.live(&report);
        let f = l.rx.try_recv().unwrap();
        let (_, v) = crate::web::sse::parse_frame(&f.text);
        assert_eq!(v["side"], 0);
        assert_eq!(v["live"]["played"], 7);
        assert_eq!(
            v["live"]["latency_p50_ms"],
            Value::Null,
            "nothing measured yet"
        );
        let names: Vec<&str> = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"end-to-end latency"), "{names:?}");
    }
}
