//! Where notes start in synthesized audio, and how far each started from the moment
//! kmidi played it: the check that what is heard carries the cluster's timing, not the
//! synthesizer's.
//!
//! The detector is deliberately small and made for one kind of signal: a percussive
//! sound with a sharp attack and no pitch (a closed hi-hat), the same key and velocity every
//! time, at gaps of some tens of ms. Onset-detection crates (aubio bindings, spectral
//! flux libraries) aim at music of any kind and answer at hop resolution (5–10 ms);
//! here the question is a sub-millisecond one on a signal chosen to make it easy, so a
//! sample-level threshold is both simpler and more precise:
//!
//! - the stereo signal is mixed to mono;
//! - coarse: sample `n` starts a note when `|x[n]|` exceeds both an absolute floor
//!   ([`Detector::floor`] of the file's peak) and [`Detector::rise`] times the RMS of
//!   a [`Detector::window`] ending 1 ms before it (so a note starting inside the
//!   previous one's tail is still found, and its own first rise does not mask it);
//!   after an onset the detector waits [`Detector::refractory`] before looking again,
//!   so one note's own waveform is never counted twice;
//! - fine: a threshold crossing comes somewhere in the first millisecond of the
//!   attack, earlier or later with the loudness of the tail it rises from (measured:
//!   0.2 to 0.6 ms into TimGM6mb's claves in rustysynth). Every note is the same sound, so
//!   the first note's opening milliseconds are a template, and each coarse onset moves
//!   to where the template fits best (cross-correlation within ±1.5 ms).
//!   That puts every onset at the same point of the same waveform: the template's
//!   own offset from the true start is one constant, which [`compare`] cancels.

use std::path::Path;
use std::time::Duration;

use kmidi_midi::sink::{wav_read_error, SinkError};

/// The threshold detector's settings; [`Detector::default`] suits claves or a
/// woodblock at gaps of 30 ms or more.
#[derive(Clone, Copy, Debug)]
pub struct Detector {
    /// Absolute threshold, as a fraction of the signal's peak.
    pub floor: f32,
    /// How many times louder than the RMS just before it a sample must be.
    pub rise: f32,
    /// Length of the "just before" window.
    pub window: Duration,
    /// Quiet time after an onset during which no other onset is reported.
    pub refractory: Duration,
}

impl Default for Detector {
    fn default() -> Self {
        Self {
            floor: 0.08,
            rise: 6.0,
            window: Duration::from_millis(4),
            // The shortest gap of the test song is 45 ms; some drum sounds have a
            // second, weaker burst about 30 ms in.
            refractory: Duration::from_millis(40),
        }
    }
}

/// Mono samples of a file, with its rate.
pub struct Audio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
}

