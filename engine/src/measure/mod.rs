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
    #[serde(skip)]
    implied_us: i64,
    /// Id of the sample's song track, whose final anchor `finish` compares it with.
    #[serde(skip)]
    track: usize,
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
mod tests {
    use std::time::Duration;

    use super::*;

    fn note(seq: u64, offset_ms: u64) -> Measure {
        Measure {
            run: Some("r".into()),
            pass: Some(0),
            song: Some("s.mid".into()),
            seq: Some(seq),
            total: Some(5),
            offset_us: Some(offset_ms * 1000),
            sent_us: None,
            warmup: false,
        }
    }

    #[test]
    fn notes_on_the_score_have_no_onset_error_and_full_tempo() {
        let mut m = Meter::default();
        let t0 = Instant::now();
        for (i, ms) in [0u64, 250, 500, 750, 1000].iter().enumerate() {
            m.observe(
                t0 + Duration::from_millis(*ms),
                0,
                "t",
                0,
                &note(i as u64, *ms),
            );
        }
        assert!(m.onset_us.max() <= 1);
        assert_eq!(m.late, 0);
        assert!((m.tempo().unwrap() - 1.0).abs() < 1e-6);
        assert_eq!(m.songs()[0].lost, 0);
    }

    #[test]
    fn a_late_note_is_late_and_slows_the_tempo() {
        let mut m = Meter::default();
        let t0 = Instant::now();
        m.observe(t0, 0, "t", 0, &note(0, 0));
        m.observe(t0 + Duration::from_millis(1100), 0, "t", 0, &note(1, 1000));
        assert_eq!(m.late, 1);
        assert!(m.onset_us.max() >= 99_000);
        assert!((m.tempo().unwrap() - 1.0 / 1.1).abs() < 1e-3);
    }

    #[test]
    fn a_late_first_note_does_not_make_the_others_early() {
        let mut m = Meter::default();
        let t0 = Instant::now();
        m.observe(t0 + Duration::from_millis(80), 0, "t", 0, &note(0, 0));
        for (i, ms) in [250u64, 500, 750].iter().enumerate() {
            m.observe(
                t0 + Duration::from_millis(*ms),
                0,
                "t",
                0,
                &note(i as u64 + 1, *ms),
            );
        }
        m.finish();
        assert_eq!(m.late, 1, "only the first note was late");
        assert!(
            m.onset_us.value_at_quantile(0.5) <= 1,
            "the others are on time"
        );
        assert!(m.onset_us.max() >= 79_000);
    }

    #[test]
    fn gaps_reorders_and_duplicates_are_counted() {
        let mut m = Meter::default();
        let t0 = Instant::now();
        m.observe(t0, 0, "t", 0, &note(0, 0));
        m.observe(t0, 0, "t", 0, &note(3, 300));
        m.observe(t0, 0, "t", 0, &note(1, 100));
        m.observe(t0, 0, "t", 0, &note(1, 100));
        let song = &m.songs()[0];
        assert_eq!(song.lost, 1, "seq 2 never came");
        assert_eq!(song.missed_end, 1, "seq 4 not heard yet");
        assert_eq!(m.reordered, 2);
        assert_eq!(m.reordered_audible, 2, "300 ms apart in the score");
        assert_eq!(m.duplicates, 1);
    }

    fn in_pass(pass: u64, run: &str, m: Measure) -> Measure {
        Measure {
            pass: Some(pass),
            run: Some(run.to_string()),
            ..m
        }
    }

