//! The byte-level checks a Standard MIDI File gets before midly parses it: chunk
//! framing that midly's lenient mode would paper over (a chunk running past the end,
//! missing tracks, a track cut short mid-song), and header fields midly itself cannot
//! survive (an SMPTE frame rate of 0x80 makes it negate with overflow). Only chunk ids,
//! lengths and header fields are read; everything inside chunks is left to midly.
//!
//! [`LoadError`], every reason a file or input spec cannot be played, is defined here
//! rather than in `score`, which parses what these checks let through and re-exports
//! it: the checks refuse files first, so `score` depends on this module, not the other
//! way round.

use std::io;

/// Why a file or input spec cannot be played. Every message names the file (or the spec).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: io::Error,
    },
    #[error("{file}: empty file (0 bytes), not a MIDI file")]
    Empty { file: String },
    #[error("{file}: not a MIDI file (no MThd header)")]
    NotMidi { file: String },
    #[error(
        "{file}: truncated: {detail}; the file was probably cut short while copying or downloading"
    )]
    Truncated { file: String, detail: String },
    #[error("{file}: malformed MIDI data: {detail}")]
    Malformed { file: String, detail: String },
    #[error(
        "{file}: format 2 (independent sequences) is not supported; convert it to format 0 or 1"
    )]
    Format2 { file: String },
    #[error("{file}: contains no tracks")]
    NoTracks { file: String },
    #[error("{file}: invalid time division: {detail}")]
    BadDivision { file: String, detail: String },
    #[error("{file}: no channel messages to play (only meta or system events)")]
    NoChannelMessages { file: String },
    #[error("{file}: would play for {hours:.1} h, more than the 24 h limit; its delta times or tempo are probably corrupt")]
    TooLong { file: String, hours: f64 },
    #[error(
        "{file}: more than {max} events; probably corrupt or generated, not a song kmidi can play"
    )]
    TooManyEvents { file: String, max: usize },
    #[error("{file}: {bytes} bytes, more than the {max}-byte limit for a MIDI file")]
    TooLarge { file: String, bytes: u64, max: u64 },
    #[error("{file}: tempo event at tick {tick} sets 0 µs per quarter note, which would play everything after it at once")]
    ZeroTempo { file: String, tick: u64 },
    #[error("{spec}: no such file or directory")]
    NotFound { spec: String },
    #[error("{dir}: directory contains no .mid or .midi files")]
    EmptyDirectory { dir: String },
    #[error("{pattern}: no files match this pattern")]
    NoMatch { pattern: String },
    #[error("{pattern}: invalid glob pattern: {detail}")]
    BadPattern { pattern: String, detail: String },
}

