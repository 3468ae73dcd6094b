//! Figures per broker (`kmidi_engine::measure::brokers`), as the `--report`'s
//! `sides[i].brokers` and as the printed per-broker block: latency, onset error, late,
//! lost and the longest silence of the notes of the partitions each broker led, with
//! its voice under `--voices broker`.

use std::fmt::Write as _;

use kmidi_engine::measure::brokers::{BrokerFigures, LeaderTimeline};
use kmidi_engine::measure::Sample;
use kmidi_midi::sink::BrokerVoices;
use serde::Serialize;

/// What is charged to whom.
pub const CHARGED_TO: &str = "the partition's leader when the note was heard";

/// One side's figures per broker.
#[derive(Clone, Debug, Serialize)]
pub struct Brokers {
    /// Which broker a note is charged to: [`CHARGED_TO`].
    pub charged_to: &'static str,
    pub per_broker: Vec<BrokerReport>,
    /// Leadership changes seen while listening.
    pub leader_moves: Vec<LeaderMove>,
    /// Who led what when, for the plot's series per broker.
    #[serde(skip)]
    pub timeline: LeaderTimeline,
}

#[derive(Clone, Debug, Serialize)]
pub struct BrokerReport {
    pub broker: i32,
    /// The partitions it led at some point of the run.
    pub partitions: Vec<i32>,
    /// Its voice under `--voices broker`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice: Option<Voice>,
    pub notes: u64,
    pub duplicates: u64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub onset_error_p99_ms: Option<f64>,
    /// Notes more than 6 ms later than the score.
    pub late: u64,
    /// Records its partitions skipped (offset gaps); `None` when not tracked.
    pub lost: Option<u64>,
    /// The longest time its partitions stayed silent while a note of theirs was due.
    pub longest_silence_ms: f64,
    /// When that silence ended, ms since the Unix epoch, and where in its song, s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silence_ended_unix_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silence_at_s: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Voice {
    pub channel: u8,
    pub program: u8,
    pub instrument: &'static str,
    pub pan: u8,
}

