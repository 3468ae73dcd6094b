//! The `--report` document: typed, versioned, and one shape for every command that
//! listens. `instrument` and `demo` write one side, `compare` two; a script reads
//! `sides[i].instrument` the same way whichever command wrote it.
//!
//! `schema_version` changes when a field is renamed or removed (adding one does not),
//! so a consumer can refuse a document it does not understand.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use kmidi_engine::assignment::Assignment;
use kmidi_engine::listen::ListenReport;
use kmidi_engine::measure::{
    Folded, Sample, SongFigures, AUDIBLE_FLIP_US, AUDIBLE_SHIFT_US, AUDIBLE_TEMPO,
};
use kmidi_engine::perform::PlayReport;
use kmidi_transport::TransportInfo;
use serde::Serialize;

use super::{figures, Figure};

/// Bumped when a field is renamed or removed.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct Document<'a> {
    pub schema_version: u32,
    pub kmidi_version: &'static str,
    /// `instrument`, `demo` or `compare`.
    pub command: &'static str,
    /// The bootstrap servers, or the embedded cluster's description.
    pub cluster: String,
    /// The song played (demo, compare); an instrument hears whatever comes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub song: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed_ratio: Option<f64>,
    pub sides: Vec<SideReport<'a>>,
    pub audibility_thresholds: Thresholds,
    /// `--scenario`'s load steps: as applied and what each achieved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<super::LoadSection>,
    /// `--scenario`'s broker and exec steps: what was done, when the ISR was full
    /// again, and what each cost each side's music.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faults: Option<crate::faults::FaultOutcome>,
}

impl<'a> Document<'a> {
    pub fn new(command: &'static str, cluster: String, sides: Vec<SideReport<'a>>) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            kmidi_version: env!("CARGO_PKG_VERSION"),
            command,
            cluster,
            song: None,
            speed_ratio: None,
            sides,
            audibility_thresholds: Thresholds::default(),
            load: None,
            faults: None,
        }
    }
}

#[derive(Serialize)]
pub struct Thresholds {
    pub shift_us: u64,
    pub flip_us: u64,
    pub tempo: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            shift_us: AUDIBLE_SHIFT_US,
            flip_us: AUDIBLE_FLIP_US,
            tempo: AUDIBLE_TEMPO,
        }
    }
}

/// One client library's run: its settings, what its player sent (when this process
/// played) and what its instrument heard.
#[derive(Serialize)]
pub struct SideReport<'a> {
    /// `instrument`, `demo`, or `A (rdkafka)` / `B (...)` in a compare.
    pub label: String,
    pub transport: TransportSummary,
    /// The broker's own description of the cluster, where the client can ask.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker: Option<String>,
    pub topic: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_partitions: Option<i32>,
    pub group: String,
    /// Where a group without committed offsets started (`latest` / `earliest`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<&'static str>,
    /// `key=value`, secrets shown as `***`.
    pub client_properties: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<super::EffectiveSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub player: Option<PlayerFigures>,
    pub instrument: InstrumentFigures<'a>,
    /// `compare --members/--churn`: the group's churn events and what they cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebalance: Option<super::Rebalance>,
    /// What each load step of `--scenario` cost this side's music.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<super::SideLoad>,
    /// Figures per broker, where leadership is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brokers: Option<super::Brokers>,
}

impl<'a> SideReport<'a> {
    /// A side with only what every command knows; the caller fills in the rest.
    pub fn new(
        label: impl Into<String>,
        transport: &TransportInfo,
        topic: &str,
        group: &str,
        listened: &'a ListenReport,
    ) -> Self {
        Self {
            label: label.into(),
            transport: TransportSummary::of(transport),
            broker: None,
            topic: topic.to_string(),
            topic_partitions: None,
            group: group.to_string(),
            from: None,
            client_properties: Vec::new(),
            settings: None,
            player: None,
            instrument: InstrumentFigures::of(listened),
            rebalance: None,
            load: None,
            brokers: None,
        }
    }
}

