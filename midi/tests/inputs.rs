//! Turning a command-line input spec (file, directory, glob) into the files to play.

use std::path::{Path, PathBuf};

use kmidi_midi::score::{expand_inputs, LoadError};

fn touch(dir: &Path, names: &[&str]) {
    for name in names {
        std::fs::write(dir.join(name), b"x").unwrap();
    }
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_file_is_taken_as_is_whatever_its_extension() {
    let dir = tempfile::tempdir().unwrap();
    touch(dir.path(), &["song.kar"]);
    let spec = dir.path().join("song.kar");
    assert_eq!(expand_inputs(spec.to_str().unwrap()).unwrap(), [spec]);
}

#[test]
fn a_directory_gives_its_midi_files_sorted_and_not_recursively() {
    let dir = tempfile::tempdir().unwrap();
    touch(
        dir.path(),
        &["b.mid", "a.MIDI", "c.midi", "notes.txt", "d.wav"],
    );
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    touch(&dir.path().join("sub"), &["deep.mid"]);
    std::fs::create_dir(dir.path().join("folder.mid")).unwrap();
    let files = expand_inputs(dir.path().to_str().unwrap()).unwrap();
    assert_eq!(names(&files), ["a.MIDI", "b.mid", "c.midi"]);
}

#[test]
fn a_directory_without_midi_files_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    touch(dir.path(), &["readme.txt"]);
    let spec = dir.path().to_str().unwrap();
    let err = expand_inputs(spec).unwrap_err();
    assert!(matches!(err, LoadError::EmptyDirectory { .. }));
    assert_eq!(
        err.to_string(),
        format!("{spec}: directory contains no .mid or .midi files")
    );
}

#[test]
fn a_glob_gives_matching_files_sorted() {
    let dir = tempfile::tempdir().unwrap();
    touch(
        dir.path(),
        &["song2.mid", "song1.mid", "other.mid", "song3.txt"],
    );
    let spec = format!("{}/song*.mid", dir.path().display());
    assert_eq!(
        names(&expand_inputs(&spec).unwrap()),
        ["song1.mid", "song2.mid"]
    );
}

#[test]
fn a_glob_matching_nothing_is_an_error_naming_the_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let spec = format!("{}/*.mid", dir.path().display());
    let err = expand_inputs(&spec).unwrap_err();
    assert!(matches!(err, LoadError::NoMatch { .. }));
    assert_eq!(
        err.to_string(),
        format!("{spec}: no files match this pattern")
    );
}

#[test]
fn an_invalid_glob_is_reported_as_such() {
    let err = expand_inputs("songs/[.mid").unwrap_err();
    assert!(matches!(err, LoadError::BadPattern { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("songs/[.mid: invalid glob pattern"),
        "{err}"
    );
}

#[test]
fn a_missing_plain_path_is_not_found() {
    let err = expand_inputs("no/such/song.mid").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no/such/song.mid: no such file or directory"
    );
}
