//! One side's view into the shared metrics: the engines' [`Observer`], feeding every
//! series with its transport and topic labels. Series a dashboard reads are created at
//! 0 as soon as their labels are known (a partition assigned or heard from, a topic
//! listened to or played to), so a panel shows 0 where nothing happened rather than
//! "no data".

use std::sync::Arc;

use kmidi_engine::listen::{ListenReport, BAD_RECORD_KINDS};
use kmidi_engine::measure::Verdict;
use kmidi_engine::observe::Observer;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use super::families::{BadLabels, KminionLabels, NoteLabels, TopicLabels};
use super::Metrics;

pub struct SideObserver {
    metrics: Arc<Metrics>,
    transport: String,
    topic: String,
}

impl SideObserver {
    pub fn shared(metrics: &Arc<Metrics>, transport: &str, topic: &str) -> Arc<dyn Observer> {
        let side = Self {
            metrics: Arc::clone(metrics),
            transport: transport.to_string(),
            topic: topic.to_string(),
        };
        side.zero_topic();
        Arc::new(side)
    }

    fn note(&self, topic: &str, partition: i32) -> NoteLabels {
        NoteLabels {
            topic: topic.to_string(),
            partition,
            transport: self.transport.clone(),
        }
    }

    fn topic(&self, topic: &str) -> TopicLabels {
        TopicLabels {
            topic: topic.to_string(),
            transport: self.transport.clone(),
        }
    }

    /// The per-topic counters of what this process does, at 0.
    fn zero_topic(&self) {
        let m = &self.metrics;
        let labels = self.topic(&self.topic);
        if m.role.listens() {
            touch(&m.transient, &labels);
        }
        if m.role.produces() {
            for family in [&m.sent, &m.send_errors, &m.delivery_failures] {
                touch(family, &labels);
            }
        }
    }

    /// The per-partition counters of a partition now known, at 0 (`get_or_create`
    /// leaves a counter that exists alone).
    fn zero_partition(&self, topic: &str, partition: i32) {
        let m = &self.metrics;
        let labels = self.note(topic, partition);
        for family in [&m.received, &m.duplicated, &m.reordered, &m.late] {
            touch(family, &labels);
        }
        for kind in BAD_RECORD_KINDS {
            let labels = BadLabels {
                topic: topic.to_string(),
                partition,
                transport: self.transport.clone(),
                kind: kind.to_string(),
            };
            touch(&m.bad, &labels);
        }
    }
}

/// Creates the counter at `labels` if it is missing, leaving an existing one as it is.
fn touch<L>(family: &Family<L, Counter>, labels: &L)
where
    L: Clone + std::hash::Hash + Eq,
{
    // The guard only holds the family's lock: release it at once.
    drop(family.get_or_create(labels));
}

fn seconds(us: u64) -> f64 {
    us as f64 / 1e6
}

impl Observer for SideObserver {
    fn heard(&self, topic: &str, partition: i32, v: &Verdict) {
        let m = &self.metrics;
        self.zero_partition(topic, partition);
        let labels = self.note(topic, partition);
        m.received.get_or_create(&labels).inc();
        let kminion = KminionLabels {
            partition_id: partition.to_string(),
        };
        m.kminion_received.get_or_create(&kminion).inc();
        if let Some(l) = v.latency_us {
            m.latency.get_or_create(&labels).observe(seconds(l));
            m.kminion_roundtrip
                .get_or_create(&kminion)
                .observe(seconds(l));
        }
        if let Some(o) = v.onset_us {
            m.onset
                .get_or_create(&labels)
                .observe(seconds(o.unsigned_abs()));
        }
        for (flag, family) in [
            (v.duplicate, &m.duplicated),
            (v.reordered, &m.reordered),
            (v.late, &m.late),
        ] {
            if flag {
                family.get_or_create(&labels).inc();
            }
        }
    }

    fn bad_record(&self, topic: &str, partition: i32, kind: &'static str) {
        self.zero_partition(topic, partition);
        let labels = BadLabels {
            topic: topic.to_string(),
            partition,
            transport: self.transport.clone(),
            kind: kind.to_string(),
        };
        self.metrics.bad.get_or_create(&labels).inc();
    }

    fn missed_deadline(&self, topic: &str, partition: i32) {
        let labels = self.note(topic, partition);
        self.metrics.missed_deadlines.get_or_create(&labels).inc();
    }

    fn transient_error(&self) {
        self.metrics
            .transient
            .get_or_create(&self.topic(&self.topic))
            .inc();
    }

    fn live(&self, report: &ListenReport) {
        if let Some(now) = report.assignments.history.last() {
            for (topic, partition) in &now.partitions {
                self.zero_partition(topic, *partition);
            }
        }
        let labels = self.topic(&self.topic);
        let m = &self.metrics;
        m.lost
            .get_or_create(&labels)
            .set(i64::try_from(report.meter.lost()).unwrap_or(i64::MAX));
        if let Some(t) = report.meter.live_tempo() {
            m.tempo.get_or_create(&labels).set(t);
        }
    }

    fn sent(&self, topic: &str, lateness_us: u64, ok: bool) {
        let m = &self.metrics;
        let labels = self.topic(topic);
        m.kminion_produced.inc();
        m.lateness
            .get_or_create(&labels)
            .observe(seconds(lateness_us));
        if ok {
            m.sent.get_or_create(&labels).inc();
        } else {
            m.send_errors.get_or_create(&labels).inc();
        }
    }

    fn delivery_failed(&self, topic: &str) {
        self.metrics
            .delivery_failures
            .get_or_create(&self.topic(topic))
            .inc();
    }
}
