//! `WavRenderer` end to end with the Debian TimGM6mb SoundFont: a short phrase
//! becomes a `.wav` of the right length that actually makes sound.

use std::path::Path;
use std::time::Duration;

use kmidi_midi::sink::render::{SAMPLE_RATE, TAIL};
use kmidi_midi::sink::{wav_peak, wav_summary, Sink, SinkError, WavRenderer};

const FONT: &str = "/usr/share/sounds/sf2/TimGM6mb.sf2";

fn font() -> Option<&'static Path> {
    let font = Path::new(FONT);
    if font.is_file() {
        Some(font)
    } else {
        println!("skipped: {FONT} is not installed (apt install timgm6mb-soundfont)");
        None
    }
}

/// C D E F G, a quarter second each, then a C major chord for half a second.
fn c_major_phrase() -> Vec<(Duration, Vec<u8>)> {
    let mut out = vec![(Duration::ZERO, vec![0xC0, 0x00])];
    for (i, key) in [60u8, 62, 64, 65, 67].into_iter().enumerate() {
        let start = Duration::from_millis(250 * i as u64);
        out.push((start, vec![0x90, key, 100]));
        out.push((start + Duration::from_millis(240), vec![0x80, key, 0]));
    }
    for key in [60u8, 64, 67] {
        out.push((Duration::from_millis(1250), vec![0x90, key, 100]));
        out.push((Duration::from_millis(1750), vec![0x80, key, 0]));
    }
    out
}

#[test]
fn a_c_major_phrase_renders_to_an_audible_wav_of_the_right_length() {
    let Some(font) = font() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("phrase.wav");
    let mut wav = WavRenderer::new(&path, font).expect("load font");
    for (at, bytes) in c_major_phrase() {
        wav.send(&bytes, at).expect("send");
    }
    wav.finish().expect("render");

    let summary = wav_summary(&path).expect("read wav");
    assert_eq!(summary.sample_rate, SAMPLE_RATE);
    assert_eq!(summary.channels, 2);
    let want = (Duration::from_millis(1750) + TAIL).as_secs_f64();
    assert!(
        (summary.seconds() - want).abs() < 0.001,
        "{} s, want {want} s",
        summary.seconds()
    );
    assert!(summary.peak > 0.05, "peak {} is too quiet", summary.peak);
    assert!(summary.peak < 1.0, "peak {} clips", summary.peak);
    assert_eq!(
        wav_peak(&path).expect("peak"),
        (summary.frames, summary.peak)
    );
}

#[test]
fn sound_starts_when_the_first_note_arrives_not_before() {
    let Some(font) = font() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("late.wav");
    let mut wav = WavRenderer::new(&path, font).expect("load font");
    wav.send(&[0x90, 60, 100], Duration::from_millis(500))
        .expect("send");
    wav.send(&[0x80, 60, 0], Duration::from_millis(700))
        .expect("send");
    wav.finish().expect("render");

    let mut reader = hound::WavReader::open(&path).expect("open");
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect();
    let first_sound = samples
        .iter()
        .position(|s| s.unsigned_abs() > 30)
        .expect("some sound")
        / 2;
    let onset = first_sound as f64 / f64::from(SAMPLE_RATE);
    assert!((0.5..0.51).contains(&onset), "sound starts at {onset} s");
}

#[test]
fn nothing_played_renders_just_the_silent_tail() {
    let Some(font) = font() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("silence.wav");
    let mut wav = WavRenderer::new(&path, font).expect("load font");
    wav.finish().expect("render");
    let (frames, peak) = wav_peak(&path).expect("peak");
    assert_eq!(
        u64::from(frames),
        (TAIL.as_secs_f64() * 44_100.0).round() as u64
    );
    assert_eq!(peak, 0.0);
}

#[test]
fn a_missing_soundfont_or_directory_is_refused_up_front() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = WavRenderer::new(dir.path().join("x.wav"), Path::new("/no/such/font.sf2"))
        .err()
        .expect("must fail");
    assert!(err.to_string().contains("/no/such/font.sf2"), "{err}");
    let Some(font) = font() else { return };
    let err = WavRenderer::new(dir.path().join("missing").join("x.wav"), font)
        .err()
        .expect("must fail");
    assert!(matches!(err, SinkError::MissingDirectory { .. }), "{err:?}");
}