impl Audio {
    /// Reads a `.wav` (16/24/32-bit integer or float, any channel count), mixed to mono.
    pub fn read_wav(path: &Path) -> Result<Audio, SinkError> {
        let bad = wav_read_error(path);
        let mut reader = hound::WavReader::open(path).map_err(bad)?;
        let spec = reader.spec();
        let interleaved: Vec<f32> = match spec.sample_format {
            hound::SampleFormat::Float => reader
                .samples::<f32>()
                .collect::<Result<_, _>>()
                .map_err(bad)?,
            hound::SampleFormat::Int => {
                let full = (1i64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
                reader
                    .samples::<i32>()
                    .map(|s| s.map(|v| v as f32 / full))
                    .collect::<Result<_, _>>()
                    .map_err(bad)?
            }
        };
        let channels = usize::from(spec.channels.max(1));
        let samples = interleaved
            .chunks(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect();
        Ok(Audio {
            samples,
            sample_rate: spec.sample_rate,
        })
    }

    /// The time of sample `n`.
    pub fn time_of(&self, n: usize) -> Duration {
        Duration::from_secs_f64(n as f64 / f64::from(self.sample_rate.max(1)))
    }
}

impl Detector {
    /// The sample index of every onset in `samples`, in order.
    pub fn onsets(&self, samples: &[f32], sample_rate: u32) -> Vec<usize> {
        let coarse = self.coarse(samples, sample_rate);
        refine(samples, &coarse, sample_rate)
    }

    fn coarse(&self, samples: &[f32], sample_rate: u32) -> Vec<usize> {
        let frames = |d: Duration| (d.as_secs_f64() * f64::from(sample_rate)).round() as usize;
        let (window, refractory) = (frames(self.window).max(1), frames(self.refractory));
        let gap = frames(Duration::from_millis(1));
        let peak = samples.iter().fold(0f32, |p, s| p.max(s.abs()));
        if peak == 0.0 {
            return Vec::new();
        }
        let floor = self.floor * peak;
        // Prefix sums of squares (f64: thousands of seconds of samples stay exact
        // enough) make each "RMS just before" one subtraction.
        let mut energy = Vec::with_capacity(samples.len() + 1);
        energy.push(0f64);
        for s in samples {
            let last = energy.last().copied().unwrap_or(0.0);
            energy.push(last + f64::from(*s) * f64::from(*s));
        }
        let mut found = Vec::new();
        let mut n = 0;
        while n < samples.len() {
            let level = samples[n].abs();
            if level > floor {
                let to = n.saturating_sub(gap);
                let from = to.saturating_sub(window);
                let before = ((energy[to] - energy[from]) / (to - from).max(1) as f64).sqrt();
                if f64::from(level) > f64::from(self.rise) * before {
                    found.push(n);
                    n += refractory.max(1);
                    continue;
                }
            }
            n += 1;
        }
        found
    }
}

/// Moves each coarse onset to where the first note's opening best fits (see the
/// module doc): the same point of the same waveform for every note.
fn refine(samples: &[f32], coarse: &[usize], sample_rate: u32) -> Vec<usize> {
    let frames = |ms: f64| (ms * f64::from(sample_rate) / 1e3).round() as usize;
    // The template opens 1.5 ms before the first coarse onset (the sound starts
    // there, before the threshold saw it) and runs 5 ms; a coarse onset is never that
    // far off, so ±1.5 ms covers the search without sliding into the silence before.
    let (pre, len, reach) = (frames(1.5), frames(5.0), frames(1.5) as isize);
    let segment = |start: isize| -> Option<&[f32]> {
        let start = usize::try_from(start).ok()?;
        samples.get(start..start.checked_add(len)?)
    };
    // The first note with room before and after it (a note at the very start of the
    // file has none); any note will do, they are all the same sound.
    let Some(template) = coarse
        .iter()
        .find_map(|&c| segment(c as isize - pre as isize))
    else {
        return coarse.to_vec();
    };
    coarse
        .iter()
        .map(|&c| {
            let base = c as isize - pre as isize;
            let mut best = (f64::NEG_INFINITY, 0isize);
            for lag in -reach..=reach {
                let Some(seg) = segment(base + lag) else {
                    continue;
                };
                // Not normalized by the segment's energy: that would reward a
                // segment that is mostly the quiet before the note.
                let score: f64 = seg
                    .iter()
                    .zip(template)
                    .map(|(a, b)| f64::from(*a) * f64::from(*b))
                    .sum();
                if score > best.0 {
                    best = (score, lag);
                }
            }
            (c as isize + best.1).max(0) as usize
        })
        .collect()
}

/// How one expected note was heard.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Heard {
    /// Index of the note among the expected ones.
    pub index: usize,
    /// When kmidi played it (the recorded arrival).
    pub expected: Duration,
    /// Audio onset − expected, minus the smallest such difference over the song
    /// (the capture's own start is unknown), in µs: 0 for the promptest note.
    pub delay_us: f64,
}

/// The comparison of a song's expected onsets with the audio.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    /// One entry per expected note that was found in the audio, in order.
    pub heard: Vec<Heard>,
    /// Indexes of expected notes with no onset near them.
    pub missing: Vec<usize>,
    /// Onsets in the audio that match no expected note.
    pub extra: usize,
}

/// p50/p99/max of the per-note delays, µs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Spread {
    pub count: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