    #[test]
    fn three_passes_of_a_looped_song_are_three_playings_not_duplicates() {
        let mut m = Meter::default();
        let t0 = Instant::now();
        let offsets = [0u64, 250, 500, 750, 1000];
        for pass in 0..3u64 {
            // Each pass starts 20 ms after the previous one ended, as the player does.
            let start = t0 + Duration::from_millis(pass * 1020);
            for (i, ms) in offsets.iter().enumerate() {
                let n = in_pass(pass, "r", note(i as u64, *ms));
                m.observe(start + Duration::from_millis(*ms), 0, "t", 0, &n);
            }
        }
        m.finish();
        assert_eq!((m.duplicates, m.reordered, m.late), (0, 0, 0));
        assert!((m.tempo().unwrap() - 1.0).abs() < 1e-6, "{:?}", m.tempo());
        assert!(m.onset_us.max() <= 1);
        let songs = m.songs();
        assert_eq!(songs.iter().map(|s| s.pass).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(songs.iter().all(|s| s.heard == 5 && s.lost == 0));
    }

    #[test]
    fn two_runs_of_one_song_interleaved_keep_their_own_anchors() {
        let mut m = Meter::default();
        let t0 = Instant::now();
        let later = Duration::from_millis(50);
        for (i, ms) in [0u64, 250, 500, 750, 1000].iter().enumerate() {
            let at = t0 + Duration::from_millis(*ms);
            m.observe(at, 0, "t", 0, &in_pass(0, "r1", note(i as u64, *ms)));
            m.observe(
                at + later,
                0,
                "t",
                0,
                &in_pass(0, "r2", note(i as u64, *ms)),
            );
        }
        m.finish();
        assert_eq!((m.duplicates, m.reordered, m.late), (0, 0, 0));
        assert!(m.onset_us.max() <= 1, "run r2 is not 50 ms late against r1");
        assert!((m.tempo().unwrap() - 1.0).abs() < 1e-6);
        assert_eq!(m.songs().len(), 2);
    }

    #[test]
    fn a_day_of_looping_keeps_a_bounded_number_of_songs_and_loses_no_figure() {
        let mut m = Meter::default();
        let t0 = Instant::now();
        let passes = 3 * MAX_TRACKS as u64;
        for pass in 0..passes {
            let start = t0 + Duration::from_millis(pass * 1020);
            for (i, ms) in [0u64, 250, 500, 750, 1000].iter().enumerate() {
                let n = in_pass(pass, "r", note(i as u64, *ms));
                m.observe(start + Duration::from_millis(*ms), 0, "t", 0, &n);
            }
        }
        m.finish();
        assert_eq!(
            m.songs().len(),
            MAX_TRACKS,
            "detail for the newest songs only"
        );
        let folded = m.folded();
        assert_eq!(folded.tracks, passes - MAX_TRACKS as u64);
        let heard: u64 = m.songs().iter().map(|s| s.heard).sum::<u64>() + folded.heard;
        assert_eq!(heard, 5 * passes, "every note still counted");
        assert_eq!((m.lost(), m.duplicates, m.late), (0, 0, 0));
        assert!((m.tempo().unwrap() - 1.0).abs() < 1e-6);
        assert_eq!(m.onset_us.len(), 5 * passes);
    }

    #[test]
    fn samples_are_windowed_and_dropped_ones_still_count_in_the_onset_figures() {
        let mut m = Meter::default();
        let t0 = Instant::now();
        let n = 2 * SAMPLES_KEPT as u64 + 10;
        for seq in 0..n {
            let mut note = note(seq, seq * 10);
            note.total = Some(n);
            // Every 1000th note is 50 ms late.
            let late = if seq % 1000 == 999 { 50 } else { 0 };
            m.observe(
                t0 + Duration::from_millis(seq * 10 + late),
                0,
                "t",
                0,
                &note,
            );
        }
        m.finish();
        assert!(m.samples.len() < 2 * SAMPLES_KEPT, "{}", m.samples.len());
        assert_eq!(
            m.samples.last().map(|s| s.seq),
            Some(n - 1),
            "the newest kept"
        );
        assert_eq!(m.onset_us.len(), n, "dropped samples still counted");
        assert_eq!(m.late, n / 1000, "and their lateness too");
    }

    #[test]
    fn records_without_kmidi_fields_are_unmeasured_not_zero() {
        let mut m = Meter::default();
        m.observe(Instant::now(), 0, "t", 0, &Measure::default());
        assert_eq!(m.unmeasured, 1);
        assert!(m.latency_us.is_empty());
        assert!(m.tempo().is_none());
    }

    #[test]
    fn latency_is_arrival_minus_send_time_in_microseconds() {
        let mut m = Meter::default();
        let mut n = note(0, 0);
        n.sent_us = Some(1_000_000);
        m.observe(Instant::now(), 1_003_250, "t", 2, &n);
        assert!(
            m.latency_us.equivalent(m.latency_us.max(), 3_250),
            "µs, not ms"
        );
        assert_eq!(m.partitions[&("t".to_string(), 2)].count, 1);
    }
}
