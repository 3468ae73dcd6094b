//! Writing Standard MIDI Files: the workspace's one SMF writer, for `--record`
//! ([`crate::sink::MidRecorder`]), the songs in `songs/`, the benchmarks' generated
//! songs and the files the tests build (good ones, or good ones they then damage).
//!
//! A [`Track`] is a list of events `delta` ticks apart, each given as the bytes of one
//! MIDI message as it travels on the wire ([`Track::message`]) or as a meta event
//! ([`Track::meta`]); an [`Smf`] puts tracks under a header. The bytes are what
//! midly's writer produces for the same events (running status for channel messages,
//! cancelled by any other event), so files written before this module existed, such
//! as the committed songs, are reproduced byte for byte.

use std::io;
use std::path::Path;

/// Meta event types this workspace writes (the byte after `FF`).
pub mod meta {
    pub const TEXT: u8 = 0x01;
    pub const COPYRIGHT: u8 = 0x02;
    pub const TRACK_NAME: u8 = 0x03;
    pub const END_OF_TRACK: u8 = 0x2F;
    pub const TEMPO: u8 = 0x51;
    pub const TIME_SIGNATURE: u8 = 0x58;
}

/// The largest delta one variable-length quantity can hold (28 bits).
pub const MAX_DELTA: u64 = 0x0FFF_FFFF;

/// How the tracks of a file relate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Format 0: one track holding everything.
    Single,
    /// Format 1: tracks played together, tempo in the first.
    Parallel,
    /// Format 2: independent sequences (which kmidi's loader refuses).
    Sequential,
}

impl Format {
    fn word(self) -> u16 {
        match self {
            Format::Single => 0,
            Format::Parallel => 1,
            Format::Sequential => 2,
        }
    }
}

/// One track's events, encoded as they are added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Track {
    body: Vec<u8>,
    /// The status byte a following channel message with the same status may omit.
    running: Option<u8>,
    ticks: u64,
}

impl Track {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `bytes`, one MIDI message as sent to a synthesizer, `delta` ticks after
    /// the previous event. A channel message omits its status byte when the previous
    /// event had the same one (running status); a system exclusive message (`F0 ...
    /// F7`) is written as a SysEx event, anything else as an escape (`F7`) event.
    pub fn message(&mut self, delta: u64, bytes: &[u8]) -> &mut Self {
        self.delta(delta);
        match bytes.first() {
            Some(&status @ 0x80..=0xEF) => {
                if self.running != Some(status) {
                    self.body.push(status);
                    self.running = Some(status);
                }
                self.body.extend_from_slice(&bytes[1..]);
            }
            Some(0xF0) => self.prefixed(0xF0, &bytes[1..]),
            _ => self.prefixed(0xF7, bytes),
        }
        self
    }

    /// Appends meta event `kind` (see [`meta`]) carrying `data`, `delta` ticks after
    /// the previous event.
    pub fn meta(&mut self, delta: u64, kind: u8, data: &[u8]) -> &mut Self {
        self.delta(delta);
        self.body.extend([0xFF, kind]);
        self.prefixed_data(data);
        self.running = None;
        self
    }

    /// Appends a tempo change to `micros_per_quarter` µs per quarter note.
    ///
    /// # Panics
    ///
    /// If `micros_per_quarter` does not fit the event's 24 bits.
    pub fn tempo(&mut self, delta: u64, micros_per_quarter: u32) -> &mut Self {
        assert!(
            micros_per_quarter < 1 << 24,
            "a tempo is 24 bits: {micros_per_quarter}"
        );
        self.meta(delta, meta::TEMPO, &micros_per_quarter.to_be_bytes()[1..])
    }

    /// Appends the end-of-track event, at the time of the previous event.
    pub fn end(&mut self) -> &mut Self {
        self.meta(0, meta::END_OF_TRACK, &[])
    }

