//! Turning a command-line input spec (a file, a directory or a glob pattern) into the
//! list of MIDI files to load, with an error naming the spec when nothing matches.

use std::path::{Path, PathBuf};

use crate::framing::LoadError;

/// The files an input spec names: a file as is; a directory's `*.mid`/`*.midi` files
/// (sorted, not recursive); or a glob pattern's matching files (sorted).
pub fn expand_inputs(spec: &str) -> Result<Vec<PathBuf>, LoadError> {
    let path = Path::new(spec);
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    if path.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|source| LoadError::Io {
            file: spec.to_owned(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && has_midi_extension(p))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(LoadError::EmptyDirectory {
                dir: spec.to_owned(),
            });
        }
        return Ok(files);
    }
    if !spec.contains(['*', '?', '[']) {
        return Err(LoadError::NotFound {
            spec: spec.to_owned(),
        });
    }
    let paths = glob::glob(spec).map_err(|e| LoadError::BadPattern {
        pattern: spec.to_owned(),
        detail: e.to_string(),
    })?;
    let mut files = Vec::new();
    for entry in paths {
        match entry {
            Ok(p) if p.is_file() => files.push(p),
            Ok(_) => {}
            Err(e) => tracing::warn!(pattern = spec, error = %e, "skipping unreadable path"),
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(LoadError::NoMatch {
            pattern: spec.to_owned(),
        });
    }
    Ok(files)
}

fn has_midi_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midi_extension_match_ignores_case() {
        assert!(has_midi_extension(Path::new("a/B.MID")));
        assert!(has_midi_extension(Path::new("b.midi")));
        assert!(!has_midi_extension(Path::new("c.wav")));
        assert!(!has_midi_extension(Path::new("mid")));
    }
}