/// A [`LoadError::Malformed`] naming the file.
pub(crate) fn malformed(file: &str, detail: impl std::fmt::Display) -> LoadError {
    LoadError::Malformed {
        file: file.to_owned(),
        detail: detail.to_string(),
    }
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Checks the chunk framing midly's lenient mode would paper over (see the module doc).
/// This reads only chunk ids and lengths; everything inside chunks is left to midly.
pub(crate) fn check_framing(file: &str, bytes: &[u8]) -> Result<(), LoadError> {
    let truncated = |detail: String| LoadError::Truncated {
        file: file.to_owned(),
        detail,
    };
    if bytes.is_empty() {
        return Err(LoadError::Empty {
            file: file.to_owned(),
        });
    }
    if bytes.starts_with(b"RIFF") {
        // RMID wrapping: midly unwraps it; framing inside is left to midly's leniency.
        return Ok(());
    }
    if bytes.len() < 4 && b"MThd".starts_with(bytes) {
        return Err(truncated(format!(
            "the file ends after {} bytes of the MThd header",
            bytes.len()
        )));
    }
    if !bytes.starts_with(b"MThd") {
        return Err(LoadError::NotMidi {
            file: file.to_owned(),
        });
    }
    let (Some(header_len), Some(&[_, _, n_hi, n_lo, ..])) = (be_u32(bytes, 4), bytes.get(8..14))
    else {
        return Err(truncated(format!(
            "the header is cut off after {} of its 14 bytes",
            bytes.len()
        )));
    };
    if header_len < 6 {
        let detail = format!("header chunk is {header_len} bytes long, at least 6 are needed");
        return Err(malformed(file, detail));
    }
    let declared = u16::from_be_bytes([n_hi, n_lo]);
    let mut pos = 8usize.saturating_add(header_len as usize);
    if pos > bytes.len() {
        return Err(truncated(format!(
            "the header chunk declares {header_len} bytes but the file is only {} bytes",
            bytes.len()
        )));
    }
    let mut found = 0u16;
    while found < declared {
        let remaining = bytes.len() - pos;
        if remaining == 0 {
            return Err(truncated(format!(
                "the header declares {declared} tracks but the file ends after {found}"
            )));
        }
        let (Some(id), Some(len)) = (bytes.get(pos..pos + 4), be_u32(bytes, pos + 4)) else {
            return Err(truncated(format!(
                "a chunk header at byte {pos} is cut off"
            )));
        };
        let available = remaining - 8;
        if len as usize > available {
            return Err(truncated(format!(
                "track {} (chunk at byte {pos}) declares {len} bytes but only {available} remain",
                found + 1
            )));
        }
        if id == b"MTrk" {
            found += 1;
            let end = pos + 8 + len as usize;
            // A missing end-of-track and bytes after a track are each tolerated, but
            // together they mean the declared length is too short: midly would end the
            // track there and play only part of it (perhaps leaving a note on).
            let after = &bytes[end..];
            let stray = !after.is_empty()
                && !after
                    .get(..4)
                    .is_some_and(|id| id.iter().all(u8::is_ascii_alphabetic))
                && after.iter().any(|&b| b != 0);
            if stray && !bytes[pos + 8..end].ends_with(&[0xFF, 0x2F, 0x00]) {
                let detail = format!(
                    "track {found} (chunk at byte {pos}) declares {len} bytes, but they do not end \
                     with an end-of-track event and the bytes after them are not a chunk: \
                     the declared length is probably too short"
                );
                return Err(malformed(file, detail));
            }
        }
        pos += 8 + len as usize;
    }
    Ok(())
}

/// The Standard MIDI File inside an RMID (RIFF) wrapper, found as midly 0.5 finds it
/// (the first `data` chunk, a chunk running past the end cut short); `None` without one.
pub(crate) fn rmid_body(bytes: &[u8]) -> Option<&[u8]> {
    let le_len = |b: &[u8]| -> Option<usize> {
        let len = u32::from_le_bytes(b.get(4..8)?.try_into().ok()?);
        usize::try_from(len).ok()
    };
    let riff = bytes.get(8..)?;
    let riff = &riff[..le_len(bytes)?.min(riff.len())];
    let mut rest = riff.strip_prefix(b"RMID")?;
    while rest.len() >= 8 {
        let (id, len) = (&rest[..4], le_len(rest)?);
        rest = &rest[8..];
        let (data, after) = rest.split_at(len.min(rest.len()));
        // RIFF pads odd-sized chunks to an even length.
        rest = if len % 2 == 1 && !after.is_empty() {
            &after[1..]
        } else {
            after
        };
        if id == b"data" {
            return Some(data);
        }
    }
    None
}

/// Refuses an SMPTE division whose frame rate is not one of the four standard ones in
/// any header chunk, before midly reads it: midly 0.5 negates the rate byte as an `i8`,
/// which overflows for 0x80 and panics in builds with overflow checks. midly reads every
/// `MThd` chunk it meets, not only the first, so all are checked, walking the chunks as
/// midly does (a chunk running past the end takes the rest of the file). Found by
/// fuzzing; see tests/regressions/err-smpte-rate-0x80*.mid.
pub(crate) fn check_smpte_rate(file: &str, smf: &[u8]) -> Result<(), LoadError> {
    let mut pos = 0usize;
    while let (Some(id), Some(len)) = (smf.get(pos..pos + 4), be_u32(smf, pos + 4)) {
        let start = pos + 8;
        let end = start.saturating_add(len as usize).min(smf.len());
        if id == b"MThd" {
            if let Some(&[rate, _]) = smf[start..end].get(4..6) {
                if rate & 0x80 != 0 && !matches!(rate as i8, -24 | -25 | -29 | -30) {
                    return Err(LoadError::BadDivision {
                        file: file.to_owned(),
                        detail: format!(
                            "header chunk at byte {pos}: SMPTE frame rate byte {rate:#04X} ({}) \
                             is not -24, -25, -29 or -30",
                            rate as i8
                        ),
                    });
                }
            }
        }
        pos = end;
    }
    Ok(())
}
