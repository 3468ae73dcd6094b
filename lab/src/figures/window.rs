//! The music in one stretch of song time: how many notes were heard and lost, how late
//! and how far off the score, the tempo, and how busy kmidi's own host was.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use kmidi_engine::measure::{histogram, Sample, AUDIBLE_SHIFT_US};

/// Gap notes counted at most, whatever a corrupt sequence number says: every loop here
/// is bounded (a real song has some thousands of notes).
const MAX_LOST_COUNTED: u64 = 1_000_000;

/// What the ear heard in `[from_s, to_s)` of song time.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct WindowFigures {
    /// Song time (after speed), s.
    pub from_s: f64,
    pub to_s: f64,
    /// Notes heard (each once), by where the score puts them.
    pub notes: u64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    /// |onset error| p99, ms.
    pub onset_p99_ms: Option<f64>,
    /// Notes later than the score by more than `AUDIBLE_SHIFT_US` (heard out of time).
    pub late: u64,
    /// Notes the score puts here that were never heard, between the first and the last
    /// note heard of the song (the engine's "lost": not the notes before the instrument
    /// joined or after it stopped).
    pub lost: u64,
    /// Score time over heard time, 1.0 = as the score; `None` under half a second.
    pub tempo: Option<f64>,
    /// The player's scheduling lateness p99, µs (`None` when not measured here).
    pub player_lateness_p99_us: Option<u64>,
    /// The instrument's processing time p99, µs (`None` when not measured here).
    pub processing_p99_us: Option<u64>,
}

impl WindowFigures {
    pub fn length_s(&self) -> f64 {
        (self.to_s - self.from_s).max(0.0)
    }
}

/// The notes of one playing, indexed for windows: heard notes by seq (duplicates
/// dropped) and the song times of the notes lost.
pub struct Notes<'a> {
    heard: Vec<&'a Sample>,
    lost_at: Vec<f64>,
    pub end_s: f64,
}

impl<'a> Notes<'a> {
    /// `scheduled_s[seq]` is where the score puts note `seq` (song time, after speed);
    /// without it, a lost note's time is interpolated between its heard neighbours.
    pub fn new(samples: &'a [Sample], scheduled_s: Option<&[f64]>) -> Self {
        let mut by_seq: BTreeMap<u64, &Sample> = BTreeMap::new();
        for s in samples.iter().filter(|s| !s.duplicate) {
            by_seq.entry(s.seq).or_insert(s);
        }
        let mut lost_at = Vec::new();
        let mut budget = MAX_LOST_COUNTED;
        let heard: Vec<&Sample> = by_seq.values().copied().collect();
        for pair in heard.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let gap = (b.seq - a.seq - 1).min(budget);
            budget -= gap;
            for k in 1..=gap {
                let seq = a.seq + k;
                let at = match scheduled_s {
                    // Beyond the score: not a note of this song.
                    Some(score) => match usize::try_from(seq).ok().and_then(|i| score.get(i)) {
                        Some(at) => *at,
                        None => continue,
                    },
                    None => a.at_s + (b.at_s - a.at_s) * k as f64 / (b.seq - a.seq) as f64,
                };
                lost_at.push(at);
            }
        }
        let score_end = scheduled_s.map_or(f64::NEG_INFINITY, |s| {
            s.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        });
        let heard_end = heard
            .iter()
            .map(|s| s.at_s)
            .fold(f64::NEG_INFINITY, f64::max);
        Notes {
            heard,
            lost_at,
            end_s: score_end.max(heard_end).max(0.0),
        }
    }

    /// The figures of `[from_s, to_s)`; the two series are `(song time s, value µs)`.
    pub fn window(
        &self,
        from_s: f64,
        to_s: f64,
        player_lateness: Option<&[(f64, u64)]>,
        processing: Option<&[(f64, u64)]>,
    ) -> WindowFigures {
        // Half-open, but the song's last note belongs to the window that reaches the
        // song's end.
        let end_s = self.end_s;
        let inside =
            |t: f64| from_s < to_s && t >= from_s && (t < to_s || (to_s >= end_s && t <= to_s));
        let notes: Vec<&Sample> = self
            .heard
            .iter()
            .copied()
            .filter(|s| inside(s.at_s))
            .collect();
        let mut latency = histogram();
        let mut onset = histogram();
        let mut late = 0;
        for s in &notes {
            if let Some(l) = s.latency_ms {
                record_ms(&mut latency, l);
            }
            record_ms(&mut onset, s.onset_ms.abs());
            if s.onset_ms * 1000.0 > AUDIBLE_SHIFT_US as f64 {
                late += 1;
            }
        }
        let series_p99 = |series: Option<&[(f64, u64)]>| {
            let mut h = histogram();
            for (_, v) in series?.iter().filter(|(at, _)| inside(*at)) {
                h.saturating_record((*v).max(1));
            }
            (!h.is_empty()).then(|| h.value_at_quantile(0.99))
        };
        WindowFigures {
            from_s,
            to_s,
            notes: notes.len() as u64,
            latency_p50_ms: quantile_ms(&latency, 0.5),
            latency_p99_ms: quantile_ms(&latency, 0.99),
            onset_p99_ms: quantile_ms(&onset, 0.99),
            late,
            lost: self.lost_at.iter().filter(|t| inside(**t)).count() as u64,
            tempo: tempo(&notes),
            player_lateness_p99_us: series_p99(player_lateness),
            processing_p99_us: series_p99(processing),
        }
    }
}

fn record_ms(h: &mut Histogram<u64>, ms: f64) {
    if ms.is_finite() {
        h.saturating_record(((ms * 1000.0).round() as u64).max(1));
    }
}

fn quantile_ms(h: &Histogram<u64>, q: f64) -> Option<f64> {
    (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1000.0)
}

/// Score time over heard time between the window's earliest and latest scored notes,
/// as the engine measures tempo: under half a second of music says nothing.
fn tempo(notes: &[&Sample]) -> Option<f64> {
    let first = notes.iter().min_by(|a, b| a.at_s.total_cmp(&b.at_s))?;
    let last = notes.iter().max_by(|a, b| a.at_s.total_cmp(&b.at_s))?;
    let scored = last.at_s - first.at_s;
    let heard = (last.arrived_unix_ms - first.arrived_unix_ms) / 1000.0;
    (scored >= 0.5 && heard > 0.0).then(|| scored / heard)
}
