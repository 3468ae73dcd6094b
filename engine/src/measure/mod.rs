//! What the ear hears, as numbers: per-note latency, onset error against the score,
//! jitter, reordering, loss and duplicates, overall and per partition.
//!
//! Onset error needs no clock sync: each song's notes anchor the score where it was
//! heard earliest (arrival − scheduled offset, at its minimum), and every note is
//! compared with where the score puts it from there. Anchoring on the very first note
//! instead would call every on-time note "early" whenever the first one was late, which
//! is common: a client's first request pays for connections and metadata. Latency needs
//! the player's send time, so records from the original Python player (which carry no
//! `kmidi_*` fields) count as "unmeasured", never as zero.
//!
//! A song is tracked per (run, pass, song): a looping player replays a song under one
//! run with `seq` from 0 again, and two players may play the same song at once.
//!
//! Memory is bounded whatever the run's length: histograms have a fixed size, old
//! tracks are folded into totals (`tracks`), and only the most recent per-note samples
//! are kept for plots and reports ([`SAMPLES_KEPT`] to twice that).

pub mod brokers;
mod tracks;

use std::collections::BTreeMap;
use std::time::Instant;

use hdrhistogram::Histogram;

use self::tracks::{tempo_between, TrackKey, Tracks};
pub use self::tracks::{Folded, SongFigures, MAX_TRACKS};
use crate::wire::Measure;

/// Listening research: a note shifted by more than about this is heard as out of time.
pub const AUDIBLE_SHIFT_US: u64 = 6_000;
/// Two notes swapped further apart than this in the score are heard as a wrong melody.
pub const AUDIBLE_FLIP_US: u64 = 20_000;
/// A tempo off by more than this fraction is heard as slower or faster.
pub const AUDIBLE_TEMPO: f64 = 0.025;
/// Per-note samples kept: the most recent this many to twice this many.
pub const SAMPLES_KEPT: usize = 20_000;

/// The wall clock in µs since the Unix epoch: the send and arrival times on the wire and
/// in reports (latency across processes needs a clock both sides share).
pub fn unix_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

pub fn histogram() -> Histogram<u64> {
    // 1 µs to 1 h at 3 significant digits: µs resolution, never rounded to whole ms.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("static histogram bounds are valid")
}

/// One point of the plot: when in the song, how late, how far off the score.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Sample {
    pub song: String,
    pub pass: u64,
    pub seq: u64,
    /// Wall-clock arrival, ms since the Unix epoch, to line up several instruments.
    pub arrived_unix_ms: f64,
    /// Scheduled time from the song's start, s.
    pub at_s: f64,
    pub latency_ms: Option<f64>,
    pub onset_ms: f64,
    pub partition: i32,
    /// Heard before (a redelivery or replay).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
    /// Heard after a later note of its song.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reordered: bool,
    #[serde(skip)]
    implied_us: i64,
    /// Id of the sample's song track, whose final anchor `finish` compares it with.
    #[serde(skip)]
    track: usize,
}

impl Sample {
    /// A note heard on time, as the meter would record it (for figures computed from
    /// samples, and their tests).
    pub fn heard(seq: u64, partition: i32, at_s: f64, arrived_unix_ms: f64) -> Self {
        Sample {
            song: String::new(),
            pass: 0,
            seq,
            arrived_unix_ms,
            at_s,
            latency_ms: None,
            onset_ms: 0.0,
            partition,
            duplicate: false,
            reordered: false,
            implied_us: 0,
            track: usize::MAX,
        }
    }
}

/// What one note was found to be, for live counters (metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub latency_us: Option<u64>,
    /// Against the song's anchor so far; `None` without kmidi fields.
    pub onset_us: Option<i64>,
    pub late: bool,
    pub duplicate: bool,
    pub reordered: bool,
}

pub struct PartitionFigures {
    pub count: u64,
    pub latency_us: Histogram<u64>,
}

