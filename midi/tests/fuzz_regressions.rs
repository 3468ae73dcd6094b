//! Inputs that once broke the MIDI loader, kept so stable CI checks them without
//! nightly or cargo-fuzz (scripts/fuzz.sh finds them), plus the loader's performance
//! limits on generated pathological files too large to keep in the repository.
//!
//! Files in `tests/regressions/` are named for what the loader must do with them:
//! `ok-*` must load, `err-*` must be refused with a message naming the file. Either way
//! without a panic and quickly.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kmidi_midi::score::{LoadError, Score, MAX_DURATION, MAX_EVENTS, MAX_FILE_BYTES};
use kmidi_midi::smf::{Format, Smf, Track, MAX_DELTA};

/// Generous: a debug build on a loaded CI machine. What matters is that the pathologies
/// below take milliseconds to seconds, not minutes.
const QUICK: Duration = Duration::from_secs(20);

/// A format 1 file of `tracks`.
fn smf(ticks_per_quarter: u16, tracks: impl IntoIterator<Item = Track>) -> Vec<u8> {
    Smf::new(Format::Parallel, ticks_per_quarter)
        .with_tracks(tracks)
        .to_bytes()
        .unwrap()
}

/// One track: a note on, then `repeat` events added by `event`, then end of track.
fn track_of(repeat: usize, mut event: impl FnMut(&mut Track)) -> Track {
    let mut t = Track::new();
    t.message(0, &[0x90, 60, 64]);
    for _ in 0..repeat {
        event(&mut t);
    }
    t.end();
    t
}

/// [`track_of`] `repeat` more note-ons, each `delta` ticks after the last; the writer
/// gives them running status, 3 bytes an event at most.
fn notes(delta: u64, repeat: usize) -> Track {
    track_of(repeat, |t| {
        t.message(delta, &[0x90, 60, 64]);
    })
}

/// Parses `bytes` as "suspect.mid", checking it takes less than `QUICK`.
fn parse_quickly(bytes: &[u8]) -> Result<Score, LoadError> {
    let started = Instant::now();
    let result = Score::parse("suspect.mid", Path::new("dir/suspect.mid"), bytes);
    let took = started.elapsed();
    assert!(took < QUICK, "took {took:?}");
    result
}

fn refusal(bytes: &[u8]) -> (LoadError, String) {
    let err = parse_quickly(bytes).expect_err("should be refused");
    let text = err.to_string();
    assert!(text.starts_with("dir/suspect.mid: "), "{text}");
    (err, text)
}

fn saved_inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_saved_fuzz_input_loads_or_is_refused_quickly_as_its_name_says() {
    let files = saved_inputs();
    assert!(!files.is_empty(), "no regression inputs found");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let started = Instant::now();
        let result = std::panic::catch_unwind(|| Score::load(&path))
            .unwrap_or_else(|_| panic!("{name}: the loader panicked"));
        assert!(
            started.elapsed() < QUICK,
            "{name}: took {:?}",
            started.elapsed()
        );
        match result {
            Ok(score) => {
                assert!(
                    name.starts_with("ok-"),
                    "{name}: loaded but should be refused"
                );
                assert!(score.duration() <= MAX_DURATION, "{name}");
                let _ = score.notes_only();
            }
            Err(err) => {
                assert!(name.starts_with("err-"), "{name}: refused: {err}");
                let text = err.to_string();
                assert!(text.starts_with(&path.display().to_string()), "{text}");
            }
        }
    }
}

#[test]
fn millions_of_tiny_events_are_refused_naming_the_file_before_using_much_memory() {
    // Running status: 3 bytes an event, so 1.5 million events in 4.5 MB. Loaded whole,
    // 5 million such events took 0.5 GB.
    let bytes = smf(96, [notes(0, MAX_EVENTS + MAX_EVENTS / 2)]);
    let (err, text) = refusal(&bytes);
    assert!(matches!(err, LoadError::TooManyEvents { .. }), "{text}");
    assert!(text.contains("more than 1000000 events"), "{text}");
}

#[test]
fn the_event_limit_counts_all_tracks_together() {
    let half = notes(0, MAX_EVENTS / 2 + 1);
    let (err, text) = refusal(&smf(96, [half.clone(), half]));
    assert!(matches!(err, LoadError::TooManyEvents { .. }), "{text}");
}

#[test]
fn a_large_but_plausible_song_still_loads() {
    let score = parse_quickly(&smf(96, [notes(1, 200_000)])).unwrap();
    assert_eq!(score.events.len(), 200_001);
}

#[test]
fn a_repeated_maximal_delta_is_refused_as_too_long_without_overflow() {
    // 0x0FFFFFFF, the largest variable-length delta, 100 000 times.
    let bytes = smf(1, [notes(MAX_DELTA, 100_000)]);
    let (err, text) = refusal(&bytes);
    assert!(matches!(err, LoadError::TooLong { .. }), "{text}");
}

#[test]
fn the_slowest_tempo_with_maximal_deltas_is_refused_as_too_long() {
    // No end of track: the loader does not need one.
    let mut slowest = Track::new();
    slowest.tempo(0, 0xFF_FFFF);
    let (err, text) = refusal(&smf(1, [slowest, notes(MAX_DELTA, 10)]));
    assert!(matches!(err, LoadError::TooLong { .. }), "{text}");
}

#[test]
fn a_zero_tempo_is_refused_naming_its_tick() {
    let mut zero = Track::new();
    zero.tempo(96, 0);
    let (err, text) = refusal(&smf(96, [zero, notes(96, 4)]));
    assert!(
        matches!(err, LoadError::ZeroTempo { tick: 96, .. }),
        "{text}"
    );
}

#[test]
fn a_tempo_change_on_every_tick_loads_in_linear_time() {
    let tempo = track_of(200_000, |t| {
        t.tempo(1, 500_000);
    });
    let score = parse_quickly(&smf(96, [tempo])).unwrap();
    assert_eq!(score.events.len(), 1);
}

#[test]
fn a_huge_declared_track_length_is_truncated_without_allocating_it() {
    let mut bytes = Smf::new(Format::Single, 96)
        .with_tracks([notes(0, 0)])
        .to_bytes()
        .unwrap();
    // The track chunk's length field, after the 14-byte header and "MTrk".
    bytes[18..22].copy_from_slice(&u32::MAX.to_be_bytes());
    let (err, text) = refusal(&bytes);
    assert!(matches!(err, LoadError::Truncated { .. }), "{text}");
    assert!(text.contains("declares 4294967295 bytes"), "{text}");
}

#[test]
fn the_most_tracks_a_header_can_declare_load() {
    let tracks = vec![notes(0, 0); usize::from(u16::MAX)];
    let score = parse_quickly(&smf(96, tracks)).unwrap();
    assert_eq!(score.events.len(), usize::from(u16::MAX));
}

#[test]
fn a_file_over_the_size_limit_is_refused_without_reading_past_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.mid");
    let file = std::fs::File::create(&path).unwrap();
    // Sparse: no disk space used.
    file.set_len(MAX_FILE_BYTES + 1).unwrap();
    let err = Score::load(&path).expect_err("should be refused");
    assert!(matches!(err, LoadError::TooLarge { .. }), "{err}");
    let text = err.to_string();
    assert!(text.starts_with(&path.display().to_string()), "{text}");
}
