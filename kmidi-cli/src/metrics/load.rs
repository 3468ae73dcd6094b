//! The `kmidi_load_*` series: what `--scenario`'s load asks of the cluster right now and
//! what its steps achieved, so a dashboard lines the load up with the music.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use kmidi_lab::{LoadReport, LoadStep};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::Metrics;
use crate::load::LoadEvents;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct LoadLabels {
    /// The load's topic.
    pub topic: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

#[derive(Default)]
pub(super) struct LoadFamilies {
    running: Family<LoadLabels, Gauge>,
    asked_bytes: Family<LoadLabels, FloatGauge>,
    asked_records: Family<LoadLabels, FloatGauge>,
    achieved_bytes: Family<LoadLabels, FloatGauge>,
    ack_p99: Family<LoadLabels, FloatGauge>,
    sent: Family<LoadLabels, Counter>,
    errors: Family<LoadLabels, Counter>,
}

impl LoadFamilies {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "kmidi_load_steps_running",
            "Load steps of --scenario running now",
            self.running.clone(),
        );
        r.register(
            "kmidi_load_asked_bytes_per_second",
            "The load asked of the cluster now, bytes/s (the running steps' rates)",
            self.asked_bytes.clone(),
        );
        r.register(
            "kmidi_load_asked_records_per_second",
            "The load asked of the cluster now, records/s",
            self.asked_records.clone(),
        );
        r.register(
            "kmidi_load_achieved_bytes_per_second",
            "What the last finished load step achieved, bytes/s",
            self.achieved_bytes.clone(),
        );
        r.register(
            "kmidi_load_ack_latency_p99_seconds",
            "The last finished load step's own ack latency p99, as its client reported it",
            self.ack_p99.clone(),
        );
        r.register(
            "kmidi_load_records_sent",
            "Records the finished load steps sent",
            self.sent.clone(),
        );
        r.register(
            "kmidi_load_errors",
            "Records or requests of the finished load steps that failed",
            self.errors.clone(),
        );
    }
}

/// Feeds the load series from the load runner.
pub struct LoadSeries(pub Arc<Metrics>);

impl LoadSeries {
    pub fn shared(metrics: &Option<Arc<Metrics>>) -> Option<Arc<dyn LoadEvents>> {
        metrics
            .as_ref()
            .map(|m| Arc::new(LoadSeries(Arc::clone(m))) as Arc<dyn LoadEvents>)
    }

    fn labels(step: &LoadStep) -> LoadLabels {
        LoadLabels {
            topic: step.topic.name.clone(),
        }
    }

    fn add(&self, step: &LoadStep, sign: f64) {
        let f = &self.0.load;
        let l = Self::labels(step);
        f.running.get_or_create(&l).inc_by(sign as i64);
        let g = f.asked_bytes.get_or_create(&l);
        g.set((g.get() + sign * step.bytes_per_sec()).max(0.0));
        let g = f.asked_records.get_or_create(&l);
        g.set((g.get() + sign * step.records_per_sec()).max(0.0));
    }
}

impl LoadEvents for LoadSeries {
    fn started(&self, step: &LoadStep) {
        self.add(step, 1.0);
    }

    fn finished(&self, step: &LoadStep, report: Option<&LoadReport>) {
        self.add(step, -1.0);
        let Some(r) = report else { return };
        let f = &self.0.load;
        let l = Self::labels(step);
        f.achieved_bytes
            .get_or_create(&l)
            .set(r.achieved_bytes_per_sec);
        if let Some(p99) = r.ack_latency_p99_ms {
            f.ack_p99.get_or_create(&l).set(p99 / 1000.0);
        }
        f.sent.get_or_create(&l).inc_by(r.records_sent);
        f.errors.get_or_create(&l).inc_by(r.errors);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Role;
    use super::*;

    #[test]
    fn the_load_series_follow_the_steps_as_they_start_and_finish() {
        let metrics = Arc::new(Metrics::new(Role::Both));
        let events = LoadSeries::shared(&Some(Arc::clone(&metrics))).unwrap();
        let scenario: kmidi_lab::Scenario =
            "load@1s:rate=2MB/s:for=5s:topic=l,load@2s:rate=1MB/s:for=5s:topic=l"
                .parse()
                .unwrap();
        let (a, b) = (&scenario.load[0], &scenario.load[1]);
        events.started(a);
        events.started(b);
        let text = metrics.encode();
        for line in [
            r#"kmidi_load_steps_running{topic="l"} 2"#,
            r#"kmidi_load_asked_bytes_per_second{topic="l"} 3000000.0"#,
            r#"kmidi_load_asked_records_per_second{topic="l"} 300.0"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
        let report = LoadReport {
            ack_latency_p99_ms: Some(12.0),
            ..LoadReport::nothing(0, a.rate).with_sent(
                1000,
                10_000,
                std::time::Duration::from_secs(5),
            )
        };
        events.finished(a, Some(&report));
        events.finished(b, None);
        let text = metrics.encode();
        for line in [
            r#"kmidi_load_steps_running{topic="l"} 0"#,
            r#"kmidi_load_asked_bytes_per_second{topic="l"} 0.0"#,
            r#"kmidi_load_achieved_bytes_per_second{topic="l"} 2000000.0"#,
            r#"kmidi_load_ack_latency_p99_seconds{topic="l"} 0.012"#,
            r#"kmidi_load_records_sent_total{topic="l"} 1000"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
    }
}
