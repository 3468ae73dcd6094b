//! What one broker or exec step cost one side's music: the notes before, during and
//! after it (as a load step's, by where the score puts them: `figures::step_figures`),
//! the notes heard twice or out of order while it lasted (by arrival), and the longest
//! silence of each partition and of each broker (its partitions taken together, as led
//! when the step started) while it lasted.
//!
//! A silence is the longest stretch of the step without a note arriving on the
//! partition: the music had nothing from it for that long. Rests in the score count
//! too, so compare with the same figure outside a step.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kmidi_engine::measure::Sample;

use crate::figures::{step_figures, AppliedStep, FiguresInput, WindowFigures};
use crate::scenario::{LoadStep, LoadTopic, Rate};

/// What [`charge`] needs of a step and a side.
#[derive(Clone, Copy, Debug)]
pub struct ChargeInput<'a> {
    pub samples: &'a [Sample],
    /// `scheduled_s[seq]`: where the score puts note `seq` (song time after speed).
    pub scheduled_s: Option<&'a [f64]>,
    /// Where the song started, µs since the Unix epoch: arrivals go on the song's axis.
    pub song_start_us: u64,
    /// The step on the song's time axis: from its action until the cluster was whole
    /// again (or the step gave up waiting).
    pub started_s: f64,
    pub ended_s: f64,
    /// Partition -> its leader when the step started.
    pub leaders: &'a BTreeMap<i32, i32>,
}

/// The longest silence of a partition or a broker during a step.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Silence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker: Option<i32>,
    /// The partitions a broker led when the step started.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<i32>,
    /// Song time s where the longest gap began, and how long it was, s.
    pub from_s: f64,
    pub longest_s: f64,
    /// Notes that arrived on it during the step.
    pub notes: u64,
}

/// What a step cost one side.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StepCharge {
    pub before: WindowFigures,
    pub during: WindowFigures,
    pub after: WindowFigures,
    /// Notes heard again, arriving during the step.
    pub duplicates: u64,
    /// Notes heard after a later note of their song, arriving during the step.
    pub reordered: u64,
    pub partitions: Vec<Silence>,
    pub brokers: Vec<Silence>,
}

impl StepCharge {
    /// The longest silence of any partition, s.
    pub fn longest_silence_s(&self) -> Option<f64> {
        self.partitions
            .iter()
            .map(|s| s.longest_s)
            .max_by(f64::total_cmp)
    }
}

/// A step as `step_figures` takes it: no load, only its span.
fn as_applied(from: f64, to: f64) -> AppliedStep {
    AppliedStep {
        step: 0,
        load: LoadStep {
            at: Duration::ZERO,
            rate: Rate::BytesPerSec(0.0),
            record_size: 1,
            duration: Duration::ZERO,
            topic: LoadTopic::default(),
            consumers: 0,
            ramp: None,
        },
        started_s: from,
        ended_s: to,
    }
}

/// The longest stretch of `[from, to]` without an arrival in `at` (song s): where it
/// began, how long it was, and how many arrivals the span had.
fn longest_gap(at: &[f64], from: f64, to: f64) -> (f64, f64, u64) {
    let inside: Vec<f64> = at
        .iter()
        .copied()
        .filter(|t| *t >= from && *t <= to)
        .collect();
    let mut points = Vec::with_capacity(inside.len() + 2);
    points.push(from);
    points.extend(inside.iter().copied());
    points.push(to);
    let mut best = (from, 0.0);
    for w in points.windows(2) {
        if w[1] - w[0] > best.1 {
            best = (w[0], w[1] - w[0]);
        }
    }
    (best.0, best.1, inside.len() as u64)
}

