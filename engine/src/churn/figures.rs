//! What each churn event cost, from the group's log and the notes heard.
//!
//! An event owns the stretch of time from the moment it was applied to the next event
//! (or the end). What the ear hears is charged to the event whose stretch holds the
//! moment it was heard: a note late, duplicated (a replay after a member died) or
//! reordered by its *arrival*, a silence by the note that *ended* it. A lost note is
//! never heard, so it is charged by where the score put it. The silence of a
//! partition is its longest gap between two notes heard on it ending in the stretch
//! (the first of them may be from before the event); `beyond_score_ms` takes the
//! score's own rest out of it (see `Score::rest_between`): rests are the composer's,
//! not the rebalance's.

use std::collections::{BTreeMap, BTreeSet};

use super::{ChurnKind, GroupLog};
use crate::measure::{Sample, AUDIBLE_SHIFT_US};

/// The longest silence of one partition during an event.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PartitionSilence {
    pub partition: i32,
    /// Between the two notes heard, ms.
    pub silence_ms: f64,
    /// `silence_ms` less the score's own gap between those notes, ms.
    pub beyond_score_ms: f64,
    /// False when nothing was heard on the partition after the event.
    pub resumed: bool,
}

/// What one churn event cost.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EventFigures {
    pub event: String,
    pub kind: ChurnKind,
    pub at_score_s: f64,
    /// From the song's start, s (after speed).
    pub applied_at_s: f64,
    pub member: Option<usize>,
    pub silences: Vec<PartitionSilence>,
    pub late: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub reordered: u64,
    /// Assignment changes the members reported in the event's stretch.
    pub assignment_changes: u64,
    /// Until every partition was held by one live member again, with no change after,
    /// s; `None` if that did not happen before the next event, or cannot be told.
    pub stable_after_s: Option<f64>,
}

impl EventFigures {
    /// The partition silent longest beyond the score.
    pub fn worst_silence(&self) -> Option<&PartitionSilence> {
        self.silences
            .iter()
            .max_by(|a, b| a.beyond_score_ms.total_cmp(&b.beyond_score_ms))
    }
}

/// Per-event figures. `scheduled_us[seq]` is where the score puts note `seq` after
/// speed (µs from the song's start); `end_us` is when listening ended (wall clock).
pub fn event_figures(
    log: &GroupLog,
    samples: &[Sample],
    scheduled_us: &[u64],
    end_us: u64,
) -> Vec<EventFigures> {
    let Some(start) = log.song_start_us else {
        return Vec::new();
    };
    let arrived_us = |s: &Sample| (s.arrived_unix_ms * 1000.0) as u64;
    let mut by_partition: BTreeMap<i32, Vec<&Sample>> =
        (0..log.partitions).map(|p| (p, Vec::new())).collect();
    for s in samples {
        by_partition.entry(s.partition).or_default().push(s);
    }
    for v in by_partition.values_mut() {
        v.sort_by(|a, b| a.arrived_unix_ms.total_cmp(&b.arrived_unix_ms));
    }
    let heard: BTreeSet<u64> = samples.iter().map(|s| s.seq).collect();
    let mut all: Vec<f64> = scheduled_us.iter().map(|u| *u as f64 / 1e6).collect();
    all.sort_by(f64::total_cmp);
    let mut lost_at: Vec<f64> = scheduled_us
        .iter()
        .enumerate()
        .filter(|(seq, _)| !heard.contains(&(*seq as u64)))
        .map(|(_, u)| *u as f64 / 1e6)
        .collect();
    lost_at.sort_by(f64::total_cmp);
    let score = Score {
        end_s: all.last().copied().unwrap_or(0.0),
        all,
        lost: lost_at,
        start_us: start,
    };
    let mut out = Vec::new();
    for (i, ev) in log.events.iter().enumerate() {
        let from = ev.applied_us;
        let to = log.events.get(i + 1).map_or(end_us, |n| n.applied_us);
        let in_stretch = |t: u64| t >= from && t < to;
        let charged: Vec<&Sample> = samples
            .iter()
            .filter(|s| in_stretch(arrived_us(s)))
            .collect();
        let late = charged
            .iter()
            .filter(|s| s.onset_ms * 1000.0 > AUDIBLE_SHIFT_US as f64)
            .count() as u64;
        let lost = scheduled_us
            .iter()
            .enumerate()
            .filter(|(seq, at)| in_stretch(start + **at) && !heard.contains(&(*seq as u64)))
            .count() as u64;
        let silences = by_partition
            .iter()
            .filter_map(|(p, notes)| silence(*p, notes, (from, to), &score, arrived_us))
            .collect();
        let changes = log
            .changes
            .iter()
            .filter(|c| c.at_us >= from && c.at_us < to)
            .count() as u64;
        out.push(EventFigures {
            event: ev.event.clone(),
            kind: ev.kind,
            at_score_s: ev.at_score_s,
            applied_at_s: from.saturating_sub(start) as f64 / 1e6,
            member: ev.member,
            silences,
            late,
            lost,
            duplicated: charged.iter().filter(|s| s.duplicate).count() as u64,
            reordered: charged.iter().filter(|s| s.reordered).count() as u64,
            assignment_changes: changes,
            stable_after_s: if log.reports_assignment {
                stable_after(log, from, to)
            } else {
                None
            },
        });
    }
    out
}

