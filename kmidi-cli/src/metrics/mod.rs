//! `--metrics ADDR:PORT`: what a run measures, served live in Prometheus's text format
//! on `/metrics` (prometheus-client's registry and encoder; `server` is the HTTP side),
//! for dashboards and alerts on a probe that runs for days.
//!
//! Latencies are histograms in seconds with buckets from 100 µs to 30 s whose edges
//! include the ear's thresholds (6 ms heard as out of time, 20 ms as a wrong melody),
//! which kminion's end-to-end histograms (from 5 ms) cannot resolve. Where kminion has
//! the same measurement, the same name is exported too (`kminion_end_to_end_*`, label
//! `partition_id`), so its dashboards work on kmidi; README's metrics section has the
//! list and the mapping.

mod server;

use std::sync::Arc;

use kmidi_engine::listen::ListenReport;
use kmidi_engine::measure::Verdict;
use kmidi_engine::observe::Observer;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::cli::MetricsArgs;

/// The metrics `--metrics` asks for, already served; `None` without the flag.
pub fn start(args: &MetricsArgs) -> anyhow::Result<Option<Arc<Metrics>>> {
    let Some(addr) = &args.metrics else {
        return Ok(None);
    };
    let metrics = Arc::new(Metrics::new());
    server::serve(addr, Arc::clone(&metrics))?;
    Ok(Some(metrics))
}

/// How long a command that ended by itself waits for a last scrape.
pub const LINGER: Duration = Duration::from_secs(15);

/// Before exiting: the last scrape, unless a signal ended the run (the user wants out).
pub fn finish(metrics: &Option<Arc<Metrics>>, interrupted: bool) {
    if let (Some(m), false) = (metrics, interrupted) {
        m.linger(LINGER);
    }
}

/// The observer feeding `metrics` for one transport's clients on `topic`.
pub fn observer(
    metrics: &Option<Arc<Metrics>>,
    transport: &str,
    topic: &str,
) -> Option<Arc<dyn Observer>> {
    metrics
        .as_ref()
        .map(|m| SideObserver::shared(m, transport, topic))
}

/// Upper bucket edges of the note latency histograms, s: sub-millisecond to seconds,
/// with the ear's thresholds (6 ms, 20 ms) as edges.
const LATENCY_BUCKETS: [f64; 24] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.015, 0.02,
    0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// The player hands notes over within microseconds of their deadlines when all is well.