    /// Appends `bytes` exactly as given, no delta added: for tests that need an
    /// encoding no message can produce (an undefined status byte, say). The next
    /// channel message writes its status byte again.
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.body.extend_from_slice(bytes);
        self.running = None;
        self
    }

    /// The time of the last event, in ticks from the track's start.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// The track chunk's contents so far.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Writes a delta. One wider than a variable-length quantity can hold (about
    /// 89 minutes at 20 µs a tick) is bridged with empty text events, which every
    /// reader skips.
    fn delta(&mut self, mut delta: u64) {
        self.ticks += delta;
        while delta > MAX_DELTA {
            write_varlen(&mut self.body, MAX_DELTA);
            self.body.extend([0xFF, meta::TEXT, 0x00]);
            self.running = None;
            delta -= MAX_DELTA;
        }
        write_varlen(&mut self.body, delta);
    }

    /// `prefix`, then `data` with its length before it; cancels running status.
    fn prefixed(&mut self, prefix: u8, data: &[u8]) {
        self.body.push(prefix);
        self.prefixed_data(data);
        self.running = None;
    }

    fn prefixed_data(&mut self, data: &[u8]) {
        write_varlen(&mut self.body, data.len() as u64);
        self.body.extend_from_slice(data);
    }
}

/// A whole file: a header and its tracks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smf {
    format: Format,
    division: u16,
    tracks: Vec<Track>,
}

impl Smf {
    /// A file timed in `ticks_per_quarter` ticks per quarter note, written as given
    /// (0 included: checking it is the loader's job).
    ///
    /// # Panics
    ///
    /// If `ticks_per_quarter` needs the top bit, which marks SMPTE timing.
    pub fn new(format: Format, ticks_per_quarter: u16) -> Self {
        assert!(
            ticks_per_quarter < 0x8000,
            "ticks per quarter are 15 bits: {ticks_per_quarter}"
        );
        Smf {
            format,
            division: ticks_per_quarter,
            tracks: Vec::new(),
        }
    }

    /// A file timed in SMPTE frames: `frames_per_second` (24, 25, 29 for 29.97 or 30,
    /// written as given) of `ticks_per_frame` ticks each, whatever the tempo events say.
    pub fn smpte(format: Format, frames_per_second: u8, ticks_per_frame: u8) -> Self {
        let rate = (frames_per_second as i8).wrapping_neg() as u8;
        Smf {
            format,
            division: u16::from_be_bytes([rate, ticks_per_frame]),
            tracks: Vec::new(),
        }
    }

    /// Adds `track` after the others.
    pub fn push(&mut self, track: Track) -> &mut Self {
        self.tracks.push(track);
        self
    }

    /// A file of `tracks`.
    pub fn with_tracks(mut self, tracks: impl IntoIterator<Item = Track>) -> Self {
        self.tracks.extend(tracks);
        self
    }

    /// The file's bytes. Fails (`InvalidInput`) only when a count does not fit its
    /// field: more than 65 535 tracks, or a track over 4 GiB.
    pub fn to_bytes(&self) -> io::Result<Vec<u8>> {
        let too_big = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
        let count = u16::try_from(self.tracks.len())
            .map_err(|_| too_big(format!("{} tracks (at most 65535)", self.tracks.len())))?;
        let size: usize = self.tracks.iter().map(|t| 8 + t.body.len()).sum();
        let mut out = Vec::with_capacity(14 + size);
        out.extend(b"MThd\0\0\0\x06");
        for word in [self.format.word(), count, self.division] {
            out.extend(word.to_be_bytes());
        }
        for (i, track) in self.tracks.iter().enumerate() {
            let len = u32::try_from(track.body.len()).map_err(|_| {
                too_big(format!(
                    "track {} is {} bytes (at most 4 GiB)",
                    i + 1,
                    track.body.len()
                ))
            })?;
            out.extend(b"MTrk");
            out.extend(len.to_be_bytes());
            out.extend_from_slice(&track.body);
        }
        Ok(out)
    }

    /// Writes the file to `path`.
    pub fn write(&self, path: impl AsRef<Path>) -> io::Result<()> {
        std::fs::write(path, self.to_bytes()?)
    }
}

/// `value` as a MIDI variable-length quantity: 7 bits a byte, most significant first,
/// every byte but the last with its top bit set.
fn write_varlen(out: &mut Vec<u8>, value: u64) {
    let mut groups = [0u8; 10];
    let mut n = 0;
    let mut v = value;
    loop {
        groups[n] = (v & 0x7F) as u8;
        n += 1;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        out.push(groups[i] | if i > 0 { 0x80 } else { 0 });
    }
}

#[cfg(test)]
mod tests;
