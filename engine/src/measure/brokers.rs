//! Figures per broker: the notes of the partitions a broker led, measured as one
//! voice, so a dragging broker stands out from the others (kmidi's probe topic has a
//! partition led by every broker, `kmidi topic create --per-broker`).
//!
//! A note is charged to the broker that led its partition **when the note was heard**
//! (its arrival), as the leader watch last read it before then: a note that waited on a
//! paused broker is that broker's, and after a failover the partition's notes are its
//! new leader's. A partition left without a leader is still its last leader's. Readings come every few seconds, so a note heard in the seconds after a
//! failover and before the next reading is still charged to the old leader.
//!
//! The longest silence of a broker is the longest time its partitions stayed silent
//! while a note of theirs was due: for each note, from the later of the broker's
//! previous arrival and the moment the score put the note (its arrival minus its onset
//! error), to its arrival. A broker whose partitions simply have a rest in the score is
//! not silent; one that holds its notes back is, for as long as it holds them.
//!
//! Loss cannot be told per note (a lost note never says its partition): a broker's
//! `lost` counts the records its partitions skipped ([`OffsetGaps`]), records written
//! that this consumer never read.

use std::collections::{BTreeMap, BTreeSet};

use hdrhistogram::Histogram;

use super::{histogram, Sample, AUDIBLE_SHIFT_US};

/// Who led each partition over time, as the leader watch read it: one entry per
/// change, at the wall-clock time (ms since the Unix epoch) it was read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeaderTimeline {
    readings: Vec<(f64, BTreeMap<i32, Option<i32>>)>,
}

impl LeaderTimeline {
    /// Adds a reading made at `at_unix_ms`; kept only when leadership changed.
    pub fn record(
        &mut self,
        at_unix_ms: f64,
        leaders: impl IntoIterator<Item = (i32, Option<i32>)>,
    ) {
        let leaders: BTreeMap<i32, Option<i32>> = leaders.into_iter().collect();
        if self
            .readings
            .last()
            .is_some_and(|(_, last)| *last == leaders)
        {
            return;
        }
        self.readings.push((at_unix_ms, leaders));
    }

    pub fn is_empty(&self) -> bool {
        self.readings.is_empty()
    }

    /// The leader of `partition` at `at_unix_ms`: the last reading at or before it, or
    /// the first reading for a note heard before any (the watch's first reading may
    /// land after the first notes). While the partition has no leader (its only
    /// replica's broker is fenced, an election is under way), its last leader: the
    /// notes held back then are that broker's silence.
    pub fn leader_at(&self, partition: i32, at_unix_ms: f64) -> Option<i32> {
        let i = self
            .readings
            .partition_point(|(t, _)| *t <= at_unix_ms)
            .max(1);
        self.readings[..i.min(self.readings.len())]
            .iter()
            .rev()
            .find_map(|(_, leaders)| leaders.get(&partition).copied().flatten())
    }

    /// Every broker that led a partition at some reading, ascending.
    pub fn brokers(&self) -> BTreeSet<i32> {
        self.readings
            .iter()
            .flat_map(|(_, l)| l.values().filter_map(|b| *b))
            .collect()
    }

    /// The partitions `broker` led at some reading, ascending.
    pub fn partitions_of(&self, broker: i32) -> BTreeSet<i32> {
        self.readings
            .iter()
            .flat_map(|(_, l)| l.iter().filter(|(_, b)| **b == Some(broker)))
            .map(|(p, _)| *p)
            .collect()
    }