const LATENESS_BUCKETS: [f64; 12] = [
    0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 1.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn lateness_histogram() -> Histogram {
    Histogram::new(LATENESS_BUCKETS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NoteLabels {
    topic: String,
    partition: i32,
    transport: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BadLabels {
    topic: String,
    partition: i32,
    transport: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TopicLabels {
    topic: String,
    transport: String,
}

/// kminion's own label for its per-partition end-to-end series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KminionLabels {
    partition_id: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every series a run exports, in one registry.
pub struct Metrics {
    registry: Registry,
    /// Scrapes answered so far, for [`Metrics::linger`].
    scrapes: AtomicU64,
    received: Family<NoteLabels, Counter>,
    duplicated: Family<NoteLabels, Counter>,
    reordered: Family<NoteLabels, Counter>,
    late: Family<NoteLabels, Counter>,
    missed_deadlines: Family<NoteLabels, Counter>,
    bad: Family<BadLabels, Counter>,
    latency: Histograms<NoteLabels>,
    onset: Histograms<NoteLabels>,
    lost: Family<TopicLabels, Gauge>,
    tempo: Family<TopicLabels, Gauge<f64, AtomicU64>>,
    transient: Family<TopicLabels, Counter>,
    sent: Family<TopicLabels, Counter>,
    send_errors: Family<TopicLabels, Counter>,
    delivery_failures: Family<TopicLabels, Counter>,
    lateness: Histograms<TopicLabels>,
    kminion_received: Family<KminionLabels, Counter>,
    kminion_roundtrip: Histograms<KminionLabels>,
    kminion_produced: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut m = Self {
            registry: Registry::default(),
            scrapes: AtomicU64::new(0),
            received: Family::default(),
            duplicated: Family::default(),
            reordered: Family::default(),
            late: Family::default(),
            missed_deadlines: Family::default(),
            bad: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            onset: Family::new_with_constructor(latency_histogram),
            lost: Family::default(),
            tempo: Family::default(),
            transient: Family::default(),
            sent: Family::default(),
            send_errors: Family::default(),
            delivery_failures: Family::default(),
            lateness: Family::new_with_constructor(lateness_histogram),
            kminion_received: Family::default(),
            kminion_roundtrip: Family::new_with_constructor(latency_histogram),
            kminion_produced: Counter::default(),
        };
        let r = &mut m.registry;
        r.register(
            "kmidi_messages_received",
            "Notes the instrument played",
            m.received.clone(),
        );
        r.register(
            "kmidi_messages_duplicated",
            "Notes heard a second time (same run, pass, song and sequence number)",
            m.duplicated.clone(),
        );
        r.register(
            "kmidi_messages_reordered",
            "Notes heard after a later note of their song",
            m.reordered.clone(),
        );
        r.register(
            "kmidi_notes_late",
            "Notes heard more than 6 ms later than the score puts them",
            m.late.clone(),
        );
        r.register(
            "kmidi_playout_missed_deadlines",
            "With --playout-delay: notes that arrived after their playout time",
            m.missed_deadlines.clone(),
        );
        r.register(
            "kmidi_bad_records",
            "Records skipped because they are not a playable note, by kind",
            m.bad.clone(),
        );
        r.register(
            "kmidi_end_to_end_latency_seconds",
            "Arrival minus the player's hand-off to the client, per note",
            m.latency.clone(),
        );
        r.register(
            "kmidi_onset_error_seconds",
            "Absolute difference between when a note was heard and when the score puts it",
            m.onset.clone(),
        );
        r.register(
            "kmidi_messages_lost",
            "Sequence gaps inside the songs heard so far (a late note can close one)",
            m.lost.clone(),
        );
        r.register(
            "kmidi_tempo_ratio",
            "Tempo over the last seconds, 1 = as the score, 0.9 = 10 % slow",
            m.tempo.clone(),
        );
        r.register(
            "kmidi_consumer_transient_errors",
            "Consumer errors the client retries (a broker restarting, a rebalance)",
            m.transient.clone(),
        );
        r.register(
            "kmidi_player_messages_sent",
            "Notes the player handed to the client",
            m.sent.clone(),
        );
        r.register(
            "kmidi_player_send_errors",
            "Notes the client refused to take",
            m.send_errors.clone(),
        );
        r.register(
            "kmidi_player_delivery_failures",
            "Notes the client took but reported as not delivered",
            m.delivery_failures.clone(),
        );
        r.register(
            "kmidi_player_scheduling_lateness_seconds",
            "Hand-off to the client minus the score's deadline",
            m.lateness.clone(),
        );
        r.register(
            "kminion_end_to_end_messages_received",
            "kminion's name: messages received back, per partition",
            m.kminion_received.clone(),
        );
        r.register(
            "kminion_end_to_end_roundtrip_latency_seconds",
            "kminion's name: time from a message's creation until it was consumed",
            m.kminion_roundtrip.clone(),
        );
        r.register(
            "kminion_end_to_end_messages_produced",
            "kminion's name: messages the producer tried to send",
            m.kminion_produced.clone(),
        );
        m
    }

    /// After a run that ended by itself, keeps `/metrics` up until one more scrape has
    /// read the final figures (at most `bound`): a probe that exits between two scrapes
    /// would otherwise never report its last notes.
    pub fn linger(&self, bound: Duration) {
        let before = self.scrapes.load(Ordering::SeqCst);
        let started = Instant::now();
        eprintln!(
            "metrics: waiting for a last scrape (at most {}s)",
            bound.as_secs()
        );
        while self.scrapes.load(Ordering::SeqCst) == before && started.elapsed() < bound {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The text Prometheus scrapes.
    pub fn encode(&self) -> String {
        self.scrapes.fetch_add(1, Ordering::SeqCst);
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// One side's view into the shared metrics: its transport (and instrument topic)
/// label every series it feeds.
pub struct SideObserver {
    metrics: Arc<Metrics>,
    transport: String,
    topic: String,
}

impl SideObserver {
    pub fn shared(metrics: &Arc<Metrics>, transport: &str, topic: &str) -> Arc<dyn Observer> {
        Arc::new(Self {
            metrics: Arc::clone(metrics),
            transport: transport.to_string(),
            topic: topic.to_string(),
        })
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
}

fn seconds(us: u64) -> f64 {
    us as f64 / 1e6
}

impl Observer for SideObserver {
    fn heard(&self, topic: &str, partition: i32, v: &Verdict) {
        let m = &self.metrics;
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

#[cfg(test)]
mod tests;
