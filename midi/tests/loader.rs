//! The loader on hand-built files: every refusal names the file and says what is wrong,
//! and the awkward-but-valid encodings (running status, SMPTE division) play at the
//! right times.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kmidi_midi::score::{LoadError, Score};
use kmidi_midi::smf::{meta, Format, Smf, Track, MAX_DELTA};

/// A track built by `events`.
fn track(events: impl FnOnce(&mut Track)) -> Track {
    let mut t = Track::new();
    events(&mut t);
    t
}

fn smf(format: Format, ticks_per_quarter: u16, tracks: impl IntoIterator<Item = Track>) -> Vec<u8> {
    Smf::new(format, ticks_per_quarter)
        .with_tracks(tracks)
        .to_bytes()
        .unwrap()
}

/// Note on, one quarter (96 ticks), note off, end of track.
fn one_note() -> Track {
    track(|t| {
        t.message(0, &[0x90, 60, 100])
            .message(96, &[0x80, 60, 0])
            .end();
    })
}

/// A good format 0 file at 96 ticks per quarter holding [`one_note`].
fn one_note_file() -> Vec<u8> {
    smf(Format::Single, 96, [one_note()])
}

/// Writes `bytes` under a distinctive name and loads it.
fn load(bytes: &[u8]) -> (PathBuf, Result<Score, LoadError>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("suspect_file.mid");
    std::fs::write(&path, bytes).unwrap();
    let result = Score::load(&path);
    (path, result, dir)
}

/// Loads `bytes`, expects an error whose text names the file and contains `needle`.
fn refused(bytes: &[u8], needle: &str) -> LoadError {
    let (path, result, _dir) = load(bytes);
    let err = result.expect_err("file should have been refused");
    let text = err.to_string();
    assert!(
        text.starts_with(&path.display().to_string()),
        "does not name the file: {text}"
    );
    assert!(text.contains(needle), "expected {needle:?} in: {text}");
    err
}

#[test]
fn a_text_file_is_not_midi() {
    let err = refused(
        b"hello, I am a text file\n",
        "not a MIDI file (no MThd header)",
    );
    assert!(matches!(err, LoadError::NotMidi { .. }));
}

#[test]
fn an_empty_file_is_refused_as_empty() {
    let err = refused(b"", "empty file");
    assert!(matches!(err, LoadError::Empty { .. }));
}

#[test]
fn a_header_cut_short_is_truncated() {
    let full = one_note_file();
    for cut in [2, 9, 13] {
        let err = refused(&full[..cut], "truncated");
        assert!(
            matches!(err, LoadError::Truncated { .. }),
            "cut at {cut}: {err}"
        );
    }
}

#[test]
fn a_track_cut_short_is_truncated_not_played_in_part() {
    let full = one_note_file();
    let err = refused(&full[..full.len() - 5], "truncated");
    assert!(err.to_string().contains("track 1"), "{err}");
}

#[test]
fn a_missing_second_track_is_truncated() {
    let mut bytes = smf(Format::Parallel, 96, [one_note()]);
    // The header's track count (bytes 10-11) says 2.
    bytes[11] = 2;
    refused(&bytes, "declares 2 tracks but the file ends after 1");
}

#[test]
fn format_2_is_refused_with_a_way_out() {
    let err = refused(
        &smf(Format::Sequential, 96, [one_note()]),
        "format 2 (independent sequences)",
    );
    assert!(
        err.to_string().contains("convert it to format 0 or 1"),
        "{err}"
    );
}

#[test]
fn zero_tracks_is_refused() {
    let err = refused(&smf(Format::Parallel, 96, []), "no tracks");
    assert!(matches!(err, LoadError::NoTracks { .. }));
}

#[test]
fn tracks_with_only_meta_events_have_nothing_to_play() {
    let meta_only = track(|t| {
        t.meta(0, meta::TRACK_NAME, b"x").end();
    });
    refused(
        &smf(Format::Parallel, 96, [meta_only]),
        "no channel messages to play",
    );
}

#[test]
fn an_unreadable_path_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.mid");
    let err = Score::load(&path).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot read", path.display())),
        "{err}"
    );
}

#[test]
fn running_status_events_are_all_read() {
    // Four note-ons share one status byte (running status), then the note-offs as
    // note-on velocity 0, also under running status.
    let notes = track(|t| {
        for (delta, key, vel) in [
            (0, 60, 100),
            (96, 62, 100),
            (96, 64, 100),
            (96, 65, 100),
            (96, 60, 0),
            (0, 62, 0),
            (0, 64, 0),
            (0, 65, 0),
        ] {
            t.message(delta, &[0x90, key, vel]);
        }
        t.end();
    });
    let statuses = notes.body().iter().filter(|b| **b == 0x90).count();
    assert_eq!(statuses, 1, "the writer uses running status");
    let (_path, result, _dir) = load(&smf(Format::Single, 96, [notes]));
    let score = result.unwrap();
    let hex: Vec<String> = score.events.iter().map(|e| e.message.hex()).collect();
    assert_eq!(
        hex,
        [
            "90 3C 64", "90 3E 64", "90 40 64", "90 41 64", "90 3C 00", "90 3E 00", "90 40 00",
            "90 41 00"
        ]
    );
    let at: Vec<u64> = score
        .events
        .iter()
        .map(|e| e.at.as_millis() as u64)
        .collect();
    assert_eq!(at, [0, 500, 1000, 1500, 2000, 2000, 2000, 2000]);
}