#[derive(Serialize)]
pub struct TransportSummary {
    pub name: String,
    pub library: String,
    pub version: String,
}

impl TransportSummary {
    pub fn of(info: &TransportInfo) -> Self {
        Self {
            name: info.name.clone(),
            library: info.library.clone(),
            version: info.library_version.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct PlayerFigures {
    pub sent: u64,
    pub send_errors: u64,
    pub delivery_failures: u64,
    /// The final flush's error, if it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flush_error: Option<String>,
    pub interrupted: bool,
    /// Hand-off to the client minus the score's deadline.
    pub lateness: Option<Spread>,
}

impl PlayerFigures {
    pub fn of(played: &PlayReport, flushed: &Result<(), String>) -> Self {
        Self {
            sent: played.sent,
            send_errors: played.send_errors,
            delivery_failures: played.delivery_failures,
            flush_error: flushed.as_ref().err().cloned(),
            interrupted: played.interrupted,
            lateness: Spread::of(&played.lateness_us),
        }
    }
}

/// What one instrument heard.
#[derive(Serialize)]
pub struct InstrumentFigures<'a> {
    pub played: u64,
    pub listened_s: f64,
    pub interrupted: bool,
    /// The consumer's fatal error, if listening ended on one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fatal: Option<&'a str>,
    /// The rows of the printed table.
    pub summary: Vec<Figure>,
    pub histograms: Histograms,
    pub tempo: Option<f64>,
    pub late: u64,
    pub reordered: u64,
    pub reordered_audible: u64,
    pub duplicates: u64,
    pub unmeasured: u64,
    pub bad_records: &'a BTreeMap<&'static str, u64>,
    pub transient_errors: u64,
    pub rebalances: usize,
    pub assignments: &'a [Assignment],
    /// Per (run, pass, song): the most recent ones on a long run...
    pub songs: Vec<SongFigures>,
    /// ...and the sums of the older ones, folded to keep memory flat.
    pub songs_folded: &'a Folded,
    pub partitions: Vec<PartitionReport>,
    /// Per note, for the plot and for users' own analysis: the most recent ones.
    pub samples: &'a [Sample],
    /// With `--playout-delay`: the delay and the notes that missed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playout: Option<PlayoutReport>,
}

#[derive(Serialize)]
pub struct PlayoutReport {
    pub delay_ms: f64,
    pub missed_deadlines: u64,
    pub per_partition: Vec<PartitionCount>,
}

#[derive(Serialize)]
pub struct PartitionCount {
    pub topic: String,
    pub partition: i32,
    pub count: u64,
}

impl<'a> InstrumentFigures<'a> {
    pub fn of(report: &'a ListenReport) -> Self {
        let m = &report.meter;
        Self {
            played: report.played,
            listened_s: report.listened.as_secs_f64(),
            interrupted: report.interrupted,
            fatal: report.fatal.as_deref(),
            summary: figures(report),
            histograms: Histograms {
                latency: Spread::of(&m.latency_us),
                onset_error_abs: Spread::of(&m.onset_us),
                jitter: Spread::of(&m.jitter_us),
            },
            tempo: m.tempo(),
            late: m.late,
            reordered: m.reordered,
            reordered_audible: m.reordered_audible,
            duplicates: m.duplicates,
            unmeasured: m.unmeasured,
            bad_records: &report.bad,
            transient_errors: report.transient_errors,
            rebalances: report.assignments.rebalances(),
            assignments: &report.assignments.history,
            songs: m.songs(),
            songs_folded: m.folded(),
            partitions: m
                .partitions
                .iter()
                .map(|((topic, partition), f)| PartitionReport {
                    topic: topic.clone(),
                    partition: *partition,
                    count: f.count,
                    latency: Spread::of(&f.latency_us),
                })
                .collect(),
            samples: &m.samples,
            playout: report.playout.as_ref().map(|p| PlayoutReport {
                delay_ms: p.delay.as_secs_f64() * 1000.0,
                missed_deadlines: p.missed_total(),
                per_partition: p
                    .missed
                    .iter()
                    .map(|((topic, partition), count)| PartitionCount {
                        topic: topic.clone(),
                        partition: *partition,
                        count: *count,
                    })
                    .collect(),
            }),
        }
    }
}

#[derive(Serialize)]
pub struct Histograms {
    pub latency: Option<Spread>,
    pub onset_error_abs: Option<Spread>,
    pub jitter: Option<Spread>,
}

#[derive(Serialize)]
pub struct PartitionReport {
    pub topic: String,
    pub partition: i32,
    pub count: u64,
    pub latency: Option<Spread>,
}

/// A histogram's shape, µs; `None` (JSON null) when nothing was measured.
#[derive(Serialize)]
pub struct Spread {
    pub count: u64,
    pub min_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
    pub percentiles_us: Vec<Quantile>,
}

#[derive(Serialize)]
pub struct Quantile {
    pub q: f64,
    pub us: u64,
}

impl Spread {
    pub fn of(h: &Histogram<u64>) -> Option<Self> {
        (!h.is_empty()).then(|| Self {
            count: h.len(),
            min_us: h.min(),
            max_us: h.max(),
            mean_us: h.mean(),
            percentiles_us: [0.5, 0.9, 0.99, 0.999]
                .iter()
                .map(|&q| Quantile {
                    q,
                    us: h.value_at_quantile(q),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use kmidi_engine::measure::Meter;
    use kmidi_engine::wire::Measure;
    use kmidi_transport::Capabilities;

    use super::*;

    fn heard(notes: u64) -> ListenReport {
        let mut meter = Meter::default();
        let t0 = Instant::now();
        for seq in 0..notes {
            let m = Measure {
                run: Some("r".into()),
                song: Some("s.mid".into()),
                seq: Some(seq),
                total: Some(notes),
                offset_us: Some(seq * 100_000),
                sent_us: Some(1_000),
                ..Measure::default()
            };
            meter.observe(t0 + Duration::from_millis(seq * 100), 3_000, "t", 0, &m);
        }
        meter.finish();
        ListenReport {
            played: notes,
            bad: BTreeMap::from([("not_json", 1)]),
            meter,
            fatal: None,
            ..ListenReport::default()
        }
    }

    fn info() -> TransportInfo {
        TransportInfo {
            name: "t".into(),
            library: "lib".into(),
            library_version: "1".into(),
            capabilities: Capabilities::default(),
        }
    }

    #[test]
    fn every_command_writes_the_same_top_level_shape() {
        let (a, b) = (heard(3), heard(4));
        let one = Document::new(
            "instrument",
            "c".into(),
            vec![SideReport::new("i", &info(), "t", "g", &a)],
        );
        let two = Document::new(
            "compare",
            "c".into(),
            vec![
                SideReport::new("A (t)", &info(), "t_a", "g", &a),
                SideReport::new("B (t)", &info(), "t_b", "g", &b),
            ],
        );
        let keys = |d: &Document| {
            let v = serde_json::to_value(d).unwrap();
            v.as_object().unwrap().keys().cloned().collect::<Vec<_>>()
        };
        assert_eq!(keys(&one), keys(&two));
        let v = serde_json::to_value(&two).unwrap();
        assert_eq!(v["schema_version"], SCHEMA_VERSION);
        assert_eq!(v["sides"][1]["instrument"]["played"], 4);
        assert_eq!(v["sides"][0]["instrument"]["bad_records"]["not_json"], 1);
        assert_eq!(v["sides"][0]["instrument"]["songs"][0]["heard"], 3);
        assert_eq!(
            v["sides"][0]["instrument"]["histograms"]["latency"]["max_us"],
            2_000
        );
    }
}