/// Everything measured so far.
pub struct Meter {
    tracks: Tracks,
    pub latency_us: Histogram<u64>,
    /// |onset error|, µs.
    pub onset_us: Histogram<u64>,
    /// |inter-onset interval − the score's|, µs.
    pub jitter_us: Histogram<u64>,
    pub partitions: BTreeMap<(String, i32), PartitionFigures>,
    pub reordered: u64,
    pub reordered_audible: u64,
    pub duplicates: u64,
    /// Notes later than the score by more than [`AUDIBLE_SHIFT_US`].
    pub late: u64,
    pub unmeasured: u64,
    /// The most recent notes, oldest first (see [`SAMPLES_KEPT`]).
    pub samples: Vec<Sample>,
    /// |onset| and lateness of the samples dropped from `samples`, as `finish` would
    /// have counted them.
    dropped_onset_us: Histogram<u64>,
    dropped_late: u64,
    /// The track heard last, for the live tempo.
    current: Option<usize>,
    base: Instant,
}

impl Default for Meter {
    fn default() -> Self {
        Self {
            tracks: Tracks::default(),
            latency_us: histogram(),
            onset_us: histogram(),
            jitter_us: histogram(),
            partitions: BTreeMap::new(),
            reordered: 0,
            reordered_audible: 0,
            duplicates: 0,
            late: 0,
            unmeasured: 0,
            samples: Vec::new(),
            dropped_onset_us: histogram(),
            dropped_late: 0,
            current: None,
            base: Instant::now(),
        }
    }
}

fn diff_us(a: Instant, b: Instant) -> i64 {
    if a >= b {
        a.duration_since(b).as_micros() as i64
    } else {
        -(b.duration_since(a).as_micros() as i64)
    }
}

impl Meter {
    /// Records one note that was played, and says what it was.
    pub fn observe(
        &mut self,
        arrived: Instant,
        arrived_wall_us: u64,
        topic: &str,
        partition: i32,
        m: &Measure,
    ) -> Verdict {
        let latency = m
            .sent_us
            .map(|sent| arrived_wall_us.saturating_sub(sent).max(1));
        let mut verdict = Verdict {
            latency_us: latency,
            ..Verdict::default()
        };
        let part = self
            .partitions
            .entry((topic.to_string(), partition))
            .or_insert_with(|| PartitionFigures {
                count: 0,
                latency_us: histogram(),
            });
        part.count += 1;
        if let Some(l) = latency {
            let _ = self.latency_us.record(l);
            let _ = part.latency_us.record(l);
        }
        let (Some(song), Some(seq), Some(offset)) = (m.song.clone(), m.seq, m.offset_us) else {
            self.unmeasured += 1;
            return verdict;
        };
        let key = TrackKey {
            run: m.run.clone().unwrap_or_default(),
            pass: m.pass.unwrap_or(0),
            song,
        };
        let (track, folded) = self.tracks.id_of(key);
        if let Some((id, anchor)) = folded {
            self.freeze(id, anchor);
        }
        let Some((key, t)) = self.tracks.get_mut(track) else {
            return verdict;
        };
        t.total = m.total.or(t.total);
        if !t.seen.insert(seq) {
            self.duplicates += 1;
            verdict.duplicate = true;
        }
        t.min_seq = Some(t.min_seq.map_or(seq, |s| s.min(seq)));
        match t.max_seq {
            Some((max, max_offset)) if seq < max => {
                self.reordered += 1;
                verdict.reordered = true;
                if max_offset.saturating_sub(offset) >= AUDIBLE_FLIP_US {
                    self.reordered_audible += 1;
                }
            }
            _ => t.max_seq = Some((seq, offset)),
        }
        let implied = diff_us(arrived, self.base) - offset as i64;
        let anchor = t.anchor_us.map_or(implied, |a| a.min(implied));
        t.anchor_us = Some(anchor);
        // Against the anchor so far; `finish` redoes it against the final anchor.
        let onset = implied - anchor;
        verdict.onset_us = Some(onset);
        let _ = self.onset_us.record(onset.unsigned_abs().max(1));
        if onset > AUDIBLE_SHIFT_US as i64 {
            self.late += 1;
            verdict.late = true;
        }
        if let Some((prev_at, prev_offset)) = t.last {
            if offset >= prev_offset {
                let heard = diff_us(arrived, prev_at);
                let scored = (offset - prev_offset) as i64;
                let _ = self
                    .jitter_us
                    .record((heard - scored).unsigned_abs().max(1));
            }
        }
        t.last = Some((arrived, offset));
        t.first.get_or_insert((arrived, offset));
        t.add_to_window(arrived, offset);
        let song = key.song.clone();
        let pass = key.pass;
        self.samples.push(Sample {
            song,
            pass,
            seq,
            arrived_unix_ms: arrived_wall_us as f64 / 1000.0,
            at_s: offset as f64 / 1e6,
            latency_ms: latency.map(|l| l as f64 / 1000.0),
            onset_ms: onset as f64 / 1000.0,
            partition,
            duplicate: verdict.duplicate,
            reordered: verdict.reordered,
            implied_us: implied,
            track,
        });
        if self.samples.len() >= 2 * SAMPLES_KEPT {
            self.drop_oldest_samples();
        }
        self.current = Some(track);
        verdict
    }

