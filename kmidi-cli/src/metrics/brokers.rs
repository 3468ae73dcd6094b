//! The `kmidi_broker_*` series: what the instrument hears, per broker (label `broker`,
//! the leader of the note's partition when it was heard, as last read), beside the
//! per-partition series whose names stay as they are.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use kmidi_engine::listen::ListenReport;
use kmidi_engine::measure::brokers::{by_broker, silence_us};
use kmidi_engine::measure::{unix_us, Verdict};
use kmidi_engine::observe::Observer;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::families::{latency_histogram, Histograms};
use super::Metrics;
use crate::leaders::LiveLeaders;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct BrokerLabels {
    pub topic: String,
    pub broker: String,
    pub transport: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

pub(super) struct BrokerFamilies {
    received: Family<BrokerLabels, Counter>,
    late: Family<BrokerLabels, Counter>,
    latency: Histograms<BrokerLabels>,
    onset: Histograms<BrokerLabels>,
    silence: Family<BrokerLabels, FloatGauge>,
    lost: Family<BrokerLabels, Gauge>,
}

impl Default for BrokerFamilies {
    fn default() -> Self {
        BrokerFamilies {
            received: Family::default(),
            late: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            onset: Family::new_with_constructor(latency_histogram),
            silence: Family::default(),
            lost: Family::default(),
        }
    }
}

impl BrokerFamilies {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "kmidi_broker_messages_received",
            "Notes the instrument played, by the broker that led their partition",
            self.received.clone(),
        );
        r.register(
            "kmidi_broker_notes_late",
            "Notes heard more than 6 ms later than the score, by broker",
            self.late.clone(),
        );
        r.register(
            "kmidi_broker_end_to_end_latency_seconds",
            "Arrival minus the player's hand-off to the client, per note, by broker",
            self.latency.clone(),
        );
        r.register(
            "kmidi_broker_onset_error_seconds",
            "Absolute onset error against the score, per note, by broker",
            self.onset.clone(),
        );
        r.register(
            "kmidi_broker_longest_silence_seconds",
            "Longest time a broker's partitions stayed silent while a note of theirs was due",
            self.silence.clone(),
        );
        r.register(
            "kmidi_broker_records_skipped",
            "Records the instrument never read on a broker's partitions (offset gaps)",
            self.lost.clone(),
        );
    }
}

/// Feeds the per-broker series of one transport's instrument on one topic.
pub struct BrokerObserver {
    metrics: Arc<Metrics>,
    live: Arc<LiveLeaders>,
    transport: String,
    topic: String,
    /// Each broker's last arrival, µs since the Unix epoch, and its longest silence.
    heard: Mutex<HashMap<i32, (u64, u64)>>,
}

impl BrokerObserver {
    pub fn shared(
        metrics: &Arc<Metrics>,
        transport: &str,
        topic: &str,
        live: &Arc<LiveLeaders>,
    ) -> Arc<dyn Observer> {
        Arc::new(BrokerObserver {
            metrics: Arc::clone(metrics),
            live: Arc::clone(live),
            transport: transport.to_string(),
            topic: topic.to_string(),
            heard: Mutex::new(HashMap::new()),
        })
    }

    fn labels(&self, broker: i32) -> BrokerLabels {
        BrokerLabels {
            topic: self.topic.clone(),
            broker: broker.to_string(),
            transport: self.transport.clone(),
        }
    }
}

fn seconds(us: u64) -> f64 {
    us as f64 / 1e6
}

impl Observer for BrokerObserver {
    fn heard(&self, topic: &str, partition: i32, v: &Verdict) {
        if topic != self.topic {
            return;
        }
        let Some(broker) = self.live.leader(partition) else {
            return;
        };
        let f = &self.metrics.brokers;
        let labels = self.labels(broker);
        f.received.get_or_create(&labels).inc();
        drop(f.late.get_or_create(&labels));
        if v.late {
            f.late.get_or_create(&labels).inc();
        }
        if let Some(l) = v.latency_us {
            f.latency.get_or_create(&labels).observe(seconds(l));
        }
        let Some(onset) = v.onset_us else {
            return;
        };
        f.onset
            .get_or_create(&labels)
            .observe(seconds(onset.unsigned_abs()));
        // Against the song's anchor so far, as the live late count: the end-of-run
        // figure redoes it against the final anchor.
        let now = unix_us();
        let Ok(mut heard) = self.heard.lock() else {
            return;
        };
        let previous = heard.get(&broker).map(|(at, _)| *at);
        let longest = heard.get(&broker).map_or(0, |(_, l)| *l);
        let longest = longest.max(silence_us(previous, now, onset));
        heard.insert(broker, (now, longest));
        f.silence.get_or_create(&labels).set(seconds(longest));
    }

    fn live(&self, _report: &ListenReport) {
        let timeline = self.live.timeline();
        if timeline.is_empty() {
            return;
        }
        let gaps = self.live.gaps();
        for b in by_broker(&[], &timeline, Some(&gaps)) {
            let lost = i64::try_from(b.lost.unwrap_or(0)).unwrap_or(i64::MAX);
            self.metrics
                .brokers
                .lost
                .get_or_create(&self.labels(b.broker))
                .set(lost);
        }
    }
}

#[cfg(test)]
mod tests {
    use kmidi_transport::Leadership;

    use super::super::Role;
    use super::*;

    #[test]
    fn a_heard_note_feeds_its_partitions_leaders_series() {
        let metrics = Arc::new(Metrics::new(Role::Instrument));
        let live = Arc::new(LiveLeaders::default());
        let mut l = Leadership::unknown(2);
        l.known = true;
        l.partitions[0].leader = Some(1);
        l.partitions[1].leader = Some(2);
        live.observe(&l);
        let o = BrokerObserver::shared(&metrics, "rdkafka", "notes", &live);
        let late = Verdict {
            latency_us: Some(3_500),
            onset_us: Some(400_000),
            late: true,
            ..Verdict::default()
        };
        o.heard("notes", 1, &late);
        o.heard("notes", 0, &Verdict::default());
        live.offset(1, 4);
        live.offset(1, 7);
        o.live(&ListenReport::default());
        let text = metrics.encode();
        for line in [
            r#"kmidi_broker_messages_received_total{topic="notes",broker="2",transport="rdkafka"} 1"#,
            r#"kmidi_broker_notes_late_total{topic="notes",broker="2",transport="rdkafka"} 1"#,
            r#"kmidi_broker_notes_late_total{topic="notes",broker="1",transport="rdkafka"} 0"#,
            r#"kmidi_broker_longest_silence_seconds{topic="notes",broker="2",transport="rdkafka"} 0.4"#,
            r#"kmidi_broker_end_to_end_latency_seconds_bucket{le="0.004",topic="notes",broker="2",transport="rdkafka"} 1"#,
            r#"kmidi_broker_records_skipped{topic="notes",broker="2",transport="rdkafka"} 2"#,
            r#"kmidi_broker_records_skipped{topic="notes",broker="1",transport="rdkafka"} 0"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
    }
}
