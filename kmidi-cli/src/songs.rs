//! Songs: the MIDI files bundled into the binary (so `kmidi demo` needs nothing else),
//! and loading the user's `-m` arguments, where a bad file is reported and skipped
//! while the good ones still play.

use std::path::Path;

use anyhow::{bail, Result};
use kmidi_midi::score::{expand_inputs, Score};

/// The project's own songs (see songs/README.md), compiled in.
pub const BUNDLED: &[(&str, &[u8])] = &[
    (
        "ode_to_joy.mid",
        include_bytes!("../../songs/ode_to_joy.mid"),
    ),
    (
        "bach_prelude_c.mid",
        include_bytes!("../../songs/bach_prelude_c.mid"),
    ),
    (
        "tempo_change.mid",
        include_bytes!("../../songs/tempo_change.mid"),
    ),
];

/// A bundled song by file name, or else a MIDI file on disk.
pub fn bundled_or_file(name: &str) -> Result<Score> {
    if let Some((n, bytes)) = BUNDLED.iter().find(|(n, _)| *n == name) {
        return Ok(Score::parse(n, Path::new(n), bytes)?);
    }
    if Path::new(name).exists() {
        return Ok(Score::load(Path::new(name))?);
    }
    let names: Vec<&str> = BUNDLED.iter().map(|(n, _)| *n).collect();
    bail!(
        "no bundled song or file named {name:?}; bundled songs: {}",
        names.join(", ")
    )
}

/// Loads every file the specs name (a bundled song's name, with no file of that name
/// here, is that song). Each bad file or spec is reported on exactly one
/// line naming it: as a warning when other files still play, or else as one line of the
/// error (which lists them all rather than repeating the warnings).
pub fn load_all(specs: &[String], notes_only: bool) -> Result<Vec<Score>> {
    let mut scores = Vec::new();
    let mut problems = Vec::new();
    for spec in specs {
        // A bundled song by name, as compare and demo take it, unless a file is there.
        if let Some((n, bytes)) = BUNDLED.iter().find(|(n, _)| n == spec) {
            if !Path::new(spec).exists() {
                match Score::parse(n, Path::new(n), bytes) {
                    Ok(score) if notes_only => scores.push(score.notes_only()),
                    Ok(score) => scores.push(score),
                    Err(err) => problems.push(err.to_string()),
                }
                continue;
            }
        }
        match expand_inputs(spec) {
            Ok(paths) => {
                for path in paths {
                    match Score::load(&path) {
                        Ok(score) if notes_only => scores.push(score.notes_only()),
                        Ok(score) => scores.push(score),
                        Err(err) => problems.push(err.to_string()),
                    }
                }
            }
            Err(err) => problems.push(err.to_string()),
        }
    }
    if scores.is_empty() {
        bail!(
            "nothing to play: {}",
            match problems.as_slice() {
                [] => "no MIDI files given".to_string(),
                [one] => one.clone(),
                many => format!(
                    "none of {} inputs can be played:\n  {}",
                    many.len(),
                    many.join("\n  ")
                ),
            }
        );
    }
    for problem in &problems {
        tracing::warn!("skipped: {problem}");
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_song_parses() {
        for (name, _) in BUNDLED {
            let score = bundled_or_file(name).unwrap();
            assert!(!score.events.is_empty(), "{name}");
        }
    }

    #[test]
    fn the_player_takes_a_bundled_song_by_name_as_compare_does() {
        // The tests run in the crate's directory, where no file has the song's name.
        let scores = load_all(&["bach_prelude_c.mid".to_string()], false).unwrap();
        assert_eq!(scores.len(), 1);
        assert_eq!(scores[0].name, "bach_prelude_c.mid");
        let err = load_all(&["no_such_song.mid".to_string()], false).unwrap_err();
        assert!(err.to_string().contains("no_such_song.mid"), "{err}");
    }

    #[test]
    fn good_files_still_play_when_one_is_broken() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.mid"), b"not midi at all").unwrap();
        std::fs::write(dir.path().join("good.mid"), BUNDLED[0].1).unwrap();
        let scores = load_all(&[dir.path().display().to_string()], false).unwrap();
        assert_eq!(scores.len(), 1);
        assert_eq!(scores[0].name, "good.mid");
    }

    #[test]
    fn nothing_playable_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.mid");
        std::fs::write(&bad, b"").unwrap();
        let err = load_all(&[bad.display().to_string()], false).unwrap_err();
        assert!(err.to_string().contains("bad.mid"), "{err}");
    }

    #[test]
    fn when_nothing_plays_each_bad_file_is_named_on_one_line_of_the_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("one.mid"), b"").unwrap();
        std::fs::write(dir.path().join("two.mid"), b"text").unwrap();
        let err = load_all(&[dir.path().display().to_string()], false)
            .unwrap_err()
            .to_string();
        for name in ["one.mid", "two.mid"] {
            let lines = err.lines().filter(|l| l.contains(name)).count();
            assert_eq!(lines, 1, "{name} in: {err}");
        }
    }
}
