//! Recording what the instrument played, at the times it actually arrived, to a
//! Standard MIDI File, and reading such a recording back.
//!
//! The file is format 0 with one track. Time is fixed: [`RECORD_PPQ`] ticks per
//! quarter at a constant [`RECORD_TEMPO`] (120 BPM, so any sequencer shows a
//! normal tempo) makes one tick exactly [`TICK_MICROS`] µs — finer than one
//! sample at 44.1 kHz, so the recording keeps the jitter the ear would hear.

use std::path::{Path, PathBuf};
use std::time::Duration;

use midly::{live::LiveEvent, Timing, TrackEventKind};

use super::{check_parent_dir, parse_message, Sink, SinkError};
use crate::smf::{Format, Smf, Track};

/// Ticks per quarter note in recordings.
pub const RECORD_PPQ: u16 = 25_000;
/// Tempo of recordings, µs per quarter note (120 BPM).
pub const RECORD_TEMPO: u32 = 500_000;
/// Length of one tick in recordings, µs.
pub const TICK_MICROS: u64 = (RECORD_TEMPO / RECORD_PPQ as u32) as u64;

/// Collects what was played and writes it as a `.mid` file at [`Sink::finish`].
pub struct MidRecorder {
    path: PathBuf,
    events: Vec<(Duration, Vec<u8>)>,
}

impl MidRecorder {
    /// A recorder that will write `path` when finished. Nothing is touched until
    /// then; use [`MidRecorder::open`] to find out at once that the directory is missing.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        MidRecorder {
            path: path.into(),
            events: Vec::new(),
        }
    }

    /// Like [`MidRecorder::new`], but fails now if the file's directory does not exist.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, SinkError> {
        let recorder = Self::new(path);
        check_parent_dir(&recorder.path)?;
        Ok(recorder)
    }

    /// Where the recording goes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many messages have been recorded so far.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True if nothing has been recorded yet.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    fn write(&self) -> Result<(), SinkError> {
        check_parent_dir(&self.path)?;
        let mut timed: Vec<&(Duration, Vec<u8>)> = self.events.iter().collect();
        // Arrivals from one consumer are in order, but a sink may be fed from several
        // threads; a stable sort keeps same-instant messages in arrival order.
        timed.sort_by_key(|(at, _)| *at);

        let mut track = Track::new();
        track.tempo(0, RECORD_TEMPO);
        // Every message was checked by `send`, the only way in.
        for (at, bytes) in timed {
            let tick = to_ticks(*at);
            track.message(tick - track.ticks(), bytes);
        }
        track.end();
        Smf::new(Format::Single, RECORD_PPQ)
            .with_tracks([track])
            .write(&self.path)
            .map_err(|source| SinkError::Io {
                action: "write recording",
                path: self.path.clone(),
                source,
            })
    }
}

impl Sink for MidRecorder {
    fn send(&mut self, bytes: &[u8], at: Duration) -> Result<(), SinkError> {
        // Checked now so a bad message is reported while the caller can still count it,
        // instead of failing the whole file at the end.
        parse_message(bytes)?;
        self.events.push((at, bytes.to_vec()));
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        self.write()?;
        tracing::info!(path = %self.path.display(), messages = self.events.len(), "wrote recording");
        Ok(())
    }

    fn describe(&self) -> String {
        format!("recording to {}", self.path.display())
    }
}

fn to_ticks(at: Duration) -> u64 {
    // Rounded, not truncated, so a read-back time is within half a tick.
    let micros = at.as_micros();
    let ticks = (micros + u128::from(TICK_MICROS / 2)) / u128::from(TICK_MICROS);
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

/// Reads a recording (or any SMF) back as `(time, raw MIDI bytes)` in file order,
/// using the recording's fixed tick length; meta events are skipped. Meant for
/// files written by [`MidRecorder`]: tempo changes in other files are not followed.
pub fn read_recording(path: impl AsRef<Path>) -> Result<Vec<(Duration, Vec<u8>)>, SinkError> {
    let path = path.as_ref();
    let data = std::fs::read(path).map_err(|source| SinkError::Io {
        action: "read recording",
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |reason: String| SinkError::BadFile {
        path: path.to_path_buf(),
        kind: "MIDI recording",
        reason,
    };
    let smf = midly::Smf::parse(&data).map_err(|e| bad(e.to_string()))?;
    let tick_micros = match smf.header.timing {
        Timing::Metrical(ppq) if ppq.as_int() > 0 => {
            f64::from(RECORD_TEMPO) / f64::from(ppq.as_int())
        }
        other => return Err(bad(format!("unsupported timing {other:?}"))),
    };
    let mut out = Vec::new();
    for track in &smf.tracks {
        let mut tick = 0u64;
        for event in track {
            tick += u64::from(event.delta.as_int());
            let bytes = match event.kind {
                TrackEventKind::Meta(_) => continue,
                TrackEventKind::Escape(raw) => raw.to_vec(),
                TrackEventKind::SysEx(data) => {
                    let mut v = Vec::with_capacity(data.len() + 1);
                    v.push(0xF0);
                    v.extend_from_slice(data);
                    v
                }
                TrackEventKind::Midi { channel, message } => {
                    let mut v = Vec::with_capacity(3);
                    LiveEvent::Midi { channel, message }
                        .write_std(&mut v)
                        .map_err(|e| bad(e.to_string()))?;
                    v
                }
            };
            let at = Duration::from_secs_f64(tick as f64 * tick_micros / 1e6);
            out.push((at, bytes));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tick_is_twenty_microseconds() {
        assert_eq!(TICK_MICROS, 20);
        assert_eq!(u64::from(RECORD_TEMPO), TICK_MICROS * u64::from(RECORD_PPQ));
    }

    #[test]
    fn times_round_to_the_nearest_tick() {
        assert_eq!(to_ticks(Duration::from_micros(0)), 0);
        assert_eq!(to_ticks(Duration::from_micros(9)), 0);
        assert_eq!(to_ticks(Duration::from_micros(10)), 1);
        assert_eq!(to_ticks(Duration::from_secs(1)), 50_000);
    }

    #[test]
    fn invalid_bytes_are_refused_and_not_recorded() {
        let mut rec = MidRecorder::new("unused.mid");
        assert!(rec.send(&[0x90, 0x3C], Duration::ZERO).is_err());
        assert!(rec.is_empty());
        assert!(rec.send(&[0x90, 0x3C, 0x40], Duration::ZERO).is_ok());
        assert_eq!(rec.len(), 1);
    }
}