#[test]
fn smpte_division_plays_at_frame_times_ignoring_tempo() {
    // 25 fps x 40 ticks per frame = 1000 ticks per second; the tempo event must not matter.
    let notes = track(|t| {
        t.tempo(0, 1_000_000) // 1 s per quarter: ignored
            .message(0, &[0x90, 60, 100])
            .message(1000, &[0x80, 60, 0])
            .message(500, &[0x90, 62, 100])
            .end();
    });
    let bytes = Smf::smpte(Format::Single, 25, 40)
        .with_tracks([notes])
        .to_bytes()
        .unwrap();
    let (_path, result, _dir) = load(&bytes);
    let score = result.unwrap();
    let at: Vec<Duration> = score.events.iter().map(|e| e.at).collect();
    assert_eq!(
        at,
        [
            Duration::ZERO,
            Duration::from_secs(1),
            Duration::from_millis(1500)
        ]
    );
    assert_eq!(score.duration(), Duration::from_millis(1500));
}

#[test]
fn format_1_tracks_merge_in_time_with_tempo_from_the_first_track() {
    // Track 1: tempo 250 ms per quarter from tick 96. Track 2: notes at 0, 96, 192 ticks.
    let tempo = track(|t| {
        t.tempo(96, 250_000).end();
    });
    let notes = track(|t| {
        t.message(0, &[0x91, 60, 90])
            .message(96, &[0x91, 62, 90])
            .message(96, &[0x91, 64, 90])
            .end();
    });
    let (path, result, _dir) = load(&smf(Format::Parallel, 96, [tempo, notes]));
    let score = result.unwrap();
    assert_eq!(score.name, "suspect_file.mid");
    assert_eq!(score.path, path);
    let at: Vec<u128> = score.events.iter().map(|e| e.at.as_millis()).collect();
    assert_eq!(at, [0, 500, 750]);
    // The tempo event sits at the same time as the second note: that note's delta is 0.
    let deltas: Vec<f64> = score.events.iter().map(|e| e.delta).collect();
    assert_eq!(deltas, [0.0, 0.0, 0.25]);
}

#[test]
fn parse_from_memory_names_the_given_name_when_there_is_no_path() {
    let err = Score::parse("from-kafka.mid", Path::new(""), b"nope").unwrap_err();
    assert!(err.to_string().starts_with("from-kafka.mid: "), "{err}");
}

#[test]
fn delta_counts_from_the_previous_event_of_any_kind_like_mido() {
    // Note at 0, a text meta event at 96 ticks, a note off at 192: the note off's delta is
    // measured from the meta event, as mido's `msg.time` is.
    let body = track(|t| {
        t.message(0, &[0x90, 60, 1])
            .meta(96, meta::TEXT, b"x")
            .message(96, &[0x80, 60, 0])
            .end();
    });
    let (_path, result, _dir) = load(&smf(Format::Single, 96, [body]));
    let score = result.unwrap();
    let deltas: Vec<f64> = score.events.iter().map(|e| e.delta).collect();
    assert_eq!(deltas, [0.0, 0.5]);
    assert_eq!(score.duration(), Duration::from_secs(1));
}

#[test]
fn notes_only_drops_other_messages_but_keeps_their_deltas() {
    let body = track(|t| {
        t.message(0, &[0xC0, 5])
            .message(96, &[0x90, 60, 1])
            .message(96, &[0xB0, 7, 9])
            .end();
    });
    let (_path, result, _dir) = load(&smf(Format::Single, 96, [body]));
    let score = result.unwrap();
    assert_eq!(score.events.len(), 3);
    let notes = score.notes_only();
    assert_eq!(notes.events.len(), 1);
    assert_eq!(notes.events[0].message.hex(), "90 3C 01");
    assert_eq!(notes.events[0].delta, 0.5);
    assert_eq!(notes.events[0].at, Duration::from_millis(500));
    assert_eq!(notes.name, score.name);
}

#[test]
fn a_file_lasting_more_than_a_day_is_refused() {
    // The largest delta (0x0FFFFFFF ticks) at 1 tick per 0.5 s quarter: about 4 years.
    let body = track(|t| {
        t.message(MAX_DELTA, &[0x90, 60, 1]).end();
    });
    let err = refused(&smf(Format::Single, 1, [body]), "more than the 24 h limit");
    assert!(matches!(err, LoadError::TooLong { .. }));
}

#[test]
fn an_undecodable_event_inside_a_complete_track_is_malformed_not_silently_cut() {
    // 0xF4 is an undefined system common status; lenient midly would end the track there.
    // Raw: as a message, the writer would wrap the status in an escape event.
    let body = track(|t| {
        t.message(0, &[0x90, 60, 1]).raw(&[0x00, 0xF4]).end();
    });
    let err = refused(
        &smf(Format::Single, 96, [body]),
        "malformed MIDI data: track 1",
    );
    assert!(matches!(err, LoadError::Malformed { .. }));
}

#[test]
fn zero_ticks_per_quarter_is_refused() {
    let err = refused(
        &smf(Format::Single, 0, [one_note()]),
        "invalid time division",
    );
    assert!(matches!(err, LoadError::BadDivision { .. }));
}

#[test]
fn bytes_after_the_declared_tracks_are_tolerated() {
    let mut bytes = one_note_file();
    bytes.extend([0, 0, 0]);
    let (_path, result, _dir) = load(&bytes);
    assert_eq!(result.unwrap().events.len(), 2);
}
