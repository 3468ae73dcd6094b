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

/// Generous: a debug build on a loaded CI machine. What matters is that the pathologies
/// below take milliseconds to seconds, not minutes.
const QUICK: Duration = Duration::from_secs(20);

fn header(format: u16, tracks: u16, division: u16) -> Vec<u8> {
    let mut out = b"MThd\0\0\0\x06".to_vec();
    for v in [format, tracks, division] {
        out.extend(v.to_be_bytes());
    }
    out
}

fn smf(division: u16, tracks: &[&[u8]]) -> Vec<u8> {
    let mut out = header(1, tracks.len() as u16, division);
    for t in tracks {
        out.extend(b"MTrk");
        out.extend((t.len() as u32).to_be_bytes());
        out.extend(*t);
    }
    out
}

/// One track: a note on, then `repeat` copies of `event` (which may use running status),
/// then end of track.
fn track_of(event: &[u8], repeat: usize) -> Vec<u8> {
    let mut body = vec![0x00, 0x90, 60, 64];
    body.reserve(event.len() * repeat + 4);
    for _ in 0..repeat {
        body.extend_from_slice(event);
    }
    body.extend([0x00, 0xFF, 0x2F, 0x00]);
    body
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
    let bytes = smf(
        96,
        &[&track_of(&[0x00, 60, 64], MAX_EVENTS + MAX_EVENTS / 2)],
    );
    let (err, text) = refusal(&bytes);
    assert!(matches!(err, LoadError::TooManyEvents { .. }), "{text}");
    assert!(text.contains("more than 1000000 events"), "{text}");
}

#[test]
fn the_event_limit_counts_all_tracks_together() {
    let half = track_of(&[0x00, 60, 64], MAX_EVENTS / 2 + 1);
    let (err, text) = refusal(&smf(96, &[&half, &half]));
    assert!(matches!(err, LoadError::TooManyEvents { .. }), "{text}");
}

#[test]
fn a_large_but_plausible_song_still_loads() {
    let score = parse_quickly(&smf(96, &[&track_of(&[0x01, 60, 64], 200_000)])).unwrap();
    assert_eq!(score.events.len(), 200_001);
}

#[test]
fn a_repeated_maximal_delta_is_refused_as_too_long_without_overflow() {
    // 0x0FFFFFFF, the largest variable-length delta, 100 000 times.
    let bytes = smf(1, &[&track_of(&[0xFF, 0xFF, 0xFF, 0x7F, 60, 64], 100_000)]);
    let (err, text) = refusal(&bytes);
    assert!(matches!(err, LoadError::TooLong { .. }), "{text}");
}

#[test]
fn the_slowest_tempo_with_maximal_deltas_is_refused_as_too_long() {
    let slowest = [0x00, 0xFF, 0x51, 0x03, 0xFF, 0xFF, 0xFF];
    let notes = track_of(&[0xFF, 0xFF, 0xFF, 0x7F, 60, 64], 10);
    let (err, text) = refusal(&smf(1, &[&slowest, &notes]));
    assert!(matches!(err, LoadError::TooLong { .. }), "{text}");
}

#[test]
fn a_zero_tempo_is_refused_naming_its_tick() {
    let zero = [0x60, 0xFF, 0x51, 0x03, 0x00, 0x00, 0x00];
    let (err, text) = refusal(&smf(96, &[&zero, &track_of(&[0x60, 60, 64], 4)]));
    assert!(
        matches!(err, LoadError::ZeroTempo { tick: 96, .. }),
        "{text}"
    );
}

#[test]
fn a_tempo_change_on_every_tick_loads_in_linear_time() {
    let tempo = track_of(&[0x01, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20], 200_000);
    let score = parse_quickly(&smf(96, &[&tempo])).unwrap();
    assert_eq!(score.events.len(), 1);
}

#[test]
fn a_huge_declared_track_length_is_truncated_without_allocating_it() {
    let mut bytes = header(0, 1, 96);
    bytes.extend(b"MTrk\xFF\xFF\xFF\xFF");
    bytes.extend(track_of(&[], 0));
    let (err, text) = refusal(&bytes);
    assert!(matches!(err, LoadError::Truncated { .. }), "{text}");
    assert!(text.contains("declares 4294967295 bytes"), "{text}");
}

#[test]
fn the_most_tracks_a_header_can_declare_load() {
    let one = track_of(&[], 0);
    let tracks: Vec<&[u8]> = vec![&one; usize::from(u16::MAX)];
    let score = parse_quickly(&smf(96, &tracks)).unwrap();
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
