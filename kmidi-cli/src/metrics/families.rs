//! Every series kmidi exports: their names, help, labels and buckets, registered by
//! what the process does ([`Role`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::Role;

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

pub(super) fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn lateness_histogram() -> Histogram {
    Histogram::new(LATENESS_BUCKETS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct NoteLabels {
    pub topic: String,
    pub partition: i32,
    pub transport: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct BadLabels {
    pub topic: String,
    pub partition: i32,
    pub transport: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct TopicLabels {
    pub topic: String,
    pub transport: String,
}

/// kminion's own label for its per-partition end-to-end series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct KminionLabels {
    pub partition_id: String,
}

pub(super) type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every series a run exports, in one registry.
pub struct Metrics {
    pub(super) registry: Registry,
    /// Scrapes answered so far, for [`Metrics::linger`].
    pub(super) scrapes: AtomicU64,
    pub(super) received: Family<NoteLabels, Counter>,
    pub(super) duplicated: Family<NoteLabels, Counter>,
    pub(super) reordered: Family<NoteLabels, Counter>,
    pub(super) late: Family<NoteLabels, Counter>,
    pub(super) missed_deadlines: Family<NoteLabels, Counter>,
    pub(super) bad: Family<BadLabels, Counter>,
    pub(super) latency: Histograms<NoteLabels>,
    pub(super) onset: Histograms<NoteLabels>,
    pub(super) lost: Family<TopicLabels, Gauge>,
    pub(super) tempo: Family<TopicLabels, Gauge<f64, AtomicU64>>,
    pub(super) transient: Family<TopicLabels, Counter>,
    pub(super) sent: Family<TopicLabels, Counter>,
    pub(super) send_errors: Family<TopicLabels, Counter>,
    pub(super) delivery_failures: Family<TopicLabels, Counter>,
    pub(super) lateness: Histograms<TopicLabels>,
    pub(super) kminion_received: Family<KminionLabels, Counter>,
    pub(super) kminion_roundtrip: Histograms<KminionLabels>,
    pub(super) kminion_produced: Counter,
    /// `--scenario`'s load.
    pub(super) load: super::load::LoadFamilies,
    /// The `kmidi_broker_*` series.
    pub(super) brokers: super::brokers::BrokerFamilies,
    /// What this process does, so only the series it feeds are exported.
    pub(super) role: Role,
}

impl Metrics {
    /// The series a process in `role` feeds, registered: a process that only listens
    /// exports no producer series (kminion's produced - received would be wrong) and
    /// one that only plays no listener series.
    pub fn new(role: Role) -> Self {
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
            load: Default::default(),
            brokers: Default::default(),
            role,
        };
        if role.listens() {
            m.register_listener();
            // Load runs with a listening command only.
            m.load.register(&mut m.registry);
            m.brokers.register(&mut m.registry);
        }
        if role.produces() {
            m.register_producer();
        }
        m
    }

    fn register_listener(&mut self) {
        let m = self;
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
            "kminion_end_to_end_messages_received",
            "kminion's name: messages received back, per partition",
            m.kminion_received.clone(),
        );
        r.register(
            "kminion_end_to_end_roundtrip_latency_seconds",
            "kminion's name: time from a message's creation until it was consumed",
            m.kminion_roundtrip.clone(),
        );
    }

    fn register_producer(&mut self) {
        let m = self;
        let r = &mut m.registry;
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
            "kminion_end_to_end_messages_produced",
            "kminion's name: messages the producer tried to send",
            m.kminion_produced.clone(),
        );
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
