//! What you hear is what arrived, end to end through `kmidi demo` on librdkafka's mock
//! cluster: the hi-hat song of `kmidi_test_instruments::clicks` is played through Kafka,
//! recorded (`--record`, the real arrival times) and rendered (`--render`); every onset
//! found in the rendered audio must sit on its recorded arrival, to the sample. (That
//! the check catches a late note, at the right place and size, is
//! `test-instruments/tests/onsets.rs`.)

mod common;

use std::time::Duration;

use common::{kmidi, run, stderr};
use kmidi_midi::sink::{find_soundfont, read_recording};
use kmidi_test_instruments::clicks;
use kmidi_test_instruments::onset::{compare_wav, Detector};

const NOTES: usize = 40;

#[test]
fn the_rendered_audio_starts_each_note_on_its_recorded_arrival() {
    if find_soundfont().is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no SoundFont installed (apt install timgm6mb-soundfont)"
        );
        eprintln!("skipped: no soundfont installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let song = dir.path().join("clicks.mid");
    std::fs::write(&song, clicks::smf_bytes(NOTES)).unwrap();
    let (mid, wav) = (dir.path().join("heard.mid"), dir.path().join("heard.wav"));
    let out = run(kmidi()
        .args(["demo", "-q", "--song"])
        .arg(&song)
        .arg("--record")
        .arg(&mid)
        .arg("--render")
        .arg(&wav));
    assert!(out.status.success(), "{}", stderr(&out));

    let arrivals: Vec<Duration> = read_recording(&mid)
        .unwrap()
        .into_iter()
        .filter(|(_, bytes)| bytes.as_slice() == clicks::note_on())
        .map(|(at, _)| at)
        .collect();
    assert_eq!(arrivals.len(), NOTES, "every note was recorded");
    // On a busy machine notes can arrive bunched: one closer to the note before it
    // than the detector can resolve (its refractory time, plus the window it compares
    // the attack with) is not an onset of its own in the audio, and is not judged. Most
    // must still be, or the test says nothing.
    let detector = Detector::default();
    let resolvable = detector.refractory + detector.window;
    let judged: Vec<Duration> = arrivals
        .iter()
        .enumerate()
        .filter(|(i, at)| *i == 0 || **at >= arrivals[i - 1] + resolvable)
        .map(|(_, at)| *at)
        .collect();
    assert!(
        judged.len() * 4 >= NOTES * 3,
        "only {} of {NOTES} notes arrived far enough apart to be told apart: {arrivals:?}",
        judged.len()
    );
    let c = compare_wav(&wav, &judged, &detector, Duration::from_millis(20)).unwrap();
    assert!(c.missing.is_empty(), "not heard: {:?}", c.missing);
    let spread = c.spread();
    eprintln!("audio onset − recorded arrival: {spread:?}");
    // The recording keeps 20 µs ticks and the audio 22.7 µs samples.
    assert!(
        spread.max_us <= 45.0,
        "a note sounded {:.0} µs off its arrival: {:?}",
        spread.max_us,
        c.worst()
    );
}