/// The score, for telling a rebalance's silence from the composer's rests.
struct Score {
    /// Every note's scheduled time, s, sorted.
    all: Vec<f64>,
    /// The scheduled times of the notes never heard, s, sorted (as `all` is).
    lost: Vec<f64>,
    /// Where the song starts (wall clock, µs) and ends (score time, s).
    start_us: u64,
    end_s: f64,
}

impl Score {
    /// What the score leaves silent between two notes of one partition scheduled at
    /// `a` and `b`: exactly `b − a` when no note was lost in between (every note heard
    /// in between was on another partition); otherwise the longest rest of the whole
    /// song in there, since which partition a lost note was on cannot be told.
    fn rest_between(&self, a: f64, b: f64) -> f64 {
        // Both lists are sorted: the notes in [a, b] are one slice of each.
        let first_lost = self.lost.partition_point(|t| *t <= a);
        if self.lost.get(first_lost).is_none_or(|t| *t >= b) {
            return (b - a).max(0.0);
        }
        let from = self.all.partition_point(|t| *t < a);
        let to = self.all.partition_point(|t| *t <= b);
        self.all[from..to]
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold(0.0, f64::max)
    }
}

/// The longest gap (beyond the score) between notes heard on one partition that ends
/// in `(from, to]`; a partition never heard again is silent to the end of the song.
/// `None` for a partition that carried no notes at all.
fn silence(
    partition: i32,
    notes: &[&Sample],
    (from, to): (u64, u64),
    score: &Score,
    arrived_us: impl Fn(&Sample) -> u64,
) -> Option<PartitionSilence> {
    let mut worst: Option<PartitionSilence> = None;
    let mut consider = |c: PartitionSilence| {
        if worst
            .as_ref()
            .is_none_or(|w| c.beyond_score_ms > w.beyond_score_ms)
        {
            worst = Some(c);
        }
    };
    let first = notes
        .iter()
        .rposition(|s| arrived_us(s) <= from)
        .unwrap_or(0);
    for pair in notes[first..].windows(2) {
        let (a, b) = (arrived_us(pair[0]), arrived_us(pair[1]));
        if b <= from || b > to {
            continue;
        }
        let heard = (b - a) as f64 / 1000.0;
        let rest = score.rest_between(pair[0].at_s, pair[1].at_s) * 1000.0;
        consider(PartitionSilence {
            partition,
            silence_ms: heard,
            beyond_score_ms: (heard - rest).max(0.0),
            resumed: true,
        });
    }
    if let Some(last) = notes.last() {
        let a = arrived_us(last);
        let song_end = score.start_us + (score.end_s * 1e6) as u64;
        if a <= from && song_end > a {
            // Never heard again: silent for the rest of the song.
            let heard = (song_end - a) as f64 / 1000.0;
            let rest = score.rest_between(last.at_s, score.end_s) * 1000.0;
            consider(PartitionSilence {
                partition,
                silence_ms: heard,
                beyond_score_ms: (heard - rest).max(0.0),
                resumed: false,
            });
        }
    }
    worst
}

/// When, after `from`, the group was last changed before being complete (every
/// partition held by one live member) through to `to`.
fn stable_after(log: &GroupLog, from: u64, to: u64) -> Option<f64> {
    let mut view: BTreeMap<usize, Vec<(String, i32)>> = BTreeMap::new();
    let complete = |view: &BTreeMap<usize, Vec<(String, i32)>>| {
        let mut held: BTreeMap<&(String, i32), usize> = BTreeMap::new();
        for p in view.values().flatten() {
            *held.entry(p).or_default() += 1;
        }
        held.len() == log.partitions.max(0) as usize && held.values().all(|n| *n == 1)
    };
    let mut last_change = from;
    for c in log.changes.iter().filter(|c| c.at_us < to) {
        match &c.partitions {
            Some(p) => view.insert(c.member, p.clone()),
            None => view.remove(&c.member),
        };
        if c.at_us >= from {
            last_change = c.at_us;
        }
    }
    complete(&view).then(|| last_change.saturating_sub(from) as f64 / 1e6)
}

#[cfg(test)]
mod tests;
