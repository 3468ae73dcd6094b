//! The audio-onset check on kmidi's own rendering: the claves song rendered by
//! `WavRenderer` at arrival times with sub-millisecond parts, its onsets found in the
//! `.wav` and compared with those times. Every note must start on its own sample, and
//! a delay put into one note on purpose must be found on that note, at its size: the
//! proof that the check can fail.

use std::path::Path;
use std::time::Duration;

use kmidi_midi::sink::render::SAMPLE_RATE;
use kmidi_midi::sink::{find_soundfont, Sink, WavRenderer};
use kmidi_test_instruments::clicks;
use kmidi_test_instruments::onset::{compare_wav, Comparison, Detector};

const NOTES: usize = 40;
/// The note made late on purpose, and by how much.
const INJECTED_AT: usize = 23;
const INJECTED: Duration = Duration::from_micros(3_000);
/// One sample, µs.
const SAMPLE_US: f64 = 1e6 / SAMPLE_RATE as f64;

fn font() -> Option<std::path::PathBuf> {
    let font = find_soundfont();
    if font.is_none() {
        // CI installs one (scripts/install-deps.sh): there, a missing font is a failure.
        assert!(
            std::env::var_os("CI").is_none(),
            "no SoundFont installed (apt install timgm6mb-soundfont)"
        );
        println!("skipped: no SoundFont installed (apt install timgm6mb-soundfont)");
    }
    font
}

/// Arrival times: the song's onsets, each with a different sub-millisecond part, as
/// real arrivals have (so they fall anywhere inside rustysynth's 8-sample blocks).
fn arrivals() -> Vec<Duration> {
    clicks::onsets(NOTES)
        .into_iter()
        .enumerate()
        .map(|(i, at)| at + Duration::from_micros(100 + (i as u64 * 379) % 1000))
        .collect()
}

/// Renders the song at `arrivals`, note `late` played `by` later than its arrival.
fn render(
    wav: &Path,
    font: &Path,
    arrivals: &[Duration],
    late: Option<(usize, Duration)>,
    block: Option<usize>,
) {
    let mut sink = WavRenderer::new(wav, font).expect("font loads");
    if let Some(b) = block {
        sink = sink.with_block_size(b);
    }
    for (i, &at) in arrivals.iter().enumerate() {
        let at = match late {
            Some((j, by)) if j == i => at + by,
            _ => at,
        };
        sink.send(&clicks::note_on(), at).expect("plays");
        sink.send(&clicks::note_off(), at + Duration::from_millis(30))
            .expect("plays");
    }
    sink.finish().expect("renders");
}

fn check(wav: &Path, arrivals: &[Duration]) -> Comparison {
    let c = compare_wav(
        wav,
        arrivals,
        &Detector::default(),
        Duration::from_millis(20),
    )
    .expect("reads the wav");
    assert!(
        c.missing.is_empty(),
        "notes not found in the audio: {:?}",
        c.missing
    );
    assert_eq!(c.extra, 0, "onsets that are no note: {c:?}");
    c
}

#[test]
fn every_rendered_note_starts_on_its_own_sample() {
    let Some(font) = font() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = dir.path().join("exact.wav");
    let arrivals = arrivals();
    render(&wav, &font, &arrivals, None, None);
    let spread = check(&wav, &arrivals).spread();
    println!("exact rendering: {spread:?}");
    // Arrival times are rounded to the nearest sample, so ±½ sample either side.
    assert!(spread.max_us <= SAMPLE_US * 1.01, "{spread:?}");
}

#[test]
fn per_block_rendering_lands_notes_up_to_a_block_late() {
    let Some(font) = font() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = dir.path().join("block.wav");
    let arrivals = arrivals();
    render(&wav, &font, &arrivals, None, Some(8));
    let spread = check(&wav, &arrivals).spread();
    println!("8-sample blocks: {spread:?}");
    // What the check is for: it sees the block quantization the exact path removes.
    assert!(spread.max_us > 3.0 * SAMPLE_US, "{spread:?}");
    assert!(spread.max_us <= 8.0 * SAMPLE_US + 1.0, "{spread:?}");
}

#[test]
fn a_delay_injected_into_one_note_is_found_on_that_note_at_its_size() {
    let Some(font) = font() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = dir.path().join("late.wav");
    let arrivals = arrivals();
    render(&wav, &font, &arrivals, Some((INJECTED_AT, INJECTED)), None);
    let c = check(&wav, &arrivals);
    let worst = c.worst().expect("notes heard");
    println!("injected {INJECTED:?} at note {INJECTED_AT}: found {worst:?}");
    assert_eq!(
        worst.index, INJECTED_AT,
        "the late note is found where it is"
    );
    let size_us = INJECTED.as_secs_f64() * 1e6;
    assert!(
        (worst.delay_us - size_us).abs() <= SAMPLE_US * 1.01,
        "found {:.0} µs, injected {size_us:.0} µs",
        worst.delay_us
    );
    let others = c
        .heard
        .iter()
        .filter(|h| h.index != INJECTED_AT)
        .map(|h| h.delay_us)
        .fold(0f64, f64::max);
    assert!(
        others <= SAMPLE_US * 1.01,
        "the other notes stay exact: {others:.0} µs"
    );
}
