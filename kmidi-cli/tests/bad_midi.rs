//! A corpus of broken MIDI files at the command line: each one is refused with exactly
//! one line naming the file and saying what is wrong, by the player (where the good
//! files of the same directory still load) and by the demo; the good file and an
//! SMPTE-division file play. No Kafka needed: the player's loader runs before it
//! connects, and the demo plays on librdkafka's in-process mock cluster.

mod common;

use std::path::Path;

use common::{kmidi, run, stderr};

fn header(format: u16, tracks: u16, division: u16) -> Vec<u8> {
    let mut out = b"MThd\0\0\0\x06".to_vec();
    for v in [format, tracks, division] {
        out.extend(v.to_be_bytes());
    }
    out
}

/// A track chunk declaring `declared` bytes around `body`.
fn chunk(declared: u32, body: &[u8]) -> Vec<u8> {
    let mut out = b"MTrk".to_vec();
    out.extend(declared.to_be_bytes());
    out.extend(body);
    out
}

fn smf(format: u16, division: u16, tracks: &[&[u8]]) -> Vec<u8> {
    let mut out = header(format, tracks.len() as u16, division);
    for t in tracks {
        out.extend(chunk(t.len() as u32, t));
    }
    out
}

/// Four quarter notes at 96 ticks per quarter, then end of track.
const NOTES: &[u8] = &[
    0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0x00, 0x90, 62, 100, 0x60, 0x80, 62, 0, 0x00, 0x90, 64,
    100, 0x60, 0x80, 64, 0, 0x00, 0x90, 65, 100, 0x60, 0x80, 65, 0, 0x00, 0xFF, 0x2F, 0x00,
];

/// Every bad file: its name, contents, and a phrase its error must contain. No name is
/// part of another, so counting the lines that mention a name counts its messages.
fn bad_files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut cut_track = header(0, 1, 96);
    cut_track.extend(chunk(NOTES.len() as u32, &NOTES[..10]));
    let mut huge_track = header(0, 1, 96);
    huge_track.extend(chunk(u32::MAX, NOTES));
    // The track's length covers only its first two events.
    let mut short_track = header(0, 1, 96);
    short_track.extend(chunk(8, NOTES));
    let mut short_header = b"MThd\0\0\0\x02\0\0".to_vec();
    short_header.extend(chunk(NOTES.len() as u32, NOTES));
    let mut max_deltas = vec![0x00, 0x90, 60, 100];
    for _ in 0..10 {
        max_deltas.extend([0xFF, 0xFF, 0xFF, 0x7F, 60, 100]);
    }
    max_deltas.extend([0x00, 0xFF, 0x2F, 0x00]);
    let zero_tempo = [&[0x00, 0xFF, 0x51, 0x03, 0, 0, 0][..], NOTES].concat();
    vec![
        ("empty.mid", Vec::new(), "empty file"),
        (
            "text.mid",
            b"# not MIDI\nhello\n".to_vec(),
            "not a MIDI file",
        ),
        (
            "cut_header.mid",
            header(0, 1, 96)[..10].to_vec(),
            "truncated",
        ),
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
        ("absurd_deltas.mid", smf(0, 1, &[&max_deltas]), "24 h limit"),
        (
            "zero_tempo.mid",
            smf(0, 96, &[&zero_tempo]),
            "0 µs per quarter",
        ),
        ("zero_tracks.mid", header(1, 0, 96), "no tracks"),
        ("format2.mid", smf(2, 96, &[NOTES, NOTES]), "format 2"),
        (
            "bad_smpte_rate.mid",
            smf(0, 0x8060, &[NOTES]),
            "SMPTE frame rate",
        ),
    ]
}

/// -25 fps x 40 subframes: 1000 ticks a second, so the four notes last 0.8 s.
fn smpte_file() -> Vec<u8> {
    smf(0, 0xE728, &[NOTES])
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