/// The figures of one step for one side.
pub fn charge(input: &ChargeInput<'_>) -> StepCharge {
    let (from, to) = (input.started_s, input.ended_s.max(input.started_s));
    let figures = step_figures(&FiguresInput {
        samples: input.samples,
        scheduled_s: input.scheduled_s,
        steps: &[as_applied(from, to)],
        ..FiguresInput::default()
    });
    let windows = figures.into_iter().next();
    let arrival = |s: &Sample| (s.arrived_unix_ms * 1000.0 - input.song_start_us as f64) / 1e6;
    let during = |s: &&Sample| {
        let t = arrival(s);
        t >= from && t <= to
    };
    let duplicates = input
        .samples
        .iter()
        .filter(during)
        .filter(|s| s.duplicate)
        .count() as u64;
    let reordered = input
        .samples
        .iter()
        .filter(during)
        .filter(|s| s.reordered)
        .count() as u64;
    let mut by_partition: BTreeMap<i32, Vec<f64>> = BTreeMap::new();
    for s in input.samples {
        by_partition
            .entry(s.partition)
            .or_default()
            .push(arrival(s));
    }
    for p in input.leaders.keys() {
        by_partition.entry(*p).or_default();
    }
    for at in by_partition.values_mut() {
        at.sort_by(f64::total_cmp);
    }
    let silence = |at: &[f64]| longest_gap(at, from, to);
    let partitions = by_partition
        .iter()
        .filter(|(_, at)| !at.is_empty())
        .map(|(p, at)| {
            let (from_s, longest_s, notes) = silence(at);
            Silence {
                partition: Some(*p),
                broker: input.leaders.get(p).copied(),
                partitions: Vec::new(),
                from_s,
                longest_s,
                notes,
            }
        })
        .collect();
    let brokers: BTreeSet<i32> = input.leaders.values().copied().collect();
    let brokers = brokers
        .into_iter()
        .filter_map(|b| {
            let led: Vec<i32> = input
                .leaders
                .iter()
                .filter(|(_, l)| **l == b)
                .map(|(p, _)| *p)
                .collect();
            let mut at: Vec<f64> = led
                .iter()
                .filter_map(|p| by_partition.get(p))
                .flatten()
                .copied()
                .collect();
            if at.is_empty() {
                return None;
            }
            at.sort_by(f64::total_cmp);
            let (from_s, longest_s, notes) = silence(&at);
            Some(Silence {
                partition: None,
                broker: Some(b),
                partitions: led,
                from_s,
                longest_s,
                notes,
            })
        })
        .collect();
    let (before, during, after) =
        windows.map_or_else(Default::default, |w| (w.before, w.during, w.after));
    StepCharge {
        before,
        during,
        after,
        duplicates,
        reordered,
        partitions,
        brokers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Notes every 100 ms on partitions 0 and 1 from song start `t0` (ms since the epoch),
    /// arriving on time, but partition 1 silent from 2.0 s to 3.5 s (its notes then lost).
    fn samples(t0: f64) -> Vec<Sample> {
        let mut out = Vec::new();
        for i in 0..60u64 {
            let at = i as f64 * 0.1;
            let p = (i % 2) as i32;
            if p == 1 && (2.0..3.5).contains(&at) {
                continue;
            }
            out.push(Sample::heard(i, p, at, t0 + at * 1000.0));
        }
        out
    }

    #[test]
    fn a_silent_partition_and_its_broker_are_charged_with_the_gap() {
        let t0 = 1_700_000_000_000.0;
        let samples = samples(t0);
        let leaders = BTreeMap::from([(0, 1), (1, 2)]);
        let c = charge(&ChargeInput {
            samples: &samples,
            scheduled_s: None,
            song_start_us: (t0 * 1000.0) as u64,
            started_s: 2.0,
            ended_s: 4.0,
            leaders: &leaders,
        });
        let p1 = &c.partitions[1];
        assert_eq!((p1.partition, p1.broker), (Some(1), Some(2)));
        // From the step's start (2.0 s) to the next note (3.5 s).
        assert!((p1.longest_s - 1.5).abs() < 1e-6, "{p1:?}");
        assert!((p1.from_s - 2.0).abs() < 1e-6);
        assert!((c.partitions[0].longest_s - 0.2).abs() < 1e-6, "{c:?}");
        let b2 = c.brokers.iter().find(|b| b.broker == Some(2)).unwrap();
        assert_eq!(b2.partitions, vec![1]);
        assert!((b2.longest_s - 1.5).abs() < 1e-6);
        assert!((c.longest_silence_s().unwrap() - 1.5).abs() < 1e-6);
        // Lost notes are charged to the window the score puts them in.
        assert!(c.during.lost >= 7, "{:?}", c.during);
        assert_eq!(c.before.lost, 0);
        assert_eq!((c.duplicates, c.reordered), (0, 0));
    }

    #[test]
    fn gaps_are_clipped_to_the_step() {
        assert_eq!(longest_gap(&[0.0, 10.0], 2.0, 4.0), (2.0, 2.0, 0));
        assert_eq!(longest_gap(&[2.5, 3.0], 2.0, 4.0), (3.0, 1.0, 2));
        assert_eq!(longest_gap(&[], 2.0, 4.0), (2.0, 2.0, 0));
    }
}