impl Comparison {
    /// p50/p99/max of `delay_us` (nearest rank; 0 for an empty comparison).
    pub fn spread(&self) -> Spread {
        let mut d: Vec<f64> = self.heard.iter().map(|h| h.delay_us).collect();
        d.sort_by(f64::total_cmp);
        let rank = |q: f64| -> f64 {
            if d.is_empty() {
                return 0.0;
            }
            let i = ((q * d.len() as f64).ceil() as usize).clamp(1, d.len()) - 1;
            d[i]
        };
        Spread {
            count: d.len(),
            p50_us: rank(0.5),
            p99_us: rank(0.99),
            max_us: d.last().copied().unwrap_or(0.0),
        }
    }

    /// The note heard latest, if any.
    pub fn worst(&self) -> Option<Heard> {
        self.heard
            .iter()
            .copied()
            .max_by(|a, b| a.delay_us.total_cmp(&b.delay_us))
    }
}

/// Matches `onsets` (times in the audio) with `expected` (times kmidi played the
/// notes, on another clock: the two differ by an unknown constant).
///
/// The constant is found as the shift that puts the most expected notes within
/// `tolerance` of an onset (trying the first onsets against the first notes), so a
/// click at the start of the capture or a note lost in the audio does not derail it.
/// Each note then takes the nearest onset within `tolerance` of its shifted time.
pub fn compare(expected: &[Duration], onsets: &[Duration], tolerance: Duration) -> Comparison {
    let secs = |d: &Duration| d.as_secs_f64();
    let (e, o): (Vec<f64>, Vec<f64>) = (
        expected.iter().map(secs).collect(),
        onsets.iter().map(secs).collect(),
    );
    let tol = tolerance.as_secs_f64();
    let nearest = |t: f64| -> Option<usize> {
        let i = o.partition_point(|&x| x < t);
        [i.checked_sub(1), Some(i)]
            .into_iter()
            .flatten()
            .filter(|&j| j < o.len() && (o[j] - t).abs() <= tol)
            .min_by(|&a, &b| (o[a] - t).abs().total_cmp(&(o[b] - t).abs()))
    };
    let mut best: Option<(usize, f64)> = None;
    for &first_note in e.iter().take(8) {
        for &first_onset in o.iter().take(16) {
            let shift = first_onset - first_note;
            let hits = e.iter().filter(|&&t| nearest(t + shift).is_some()).count();
            if best.is_none_or(|(h, _)| hits > h) {
                best = Some((hits, shift));
            }
        }
    }
    let Some((_, shift)) = best else {
        return Comparison {
            missing: (0..e.len()).collect(),
            extra: o.len(),
            ..Comparison::default()
        };
    };
    let mut result = Comparison::default();
    let mut used = vec![false; o.len()];
    let mut raw = Vec::new();
    for (i, &t) in e.iter().enumerate() {
        match nearest(t + shift).filter(|&j| !used[j]) {
            Some(j) => {
                used[j] = true;
                raw.push((i, o[j] - t));
            }
            None => result.missing.push(i),
        }
    }
    let anchor = raw.iter().map(|&(_, d)| d).fold(f64::INFINITY, f64::min);
    result.heard = raw
        .into_iter()
        .map(|(index, d)| Heard {
            index,
            expected: expected[index],
            delay_us: (d - anchor) * 1e6,
        })
        .collect();
    result.extra = used.iter().filter(|u| !**u).count();
    result
}

/// Detects the onsets in a `.wav` and compares them with `expected`.
pub fn compare_wav(
    path: &Path,
    expected: &[Duration],
    detector: &Detector,
    tolerance: Duration,
) -> Result<Comparison, SinkError> {
    let audio = Audio::read_wav(path)?;
    let onsets: Vec<Duration> = detector
        .onsets(&audio.samples, audio.sample_rate)
        .into_iter()
        .map(|n| audio.time_of(n))
        .collect();
    Ok(compare(expected, &onsets, tolerance))
}

#[cfg(test)]
mod tests;