    /// The final onset of a sample: against its track's final anchor while the track is
    /// kept; a folded track's samples were frozen when it was folded.
    fn final_onset_us(&self, s: &Sample) -> i64 {
        match self.tracks.get(s.track).and_then(|t| t.anchor_us) {
            Some(anchor) => s.implied_us - anchor,
            None => (s.onset_ms * 1000.0).round() as i64,
        }
    }

    /// A track was folded: its samples' onsets are final now (its anchor will not move).
    fn freeze(&mut self, track: usize, anchor: Option<i64>) {
        let Some(anchor) = anchor else {
            return;
        };
        for s in self.samples.iter_mut().filter(|s| s.track == track) {
            s.onset_ms = (s.implied_us - anchor) as f64 / 1000.0;
        }
    }

    fn drop_oldest_samples(&mut self) {
        let dropped: Vec<Sample> = self.samples.drain(..SAMPLES_KEPT).collect();
        for s in &dropped {
            let onset = self.final_onset_us(s);
            let _ = self.dropped_onset_us.record(onset.unsigned_abs().max(1));
            if onset > AUDIBLE_SHIFT_US as i64 {
                self.dropped_late += 1;
            }
        }
    }

    /// Recomputes onset errors against each song's final anchor (the earliest any of its
    /// notes implied), once all notes are in.
    pub fn finish(&mut self) {
        let mut onset_us = self.dropped_onset_us.clone();
        let mut late = self.dropped_late;
        let finals: Vec<i64> = self
            .samples
            .iter()
            .map(|s| self.final_onset_us(s))
            .collect();
        for (s, onset) in self.samples.iter_mut().zip(finals) {
            s.onset_ms = onset as f64 / 1000.0;
            let _ = onset_us.record(onset.unsigned_abs().max(1));
            if onset > AUDIBLE_SHIFT_US as i64 {
                late += 1;
            }
        }
        self.onset_us = onset_us;
        self.late = late;
    }

    /// Tempo over the last few seconds of the song playing now, 1.0 = as the score.
    pub fn live_tempo(&self) -> Option<f64> {
        let t = self.tracks.get(self.current?)?;
        tempo_between(t.window.front()?, t.window.back()?)
    }

    /// The songs still kept in detail; older ones are summed in [`Meter::folded`].
    pub fn songs(&self) -> Vec<SongFigures> {
        let mut out: Vec<SongFigures> = self.tracks.iter().map(|(k, t)| t.figures(k)).collect();
        out.sort_by(|a, b| (&a.run, a.pass, &a.song).cmp(&(&b.run, b.pass, &b.song)));
        out
    }

    /// The totals of the songs folded out of [`Meter::songs`] on a long run.
    pub fn folded(&self) -> &Folded {
        &self.tracks.folded
    }

    pub fn lost(&self) -> u64 {
        self.tracks.folded.lost
            + self
                .tracks
                .iter()
                .map(|(k, t)| t.figures(k).lost)
                .sum::<u64>()
    }

    /// Overall tempo: score time over heard time, all songs together.
    pub fn tempo(&self) -> Option<f64> {
        let f = &self.tracks.folded;
        let (mut scored, mut heard) = (f.scored_us as f64, f.heard_us as f64);
        for (s, h) in self.tracks.iter().filter_map(|(_, t)| t.span_us()) {
            scored += s as f64;
            heard += h as f64;
        }
        (heard > 0.0 && scored > 0.0).then(|| scored / heard)
    }
}

#[cfg(test)]
mod tests;
