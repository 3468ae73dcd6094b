//! A Standard MIDI File as a score: its channel messages in play order with their
//! absolute times. Its error, [`LoadError`], holds every "why this file cannot be
//! played" message (`inputs` turns command-line specs into files and reports through
//! the same error type).
//!
//! Parsing is midly's, in its default lenient mode, which tolerates the benign faults
//! common in files found in the wild (unknown chunks, a wrong track count, bytes after the
//! last track, a missing end-of-track). What lenient mode would hide is refused first, by
//! `framing`, because silently playing half a song would look like message loss to the
//! instrument: a chunk that runs past the end of the file (truncated), fewer tracks than
//! the header declares (truncated), and an event midly cannot decode (malformed).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use midly::live::LiveEvent;
use midly::{Format, MetaMessage, Timing, TrackEvent, TrackEventKind};

use crate::framing::{check_framing, check_smpte_rate, malformed, rmid_body};
use crate::message::ChannelMessage;
use crate::tempo::TempoMap;

// Defined with the byte-level checks, which refuse files first (see `framing`), and
// named here, where callers have always found it.
pub use crate::framing::LoadError;
// Kept here too: callers load scores and expand inputs together.
pub use crate::inputs::expand_inputs;

/// Longer than this is taken as a corrupt file rather than a song.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// More events than this (all tracks, meta events included) is taken as a corrupt or
/// machine-generated file rather than a song. Loading costs about 100 bytes of memory per
/// event (a file of 5 million 3-byte events took 0.5 GB and 1.7 s), so without a limit
/// a 100 MB file would need gigabytes; real songs have a few thousand to a few hundred
/// thousand events.
pub const MAX_EVENTS: usize = 1_000_000;

/// Files larger than this are refused before being read into memory: even at the
/// smallest encoding (2 bytes an event) `MAX_EVENTS` fits in a few megabytes.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// One channel message of a score.
#[derive(Clone, Debug)]
pub struct ScoreEvent {
    /// From song start, at speed 1.0.
    pub at: Duration,
    /// Seconds since the previous event of any kind (meta included) in the merged stream:
    /// what mido's `MidiFile` iteration gives as `msg.time`, which the wire format carries.
    pub delta: f64,
    pub message: ChannelMessage,
}

#[derive(Clone, Debug)]
pub struct Score {
    /// The file name, e.g. "ode_to_joy.mid": the Kafka key of every note of this song.
    pub name: String,
    pub path: PathBuf,
    pub events: Vec<ScoreEvent>,
}

impl Score {
    pub fn load(path: &Path) -> Result<Score, LoadError> {
        let file = || path.display().to_string();
        let io_error = |source| LoadError::Io {
            file: file(),
            source,
        };
        // Read at most one byte past the limit rather than trusting the file's size,
        // which a pipe or a growing file does not report truthfully.
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(io_error)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            let bytes = std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
            return Err(LoadError::TooLarge {
                file: file(),
                bytes,
                max: MAX_FILE_BYTES,
            });
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Self::parse(&name, path, &bytes)
    }

    /// Parses file contents; `path` is only used in messages (`name` when `path` is empty).
    pub fn parse(name: &str, path: &Path, bytes: &[u8]) -> Result<Score, LoadError> {
        let file = if path.as_os_str().is_empty() {
            name.to_owned()
        } else {
            path.display().to_string()
        };
        check_framing(&file, bytes)?;
        // midly unwraps RMID itself; an empty body lets midly say what is wrong with it.
        let smf = if bytes.starts_with(b"RIFF") {
            rmid_body(bytes).unwrap_or_default()
        } else {
            bytes
        };
        check_smpte_rate(&file, smf)?;
        let (header, track_iter) = midly::parse(bytes).map_err(|e| malformed(&file, e))?;
        if header.format == Format::Sequential {
            return Err(LoadError::Format2 { file });
        }
        check_division(&file, header.timing)?;
        let mut tracks = Vec::new();
        let mut budget = MAX_EVENTS;
        for (index, track) in track_iter.enumerate() {
            let iter = track.map_err(|e| malformed(&file, e))?;
            tracks.push(read_track(&file, index, iter, &mut budget)?);
        }
        if tracks.is_empty() {
            return Err(LoadError::NoTracks { file });
        }
        let merged = merge(&tracks);
        let mut tempo = TempoMap::new(header.timing);
        // Tempo events from any track (not only the first) set the tempo for all tracks,
        // as mido and most players do; files that misplace them still play as expected.
        for (tick, kind) in &merged {
            if let TrackEventKind::Meta(MetaMessage::Tempo(us)) = kind {
                // Only a corrupt file says this; refused rather than played as a burst.
                if us.as_int() == 0 && !tempo.is_timecode() {
                    return Err(LoadError::ZeroTempo { file, tick: *tick });
                }
                tempo.add_change(*tick, us.as_int());
            }
        }
        let events = timed_channel_messages(&file, &merged, &tempo)?;
        let Some(last) = events.last() else {
            return Err(LoadError::NoChannelMessages { file });
        };
        if last.at > MAX_DURATION {
            let hours = last.at.as_secs_f64() / 3600.0;
            return Err(LoadError::TooLong { file, hours });
        }
        Ok(Score {
            name: name.to_owned(),
            path: path.to_path_buf(),
            events,
        })
    }

    /// When the last event is due: the song's length at speed 1.0.
    pub fn duration(&self) -> Duration {
        self.events.last().map_or(Duration::ZERO, |e| e.at)
    }

