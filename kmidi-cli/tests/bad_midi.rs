//! A corpus of broken MIDI files at the command line: each one is refused with exactly
//! one line naming the file and saying what is wrong, by the player (where the good
//! files of the same directory still load) and by the demo; the good file and an
//! SMPTE-division file play. No Kafka needed: the player's loader runs before it
//! connects, and the demo plays on librdkafka's in-process mock cluster.

mod common;

use std::path::Path;

use common::{kmidi, run, stderr};
use kmidi_midi::smf::{Format, Smf, Track, MAX_DELTA};

/// Four quarter notes at 96 ticks per quarter, then end of track.
fn notes(track: &mut Track) -> &mut Track {
    for key in [60, 62, 64, 65] {
        track
            .message(0, &[0x90, key, 100])
            .message(96, &[0x80, key, 0]);
    }
    track.end()
}

fn smf(smf: Smf, tracks: impl IntoIterator<Item = Track>) -> Vec<u8> {
    smf.with_tracks(tracks).to_bytes().unwrap()
}

/// The good file the bad ones are made from: format 0, 96 ticks per quarter, [`notes`].
/// Its header is bytes 0-13 (the division in 12-13), the track's length field 18-21.
fn good() -> Vec<u8> {
    let mut track = Track::new();
    notes(&mut track);
    smf(Smf::new(Format::Single, 96), [track])
}

/// Every bad file: its name, contents, and a phrase its error must contain. No name is
/// part of another, so counting the lines that mention a name counts its messages.
fn bad_files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let good = good();
    // The track's first 10 bytes only.
    let cut_track = good[..22 + 10].to_vec();
    let mut huge_track = good.clone();
    huge_track[18..22].copy_from_slice(&u32::MAX.to_be_bytes());
    // A header chunk of 2 bytes: the format word alone.
    let mut short_header = good.clone();
    short_header[7] = 2;
    short_header.drain(10..14);
    let mut max_deltas = Track::new();
    max_deltas.message(0, &[0x90, 60, 100]);
    for _ in 0..10 {
        max_deltas.message(MAX_DELTA, &[0x90, 60, 100]);
    }
    max_deltas.end();
    let mut zero_tempo = Track::new();
    notes(zero_tempo.tempo(0, 0));
    let two_tracks = || {
        let (mut a, mut b) = (Track::new(), Track::new());
        notes(&mut a);
        notes(&mut b);
        [a, b]
    };
    // Rate byte 0x80 (-128): no SMPTE frame rate.
    let mut bad_smpte_rate = good.clone();
    bad_smpte_rate[12] = 0x80;
    vec![
        ("empty.mid", Vec::new(), "empty file"),
        (
            "text.mid",
            b"# not MIDI\nhello\n".to_vec(),
            "not a MIDI file",
        ),
        ("cut_header.mid", good[..10].to_vec(), "truncated"),
        ("cut_track.mid", cut_track, "truncated"),
        (
            "huge_track_length.mid",
            huge_track,
            "declares 4294967295 bytes",
        ),
        (
            "short_header_length.mid",
            short_header,
            "header chunk is 2 bytes",
        ),
        (
            "absurd_deltas.mid",
            smf(Smf::new(Format::Single, 1), [max_deltas]),
            "24 h limit",
        ),
        (
            "zero_tempo.mid",
            smf(Smf::new(Format::Single, 96), [zero_tempo]),
            "0 µs per quarter",
        ),
        (
            "zero_tracks.mid",
            smf(Smf::new(Format::Parallel, 96), []),
            "no tracks",
        ),
        (
            "format2.mid",
            smf(Smf::new(Format::Sequential, 96), two_tracks()),
            "format 2",
        ),
        ("bad_smpte_rate.mid", bad_smpte_rate, "SMPTE frame rate"),
    ]
}

/// -25 fps x 40 subframes: 1000 ticks a second, so the four notes last 0.8 s.
fn smpte_file() -> Vec<u8> {
    let mut track = Track::new();
    notes(&mut track);
    smf(Smf::smpte(Format::Single, 25, 40), [track])
}

fn write_corpus(dir: &Path) {
    for (name, bytes, _) in bad_files() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    std::fs::write(dir.join("smpte.mid"), smpte_file()).unwrap();
    std::fs::copy(
        common::repo().join("songs/ode_to_joy.mid"),
        dir.join("good.mid"),
    )
    .unwrap();
}

fn lines_naming<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(name)).collect()
}

#[test]
fn the_player_warns_once_per_bad_file_and_keeps_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    write_corpus(dir.path());
    // Nothing listens on port 1: the player gets past loading, then fails to connect.
    let out = run(kmidi()
        .args([
            "player",
            "-q",
            "-b",
            "127.0.0.1:1",
            "--connect-timeout",
            "1",
        ])
        .arg("-m")
        .arg(dir.path()));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot reach Kafka"), "{err}");
    for (name, _, phrase) in bad_files() {
        let lines = lines_naming(&err, name);
        assert_eq!(lines.len(), 1, "{name}: {lines:#?}");
        assert!(lines[0].contains(phrase), "{name}: {:?}", lines[0]);
    }
    for good in ["good.mid", "smpte.mid"] {
        assert_eq!(lines_naming(&err, good), Vec::<&str>::new(), "{good}");
    }
}

#[test]
fn a_directory_of_only_bad_files_names_each_once_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, _) in bad_files() {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let out = run(kmidi()
        .args([
            "player",
            "-q",
            "-b",
            "127.0.0.1:1",
            "--connect-timeout",
            "1",
        ])
        .arg("-m")
        .arg(dir.path()));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("nothing to play"), "{err}");
    for (name, _, phrase) in bad_files() {
        let lines = lines_naming(&err, name);
        assert_eq!(lines.len(), 1, "{name}: {lines:#?}");
        assert!(lines[0].contains(phrase), "{name}: {:?}", lines[0]);
    }
}

#[test]
fn the_demo_refuses_each_bad_file_with_one_line_naming_it() {
    let corpus = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    write_corpus(corpus.path());
    for (name, _, phrase) in bad_files() {
        let out = run(kmidi()
            .args(["demo", "-q", "--no-port", "-s", "0.05", "--song"])
            .arg(corpus.path().join(name))
            .arg("--record")
            .arg(out_dir.path().join("recorded.mid")));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        let lines = lines_naming(&err, name);
        assert_eq!(lines.len(), 1, "{name}: {err}");
        assert!(lines[0].contains(phrase), "{name}: {:?}", lines[0]);
    }
}

#[test]
fn the_good_file_and_the_smpte_file_play_every_note() {
    let corpus = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    write_corpus(corpus.path());
    for name in ["good.mid", "smpte.mid"] {
        let song = corpus.path().join(name);
        let recorded = out_dir.path().join(format!("recorded-{name}"));
        let out = run(kmidi()
            .args(["demo", "-q", "--no-port", "-s", "0.05", "--song"])
            .arg(&song)
            .arg("--record")
            .arg(&recorded));
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let expected = common::score_bytes(&song);
        assert!(!expected.is_empty(), "{name}");
        assert_eq!(common::recorded_bytes(&recorded), expected, "{name}");
    }
}