#[derive(Clone, Debug, Serialize)]
pub struct LeaderMove {
    pub at_unix_ms: f64,
    pub partition: i32,
    pub from: Option<i32>,
    pub to: Option<i32>,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Brokers {
    pub fn of(
        figures: &[BrokerFigures],
        voices: Option<&BrokerVoices>,
        timeline: &LeaderTimeline,
    ) -> Self {
        let per_broker = figures
            .iter()
            .map(|f| {
                let measured = !f.latency_us.is_empty();
                let heard = f.notes > 0;
                BrokerReport {
                    broker: f.broker,
                    partitions: f.partitions.clone(),
                    voice: voices.and_then(|v| v.get(f.broker)).map(|v| Voice {
                        channel: v.channel,
                        program: v.program,
                        instrument: v.instrument,
                        pan: v.pan,
                    }),
                    notes: f.notes,
                    duplicates: f.duplicates,
                    latency_p50_ms: measured.then(|| ms(f.latency_us.value_at_quantile(0.5))),
                    latency_p99_ms: measured.then(|| ms(f.latency_us.value_at_quantile(0.99))),
                    onset_error_p99_ms: heard.then(|| ms(f.onset_us.value_at_quantile(0.99))),
                    late: f.late,
                    lost: f.lost,
                    longest_silence_ms: ms(f.longest_silence_us),
                    silence_ended_unix_ms: f.silence_ended_unix_ms,
                    silence_at_s: f.silence_at_s,
                }
            })
            .collect();
        let leader_moves = timeline
            .moves()
            .into_iter()
            .map(|(at_unix_ms, partition, from, to)| LeaderMove {
                at_unix_ms,
                partition,
                from,
                to,
            })
            .collect();
        Brokers {
            charged_to: CHARGED_TO,
            per_broker,
            leader_moves,
            timeline: timeline.clone(),
        }
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1}"))
}

/// The printed block: one line per broker.
pub fn table(label: &str, brokers: &Brokers) -> String {
    let mut out = format!(
        "per broker ({label}; notes charged to {}):\n",
        brokers.charged_to
    );
    let _ = writeln!(
        out,
        "  {:<8} {:<12} {:>6} {:>16} {:>10} {:>6} {:>5} {:>15}  voice",
        "broker",
        "partitions",
        "notes",
        "latency p50/99",
        "onset p99",
        "late",
        "lost",
        "longest silence"
    );
    for b in &brokers.per_broker {
        let parts: Vec<String> = b.partitions.iter().map(i32::to_string).collect();
        let voice = b.voice.as_ref().map_or(String::new(), |v| {
            format!("{} (ch {}, pan {})", v.instrument, v.channel + 1, v.pan)
        });
        let _ = writeln!(
            out,
            "  {:<8} {:<12} {:>6} {:>16} {:>10} {:>6} {:>5} {:>15}  {voice}",
            b.broker,
            parts.join(","),
            b.notes,
            format!("{}/{} ms", opt(b.latency_p50_ms), opt(b.latency_p99_ms)),
            format!("{} ms", opt(b.onset_error_p99_ms)),
            b.late,
            b.lost.map_or("-".into(), |l| l.to_string()),
            format!("{:.0} ms", b.longest_silence_ms),
        );
    }
    for m in &brokers.leader_moves {
        let show = |b: Option<i32>| b.map_or("none".into(), |b| format!("broker {b}"));
        let _ = writeln!(
            out,
            "  partition {} moved: {} -> {}",
            m.partition,
            show(m.from),
            show(m.to)
        );
    }
    out
}

/// The plot's series: one per broker, each named after the broker (and its voice),
/// with the notes charged to it; notes of a partition without a known leader last.
pub fn series(samples: &[Sample], brokers: &Brokers) -> Vec<(String, Vec<Sample>)> {
    let mut out: Vec<(String, Vec<Sample>)> = brokers
        .per_broker
        .iter()
        .map(|b| {
            let name = match &b.voice {
                Some(v) => format!("broker {} ({})", b.broker, v.instrument),
                None => format!("broker {}", b.broker),
            };
            (name, Vec::new())
        })
        .collect();
    let mut unknown = Vec::new();
    for s in samples {
        let at = brokers.timeline.leader_at(s.partition, s.arrived_unix_ms);
        match at.and_then(|b| brokers.per_broker.iter().position(|r| r.broker == b)) {
            Some(i) => out[i].1.push(s.clone()),
            None => unknown.push(s.clone()),
        }
    }
    if !unknown.is_empty() {
        out.push(("leader unknown".to_string(), unknown));
    }
    out
}

/// Brokers whose partitions carried no note: the player keyed its notes elsewhere.
pub fn silent_brokers(brokers: &Brokers) -> Vec<i32> {
    brokers
        .per_broker
        .iter()
        .filter(|b| b.notes == 0)
        .map(|b| b.broker)
        .collect()
}

#[cfg(test)]
mod tests {
    use kmidi_engine::measure::brokers::by_broker;
    use kmidi_engine::measure::Sample;

    use super::*;

    #[test]
    fn the_block_shows_every_broker_with_its_voice_and_silence() {
        let mut t = LeaderTimeline::default();
        t.record(0.0, [(0, Some(1)), (1, Some(2))]);
        let mut late = Sample::heard(0, 1, 0.5, 5000.0);
        late.onset_ms = 3000.0;
        late.latency_ms = Some(3004.0);
        let figures = by_broker(std::slice::from_ref(&late), &t, None);
        let voices = BrokerVoices::assign(&[1, 2], None);
        let b = Brokers::of(&figures, Some(&voices), &t);
        assert_eq!(silent_brokers(&b), [1]);
        assert_eq!(b.per_broker[1].longest_silence_ms, 3000.0);
        let text = table("instrument", &b);
        assert!(text.contains("string ensemble (ch 2, pan 111)"), "{text}");
        assert!(text.contains("3000 ms"), "{text}");
        let json = serde_json::to_value(&b).unwrap();
        assert_eq!(json["per_broker"][1]["voice"]["program"], 48);
        assert_eq!(json["charged_to"], CHARGED_TO);
        let mut stray = Sample::heard(1, 5, 0.1, 10.0);
        stray.latency_ms = Some(1.0);
        let split = series(&[stray, late], &b);
        let names: Vec<&str> = split.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "broker 1 (acoustic grand piano)",
                "broker 2 (string ensemble)",
                "leader unknown"
            ]
        );
        assert_eq!(split[1].1.len(), 1);
    }
}
