//! How the page's sound sits against the instrument's arrivals: the onsets in the
//! audio the page produced ([`PageAudio`]), matched to the note-ons the instrument's
//! `--record` file holds, with the page's constant delay removed per stretch between
//! underruns. The browser test (`kmidi-cli/tests/web_browser.rs`) holds every note to
//! 1 ms of its arrival with this; the `web` benchmark (`bench/src/web/`) reports it.

use std::path::Path;
use std::time::Duration;

use super::PageAudio;
use kmidi_midi::sink::read_recording;
use kmidi_test_instruments::clicks;
use kmidi_test_instruments::onset::{compare, Detector};

/// Two strikes closer than this sound as one onset: the second starts inside the first
/// one's burst. Arrivals come this close when the player or the broker stalls a moment
/// and hands several notes on at once.
pub const MASKED: Duration = Duration::from_millis(20);

/// The page's sound of a `clicks` song, judged.
pub struct PageSound {
    /// When the instrument played each note-on (its `--record` file).
    pub arrivals: Vec<Duration>,
    /// Where the page put each note-on in its audio.
    pub scheduled: Vec<Duration>,
    /// The onsets found in the page's audio, on the same timeline as `scheduled`.
    pub onsets: Vec<Duration>,
    pub judged: Judged,
}

/// How the onsets in the page's audio sit against the instrument's arrivals.
pub struct Judged {
    /// Per note found: onset − arrival less the page's constant delay (the median of
    /// those over the notes sharing that delay), ms.
    pub errors_ms: Vec<f64>,
    /// How many delays the page played at: 1, plus one per underrun between notes.
    pub delays: usize,
    /// Notes with no onset of their own that came within [`MASKED`] of the one before.
    pub masked: Vec<usize>,
    /// Notes with no onset near them, and no excuse.
    pub unheard: Vec<usize>,
    /// Onsets no note explains.
    pub extra: usize,
}

/// p50/p99/max of the absolute errors, ms (nearest rank; 0 with no note heard).
pub struct Spread {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Judged {
    pub fn spread(&self) -> Spread {
        let mut abs: Vec<f64> = self.errors_ms.iter().map(|e| e.abs()).collect();
        abs.sort_by(f64::total_cmp);
        Spread {
            count: abs.len(),
            p50_ms: percentile(&abs, 0.5),
            p99_ms: percentile(&abs, 0.99),
            max_ms: abs.last().copied().unwrap_or(0.0),
        }
    }
}

impl PageSound {
    /// Everything a failure needs to be understood, in one line.
    pub fn context(&self, audio: &PageAudio) -> String {
        format!(
            "the page's delay {} ms, underruns {}; errors (ms) {:?}; scheduled {:?}; \
             onsets {:?}; arrivals {:?}",
            audio.delay_ms,
            audio.underruns,
            self.judged.errors_ms,
            self.scheduled,
            self.onsets,
            self.arrivals,
        )
    }
}

/// Judges the page's `audio` of a [`clicks`] song against the note-ons in `record`,
/// the instrument's `--record` file.
///
/// # Panics
///
/// If `record` is not a MIDI file, or the page did not schedule every note-on it holds.
pub fn judge_page(audio: &PageAudio, record: &Path) -> PageSound {
    let onsets: Vec<Duration> = Detector {
        // The page's hi-hat is one 12 ms burst of noise, with no second burst to skip.
        refractory: Duration::from_millis(12),
        ..Detector::default()
    }
    .onsets(&audio.mono, audio.sample_rate as u32)
    .into_iter()
    .map(|n| Duration::from_secs_f64(n as f64 / audio.sample_rate))
    .collect();
    let arrivals: Vec<Duration> = read_recording(record)
        .expect("the recording is a MIDI file")
        .into_iter()
        .filter(|(_, bytes)| bytes.as_slice() == clicks::note_on())
        .map(|(at, _)| at)
        .collect();
    let judged = judge(&arrivals, &audio.scheduled, &onsets);
    PageSound {
        arrivals,
        scheduled: audio.scheduled.clone(),
        onsets,
        judged,
    }
}

/// `scheduled`: where the page put each note in its audio (from `kmidiTap.noteFrames()`),
/// on the onsets' timeline. An underrun moves the page's delay once (that is the
/// design: the buffer grows only then), so the constant removed is the one of the run of
/// notes between underruns; where the page claims it scheduled a note only splits the
/// notes into those runs, every error is the audio's against the arrival.
fn judge(arrivals: &[Duration], scheduled: &[Duration], onsets: &[Duration]) -> Judged {
    assert_eq!(
        scheduled.len(),
        arrivals.len(),
        "the page scheduled every note"
    );
    // Matched to the schedule within 3 ms (the schedule's timeline is continuous across
    // an underrun, the arrivals' is not), held to 1 ms of the arrival after.
    let c = compare(scheduled, onsets, Duration::from_millis(3));
    let offset: Vec<f64> = scheduled
        .iter()
        .zip(arrivals)
        .map(|(s, a)| s.as_secs_f64() - a.as_secs_f64())
        .collect();
    // A new delay where the schedule's offset jumps (by ≥ 50 ms on an underrun; frame
    // rounding moves it by a sample at most).
    let mut delay_of = vec![0usize; arrivals.len()];
    for i in 1..arrivals.len() {
        let jump = (offset[i] - offset[i - 1]).abs() > 0.5e-3;
        delay_of[i] = delay_of[i - 1] + usize::from(jump);
    }
    let delays = delay_of.last().map_or(1, |d| d + 1);
    // Onset − arrival, up to one constant for the whole song: the detector's own offset.
    let heard: Vec<(usize, f64)> = c
        .heard
        .iter()
        .map(|h| (h.index, h.delay_us / 1e3 + offset[h.index] * 1e3))
        .collect();
    let mut errors_ms = Vec::with_capacity(heard.len());
    for d in 0..delays {
        let mut run: Vec<f64> = heard
            .iter()
            .filter(|(i, _)| delay_of[*i] == d)
            .map(|(_, ms)| *ms)
            .collect();
        run.sort_by(f64::total_cmp);
        let median = run.get(run.len() / 2).copied().unwrap_or(0.0);
        errors_ms.extend(run.iter().map(|ms| ms - median));
    }
    let (masked, unheard) = c
        .missing
        .iter()
        .partition(|&&i| i > 0 && arrivals[i] - arrivals[i - 1] < MASKED);
    Judged {
        errors_ms,
        delays,
        masked,
        unheard,
        extra: c.extra,
    }
}

/// Nearest rank of `sorted`; 0 when it is empty.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}
