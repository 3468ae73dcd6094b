//! The committed songs in `songs/` load, have the musical properties the demos rely on,
//! and are exactly what `kmidi_make_songs` generates.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use kmidi_make_songs as songs;
use kmidi_midi::score::{expand_inputs, Score};
use midly::{Format, MetaMessage, Smf, TrackEventKind};

fn songs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../songs")
}

fn load(name: &str) -> Score {
    let path = songs_dir().join(name);
    Score::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn format_of(name: &str) -> Format {
    let bytes = std::fs::read(songs_dir().join(name)).unwrap();
    Smf::parse(&bytes).unwrap().header.format
}

fn onsets(score: &Score) -> Vec<Duration> {
    score
        .events
        .iter()
        .filter(|e| e.message.is_note_on_sounding())
        .map(|e| e.at)
        .collect()
}

#[test]
fn every_file_in_songs_loads_and_has_a_reasonable_length() {
    let files = expand_inputs(songs_dir().to_str().unwrap()).unwrap();
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        let score = Score::load(&file).unwrap_or_else(|e| panic!("{e}"));
        let secs = score.duration().as_secs_f64();
        assert!((10.0..=40.0).contains(&secs), "{}: {secs} s", score.name);
        assert!(score.events.iter().any(|e| e.message.is_note_on_sounding()));
    }
}

#[test]
fn ode_to_joy_is_format_0_and_never_sounds_two_notes_at_once() {
    assert_eq!(format_of("ode_to_joy.mid"), Format::SingleTrack);
    let score = load("ode_to_joy.mid");
    let mut sounding: HashSet<(u8, u8)> = HashSet::new();
    for e in &score.events {
        let (Some(note), ch) = (e.message.note(), e.message.channel()) else {
            continue;
        };
        if e.message.is_note_on_sounding() {
            assert!(
                sounding.is_empty(),
                "{note} starts at {:?} over {sounding:?}",
                e.at
            );
            sounding.insert((ch, note));
        } else if e.message.is_note() {
            sounding.remove(&(ch, note));
        }
    }
    assert!(sounding.is_empty(), "left sounding: {sounding:?}");
    let secs = score.duration().as_secs_f64();
    assert!((15.0..=20.0).contains(&secs), "{secs} s");
}

#[test]
fn bach_prelude_is_two_hands_on_channels_0_and_1_with_sustain_pedal() {
    assert_eq!(format_of("bach_prelude_c.mid"), Format::Parallel);
    let score = load("bach_prelude_c.mid");
    let note_channels: BTreeSet<u8> = score
        .events
        .iter()
        .filter(|e| e.message.is_note())
        .map(|e| e.message.channel())
        .collect();
    assert_eq!(note_channels, BTreeSet::from([0, 1]));
    let pedal: Vec<(u8, u8)> = score
        .events
        .iter()
        .filter_map(|e| match e.message.control() {
            Some((64, value)) => Some((e.message.channel(), value)),
            _ => None,
        })
        .collect();
    for ch in [0, 1] {
        assert!(pedal.contains(&(ch, 127)), "no pedal down on channel {ch}");
        assert!(pedal.contains(&(ch, 0)), "no pedal up on channel {ch}");
    }
    let programs: Vec<String> = score
        .events
        .iter()
        .filter(|e| e.message.kind() == "program_change")
        .map(|e| e.message.hex())
        .collect();
    assert_eq!(
        programs,
        ["C0 00", "C1 00"],
        "both hands on acoustic grand piano"
    );
    let secs = score.duration().as_secs_f64();
    assert!((25.0..=35.0).contains(&secs), "{secs} s");
}

#[test]
fn tempo_change_song_speeds_up_then_slows_down() {
    let bytes = std::fs::read(songs_dir().join("tempo_change.mid")).unwrap();
    let smf = Smf::parse(&bytes).unwrap();
    let tempos: BTreeSet<u32> = smf
        .tracks
        .iter()
        .flatten()
        .filter_map(|ev| match ev.kind {
            TrackEventKind::Meta(MetaMessage::Tempo(us)) => Some(us.as_int()),
            _ => None,
        })
        .collect();
    assert!(tempos.len() >= 2, "{tempos:?}");

    // The tune is played twice: the same first interval (a quarter note) must be shorter
    // the second time, and the final interval longer than the fast one (ritardando).
    let score = load("tempo_change.mid");
    let on = onsets(&score);
    assert_eq!(on.len() % 2, 0);
    let second = on.len() / 2;
    let first_gap = on[1] - on[0];
    let fast_gap = on[second + 1] - on[second];
    let last_gap = on[on.len() - 1] - on[on.len() - 2];
    assert!(fast_gap < first_gap, "{fast_gap:?} !< {first_gap:?}");
    assert!(
        last_gap > fast_gap * 2,
        "no ritardando: {last_gap:?} vs {fast_gap:?}"
    );
    let secs = score.duration().as_secs_f64();
    assert!((15.0..=25.0).contains(&secs), "{secs} s");
}

#[test]
fn committed_songs_are_byte_identical_to_a_fresh_generation() {
    let dir = tempfile::tempdir().unwrap();
    let written = songs::write_all(dir.path()).unwrap();
    assert_eq!(written.len(), 3);
    for path in written {
        let name = path.file_name().unwrap();
        let fresh = std::fs::read(&path).unwrap();
        let committed = std::fs::read(songs_dir().join(name)).unwrap_or_default();
        assert!(
            fresh == committed,
            "songs/{} differs from the generator; run `cargo run -p kmidi-make-songs -- songs/`",
            name.to_string_lossy()
        );
    }
}

#[test]
fn readme_names_every_song() {
    let readme = std::fs::read_to_string(songs_dir().join("README.md")).unwrap();
    for song in songs::all().unwrap() {
        assert!(
            readme.contains(song.file_name),
            "README misses {}",
            song.file_name
        );
    }
    assert!(readme.to_lowercase().contains("public domain"));
}
