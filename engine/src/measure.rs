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

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use crate::wire::Measure;
use hdrhistogram::Histogram;

/// Listening research: a note shifted by more than about this is heard as out of time.
pub const AUDIBLE_SHIFT_US: u64 = 6_000;
/// Two notes swapped further apart than this in the score are heard as a wrong melody.
pub const AUDIBLE_FLIP_US: u64 = 20_000;
/// A tempo off by more than this fraction is heard as slower or faster.
pub const AUDIBLE_TEMPO: f64 = 0.025;

/// Where the live tempo is measured: the last few seconds of the current song.
const TEMPO_WINDOW: Duration = Duration::from_secs(3);

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
    /// Index of the sample's song track, whose final anchor `finish` compares it with.
    #[serde(skip)]
    track: usize,
}

/// What tells one playing of a song from another.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct TrackKey {
    run: String,
    pass: u64,
    song: String,
}

#[derive(Default)]
struct SongTrack {
    /// Earliest (arrival − offset) so far, µs since the meter's base instant.
    anchor_us: Option<i64>,
    seen: HashSet<u64>,
    min_seq: Option<u64>,
    max_seq: Option<(u64, u64)>,
    last: Option<(Instant, u64)>,
    first: Option<(Instant, u64)>,
    total: Option<u64>,
    window: VecDeque<(Instant, u64)>,
}

pub struct PartitionFigures {
    pub count: u64,
    pub latency_us: Histogram<u64>,
}

/// Everything measured so far.
pub struct Meter {
    tracks: Vec<(TrackKey, SongTrack)>,
    track_index: HashMap<TrackKey, usize>,
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
    pub samples: Vec<Sample>,
    /// The track heard last, for the live tempo.
    current: Option<usize>,
    base: Instant,
}

/// The end-of-run figures for a song.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SongFigures {
    pub run: String,
    /// Which pass of a looping player, from 0.
    pub pass: u64,
    pub song: String,
    pub heard: u64,
    pub total: Option<u64>,
    /// Sequence gaps between the first and the last note heard.
    pub lost: u64,
    /// Notes before the first heard (the instrument joined late).
    pub missed_start: u64,
    /// Notes after the last heard (not played yet, or the instrument stopped first).
    pub missed_end: u64,
    /// Heard duration over score duration's inverse: 1.0 on tempo, 0.9 10 % slow.
    pub tempo: Option<f64>,
}

impl Default for Meter {
    fn default() -> Self {
        Self {
            tracks: Vec::new(),
            track_index: HashMap::new(),
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
    /// Records one note that was played.
    pub fn observe(
        &mut self,
        arrived: Instant,
        arrived_wall_us: u64,
        topic: &str,
        partition: i32,
        m: &Measure,
    ) {
        let latency = m
            .sent_us
            .map(|sent| arrived_wall_us.saturating_sub(sent).max(1));
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
            return;
        };
        let key = TrackKey {
            run: m.run.clone().unwrap_or_default(),
            pass: m.pass.unwrap_or(0),
            song,
        };
        let track = match self.track_index.get(&key) {
            Some(&i) => i,
            None => {
                self.tracks.push((key.clone(), SongTrack::default()));
                self.track_index.insert(key, self.tracks.len() - 1);
                self.tracks.len() - 1
            }
        };
        let (key, t) = &mut self.tracks[track];
        t.total = m.total.or(t.total);
        if !t.seen.insert(seq) {
            self.duplicates += 1;
        }
        t.min_seq = Some(t.min_seq.map_or(seq, |s| s.min(seq)));
        match t.max_seq {
            Some((max, max_offset)) if seq < max => {
                self.reordered += 1;
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
        let _ = self.onset_us.record(onset.unsigned_abs().max(1));
        if onset > AUDIBLE_SHIFT_US as i64 {
            self.late += 1;
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
        t.window.push_back((arrived, offset));
        while t
            .window
            .front()
            .is_some_and(|(at, _)| arrived.duration_since(*at) > TEMPO_WINDOW)
        {
            t.window.pop_front();
        }
        self.samples.push(Sample {
            song: key.song.clone(),
            pass: key.pass,
            seq,
            arrived_unix_ms: arrived_wall_us as f64 / 1000.0,
            at_s: offset as f64 / 1e6,
            latency_ms: latency.map(|l| l as f64 / 1000.0),
            onset_ms: onset as f64 / 1000.0,
            partition,
            implied_us: implied,
            track,
        });
        self.current = Some(track);
    }

    /// Recomputes onset errors against each song's final anchor (the earliest any of its
    /// notes implied), once all notes are in.
    pub fn finish(&mut self) {
        self.onset_us.reset();
        self.late = 0;
        for s in &mut self.samples {
            let Some(anchor) = self.tracks[s.track].1.anchor_us else {
                continue;
            };
            let onset = s.implied_us - anchor;
            s.onset_ms = onset as f64 / 1000.0;
            let _ = self.onset_us.record(onset.unsigned_abs().max(1));
            if onset > AUDIBLE_SHIFT_US as i64 {
                self.late += 1;
            }
        }
    }

    /// Tempo over the last few seconds of the song playing now, 1.0 = as the score.
    pub fn live_tempo(&self) -> Option<f64> {
        let (_, t) = self.tracks.get(self.current?)?;
        tempo_between(t.window.front()?, t.window.back()?)
    }

    pub fn songs(&self) -> Vec<SongFigures> {
        let mut out: Vec<SongFigures> = self
            .tracks
            .iter()
            .map(|(key, t)| {
                let heard = t.seen.len() as u64;
                let (min, max) = (t.min_seq.unwrap_or(0), t.max_seq.map_or(0, |m| m.0));
                let span = if heard == 0 { 0 } else { max - min + 1 };
                SongFigures {
                    run: key.run.clone(),
                    pass: key.pass,
                    song: key.song.clone(),
                    heard,
                    total: t.total,
                    lost: span.saturating_sub(heard),
                    missed_start: min,
                    missed_end: t.total.map_or(0, |total| total.saturating_sub(max + 1)),
                    tempo: match (&t.first, &t.last) {
                        (Some(a), Some(b)) => tempo_between(a, b),
                        _ => None,
                    },
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.run, a.pass, &a.song).cmp(&(&b.run, b.pass, &b.song)));
        out
    }

    pub fn lost(&self) -> u64 {
        self.songs().iter().map(|s| s.lost).sum()
    }

    /// Overall tempo: score time over heard time, all songs together.
    pub fn tempo(&self) -> Option<f64> {
        let (mut scored, mut heard) = (0f64, 0f64);
        for (_, t) in &self.tracks {
            if let (Some((a_at, a_off)), Some((b_at, b_off))) = (t.first, t.last) {
                scored += b_off.saturating_sub(a_off) as f64;
                heard += b_at.duration_since(a_at).as_micros() as f64;
            }
        }
        (heard > 0.0 && scored > 0.0).then(|| scored / heard)
    }
}

fn tempo_between(a: &(Instant, u64), b: &(Instant, u64)) -> Option<f64> {
    let heard = b.0.duration_since(a.0).as_micros() as f64;
    let scored = b.1.saturating_sub(a.1) as f64;
    // Under half a second of music says nothing about tempo.
    (heard > 0.0 && scored >= 500_000.0).then(|| scored / heard)
}

#[cfg(test)]
mod tests {
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