    /// Only note on/off, as the Python original sent. Deltas are kept as they were (so
    /// they no longer sum to `at`), which is also what the original put on the wire.
    pub fn notes_only(&self) -> Score {
        Score {
            name: self.name.clone(),
            path: self.path.clone(),
            events: self
                .events
                .iter()
                .filter(|e| e.message.is_note())
                .cloned()
                .collect(),
        }
    }
}

fn check_division(file: &str, timing: Timing) -> Result<(), LoadError> {
    let detail = match timing {
        Timing::Metrical(tpq) if tpq.as_int() == 0 => "0 ticks per quarter note",
        Timing::Timecode(_, 0) => "SMPTE division with 0 ticks per frame",
        _ => return Ok(()),
    };
    Err(LoadError::BadDivision {
        file: file.to_owned(),
        detail: detail.to_owned(),
    })
}

/// Reads one track up to its end-of-track event, refusing an event midly cannot decode
/// (lenient midly would silently end the track there). `budget` is how many more events
/// the file may have (see `MAX_EVENTS`); checking it here stops before the memory is used.
fn read_track<'a>(
    file: &str,
    index: usize,
    mut iter: midly::EventIter<'a>,
    budget: &mut usize,
) -> Result<Vec<TrackEvent<'a>>, LoadError> {
    let total = iter.unread().len();
    let mut events = Vec::new();
    loop {
        let unread = iter.unread().len();
        match iter.next() {
            Some(Ok(ev)) => {
                *budget = budget
                    .checked_sub(1)
                    .ok_or_else(|| LoadError::TooManyEvents {
                        file: file.to_owned(),
                        max: MAX_EVENTS,
                    })?;
                let end = matches!(ev.kind, TrackEventKind::Meta(MetaMessage::EndOfTrack));
                events.push(ev);
                if end {
                    return Ok(events);
                }
            }
            Some(Err(e)) => return Err(malformed(file, e)),
            None if unread > 0 => {
                let at = total - unread;
                let detail = format!(
                    "track {}: undecodable event at byte {at} of {total}",
                    index + 1
                );
                return Err(malformed(file, detail));
            }
            None => {
                tracing::debug!(file, track = index + 1, "track has no end-of-track event");
                return Ok(events);
            }
        }
    }
}

/// All tracks in one stream at absolute ticks, ordered by tick, then track, then position
/// in the track (mido's stable sort). End-of-track events are dropped as mido drops them,
/// so they do not split the deltas of the events around them.
fn merge<'a>(tracks: &[Vec<TrackEvent<'a>>]) -> Vec<(u64, TrackEventKind<'a>)> {
    let mut merged = Vec::with_capacity(tracks.iter().map(Vec::len).sum());
    for track in tracks {
        let mut tick = 0u64;
        for ev in track {
            tick = tick.saturating_add(u64::from(ev.delta.as_int()));
            if !matches!(ev.kind, TrackEventKind::Meta(MetaMessage::EndOfTrack)) {
                merged.push((tick, ev.kind));
            }
        }
    }
    // Stable: equal ticks keep track order, then file order.
    merged.sort_by_key(|(tick, _)| *tick);
    merged
}

fn timed_channel_messages(
    file: &str,
    merged: &[(u64, TrackEventKind<'_>)],
    tempo: &TempoMap,
) -> Result<Vec<ScoreEvent>, LoadError> {
    let mut events = Vec::new();
    let mut previous = Duration::ZERO;
    for (tick, kind) in merged {
        let at = tempo.time_at(*tick);
        let delta = at.saturating_sub(previous).as_secs_f64();
        previous = at;
        let TrackEventKind::Midi { channel, message } = *kind else {
            continue;
        };
        let mut bytes = Vec::with_capacity(3);
        LiveEvent::Midi { channel, message }
            .write_std(&mut bytes)
            .map_err(|e| malformed(file, e))?;
        let message = ChannelMessage::from_bytes(&bytes).map_err(|e| malformed(file, e))?;
        events.push(ScoreEvent { at, delta, message });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file with the given header fields and raw track bodies.
    fn smf(format: u16, declared: u16, division: u16, tracks: &[&[u8]]) -> Vec<u8> {
        let mut out = b"MThd\0\0\0\x06".to_vec();
        for v in [format, declared, division] {
            out.extend(v.to_be_bytes());
        }
        for t in tracks {
            out.extend(b"MTrk");
            out.extend((t.len() as u32).to_be_bytes());
            out.extend(*t);
        }
        out
    }

    fn parse(bytes: &[u8]) -> Result<Score, LoadError> {
        Score::parse("t.mid", Path::new("dir/t.mid"), bytes)
    }

    const EOT: &[u8] = &[0x00, 0xFF, 0x2F, 0x00];

    #[test]
    fn equal_times_play_earlier_track_first_then_file_order() {
        let t1 = [&[0x00, 0x90, 60, 1, 0x00, 0x90, 61, 1][..], EOT].concat();
        let t2 = [&[0x00, 0x91, 70, 1, 0x60, 0x81, 70, 0][..], EOT].concat();
        let score = parse(&smf(1, 2, 96, &[&t2, &t1])).unwrap();
        let notes: Vec<u8> = score
            .events
            .iter()
            .filter_map(|e| e.message.note())
            .collect();
        assert_eq!(notes, [70, 60, 61, 70]);
    }
}