    /// Leadership changes after the first reading: (when, partition, from, to).
    pub fn moves(&self) -> Vec<(f64, i32, Option<i32>, Option<i32>)> {
        self.readings
            .windows(2)
            .flat_map(|w| {
                let (old, (at, new)) = (&w[0].1, &w[1]);
                new.iter()
                    .filter(|(p, l)| old.get(p).is_some_and(|o| o != *l))
                    .map(|(p, l)| (*at, *p, old.get(p).copied().flatten(), *l))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// Records a consumer skipped on each partition (gaps in the offsets it read), for
/// charging loss to brokers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OffsetGaps {
    last: BTreeMap<i32, i64>,
    /// (partition, heard at, ms since the Unix epoch, records skipped just before).
    pub gaps: Vec<(i32, f64, u64)>,
}

impl OffsetGaps {
    /// A record at `offset` of `partition` was read at `at_unix_ms`. A rewind (a
    /// rebalance handing the partition back at an older offset) is not a gap.
    pub fn observe(&mut self, partition: i32, offset: i64, at_unix_ms: f64) {
        if let Some(last) = self.last.insert(partition, offset) {
            let skipped = offset - last - 1;
            if skipped > 0 {
                self.gaps.push((partition, at_unix_ms, skipped as u64));
            }
        }
    }
}

/// How long a broker's partitions stayed silent while the note heard at
/// `arrived_us` was due: from the later of the broker's previous arrival and the note's
/// time in the score (`arrived_us - onset_us`) to its arrival. 0 for a note on time.
pub fn silence_us(previous_arrival_us: Option<u64>, arrived_us: u64, onset_us: i64) -> u64 {
    if onset_us <= 0 {
        return 0;
    }
    let due = arrived_us.saturating_sub(onset_us as u64);
    let since = previous_arrival_us.map_or(due, |p| p.max(due));
    arrived_us.saturating_sub(since)
}

/// What one broker's partitions were heard to do.
#[derive(Clone, Debug)]
pub struct BrokerFigures {
    pub broker: i32,
    /// The partitions it led at some point of the run.
    pub partitions: Vec<i32>,
    pub notes: u64,
    /// Notes heard again (a redelivery or replay).
    pub duplicates: u64,
    pub latency_us: Histogram<u64>,
    /// |onset error|, µs.
    pub onset_us: Histogram<u64>,
    /// Notes later than the score by more than [`AUDIBLE_SHIFT_US`].
    pub late: u64,
    /// Records its partitions skipped ([`OffsetGaps`]); `None` when not tracked.
    pub lost: Option<u64>,
    /// The longest silence while a note was due, µs (see the module's doc).
    pub longest_silence_us: u64,
    /// When that silence ended (the note that broke it arrived), ms since the Unix
    /// epoch, and where that note is in its song, s.
    pub silence_ended_unix_ms: Option<f64>,
    pub silence_at_s: Option<f64>,
}

impl BrokerFigures {
    fn new(broker: i32, partitions: Vec<i32>, lost: Option<u64>) -> Self {
        BrokerFigures {
            broker,
            partitions,
            notes: 0,
            duplicates: 0,
            latency_us: histogram(),
            onset_us: histogram(),
            late: 0,
            lost,
            longest_silence_us: 0,
            silence_ended_unix_ms: None,
            silence_at_s: None,
        }
    }
}

/// The figures of every broker the timeline names (one with no note heard too: a
/// broker whose partitions carried nothing is worth saying), ascending by broker.
/// `samples` with their final onsets (after [`super::Meter::finish`]); notes heard
/// while their partition had no known leader are left out. `gaps`: `None` when offsets
/// were not tracked.
pub fn by_broker(
    samples: &[Sample],
    timeline: &LeaderTimeline,
    gaps: Option<&OffsetGaps>,
) -> Vec<BrokerFigures> {
    let mut out: BTreeMap<i32, BrokerFigures> = timeline
        .brokers()
        .into_iter()
        .map(|b| {
            let partitions = timeline.partitions_of(b).into_iter().collect();
            (b, BrokerFigures::new(b, partitions, gaps.map(|_| 0)))
        })
        .collect();
    let mut order: Vec<&Sample> = samples.iter().collect();
    order.sort_by(|a, b| a.arrived_unix_ms.total_cmp(&b.arrived_unix_ms));
    let mut previous: BTreeMap<i32, u64> = BTreeMap::new();
    for s in order {
        let Some(broker) = timeline.leader_at(s.partition, s.arrived_unix_ms) else {
            continue;
        };
        let f = out
            .entry(broker)
            .or_insert_with(|| BrokerFigures::new(broker, vec![s.partition], gaps.map(|_| 0)));
        f.notes += 1;
        f.duplicates += u64::from(s.duplicate);
        if let Some(l) = s.latency_ms {
            let _ = f.latency_us.record(((l * 1000.0).round() as u64).max(1));
        }
        let onset_us = (s.onset_ms * 1000.0).round() as i64;
        let _ = f.onset_us.record(onset_us.unsigned_abs().max(1));
        if onset_us > AUDIBLE_SHIFT_US as i64 {
            f.late += 1;
        }
        let arrived_us = (s.arrived_unix_ms * 1000.0).round() as u64;
        let silence = silence_us(previous.get(&broker).copied(), arrived_us, onset_us);
        if silence > f.longest_silence_us {
            f.longest_silence_us = silence;
            f.silence_ended_unix_ms = Some(s.arrived_unix_ms);
            f.silence_at_s = Some(s.at_s);
        }
        previous.insert(broker, arrived_us);
    }
    for (partition, at, skipped) in gaps.map_or(&[][..], |g| &g.gaps[..]) {
        if let Some(broker) = timeline.leader_at(*partition, *at) {
            if let Some(lost) = out.get_mut(&broker).and_then(|f| f.lost.as_mut()) {
                *lost += skipped;
            }
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
#[path = "brokers_tests.rs"]
mod tests;
