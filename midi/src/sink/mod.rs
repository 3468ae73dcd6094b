//! Output sinks: where the instrument sends the MIDI bytes it plays. Owns the
//! [`Sink`] trait, the shared [`SinkError`], and the check every sink applies to
//! incoming bytes; the concrete sinks live in [`port`] (a live MIDI port),
//! [`record`] (a `.mid` recording) and [`render`] (an offline `.wav` rendering), and
//! with the `jack` feature [`jack`] (a JACK output that keeps arrival times inside a
//! period).
//!
//! Sinks take raw MIDI bytes rather than a parsed message type so that they work
//! with whatever arrived over the wire, including messages from the original
//! Python player.

use std::path::{Path, PathBuf};
use std::time::Duration;

use midly::live::LiveEvent;

mod bank;
#[cfg(feature = "jack")]
pub mod jack;
pub mod mix;
pub mod port;
pub mod record;
pub mod render;
pub mod voices;

pub use mix::{SharedSinks, Side, SideSink};
pub use port::{list_output_ports, PortSink};
pub use record::{read_recording, MidRecorder};
pub use render::{find_soundfont, wav_peak, wav_read_error, wav_summary, WavRenderer, WavSummary};
pub use voices::{BrokerVoice, BrokerVoices, Revoicer};

/// The live port `kmidi` plays to: on a JACK build the timestamped [`jack::JackSink`],
/// elsewhere midir's [`PortSink`].
pub fn open_port(name_substring: &str) -> Result<Box<dyn Sink>, SinkError> {
    #[cfg(feature = "jack")]
    return Ok(Box::new(jack::JackSink::open(name_substring)?));
    #[cfg(not(feature = "jack"))]
    return Ok(Box::new(PortSink::open(name_substring)?));
}

/// Why a sink could not do its job. Each message says what failed and what would fix it.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The OS MIDI system (ALSA sequencer or JACK server) could not be opened at all.
    #[error("{}", no_midi_system_help())]
    NoMidiSystem,

    /// No output port name contains the requested substring.
    #[error("no MIDI output port matches '{wanted}'; {}", describe_ports(.available))]
    NoMatchingPort {
        wanted: String,
        available: Vec<String>,
    },

    /// The port exists but kmidi could not connect to it.
    #[error("cannot connect to MIDI port '{port}': {reason}; check that the synthesizer is still running, or pick another port (`kmidi ports` lists them)")]
    Connect { port: String, reason: String },

    /// The MIDI system refused a message.
    #[error("cannot send {} to MIDI port '{port}': {reason}", hex(.bytes))]
    Send {
        port: String,
        bytes: Vec<u8>,
        reason: String,
    },

    /// The bytes are not one complete MIDI message; the caller should count and skip it.
    #[error("not a complete MIDI message: [{}] ({reason}); skip it", hex(.bytes))]
    InvalidMessage { bytes: Vec<u8>, reason: String },

    /// An output file cannot be written because its directory does not exist.
    #[error("cannot write {}: directory {} does not exist; create it or choose another path", .path.display(), .dir.display())]
    MissingDirectory { path: PathBuf, dir: PathBuf },

    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file exists but its contents are not what was expected.
    #[error("{} is not a valid {kind}: {reason}", .path.display())]
    BadFile {
        path: PathBuf,
        kind: &'static str,
        reason: String,
    },

    /// No SoundFont was given and none was found in the usual places.
    #[error("no SoundFont (.sf2) found; set KMIDI_SOUNDFONT=/path/to/font.sf2 or install one (Debian: `apt install timgm6mb-soundfont` or `fluid-soundfont-gm`)")]
    NoSoundFont,
}

/// Where played MIDI goes. `at` = time since the instrument started playing (real arrival time).
pub trait Sink: Send {
    /// Plays (or stores) one complete MIDI message. An error about the message itself
    /// ([`SinkError::InvalidMessage`]) leaves the sink usable.
    fn send(&mut self, bytes: &[u8], at: Duration) -> Result<(), SinkError>;
    /// Called once at the end (also on Ctrl-C): write files, close ports.
    fn finish(&mut self) -> Result<(), SinkError>;
    /// What this sink is, for the terminal: e.g. "port 'FLUID Synth (123):Synth input
    /// port (123:0)'", "recording to out.mid".
    fn describe(&self) -> String;
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn send(&mut self, bytes: &[u8], at: Duration) -> Result<(), SinkError> {
        (**self).send(bytes, at)
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        (**self).finish()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Parses `bytes` as exactly one MIDI message.
///
/// midly's parser stops at the first byte that is not a data byte and ignores the
/// rest, so a message is only accepted if it re-encodes to the very same bytes:
/// otherwise a corrupt payload could reach a synthesizer half-read.
pub(crate) fn parse_message(bytes: &[u8]) -> Result<LiveEvent<'_>, SinkError> {
    let invalid = |reason: String| SinkError::InvalidMessage {
        bytes: bytes.to_vec(),
        reason,
    };
    let event = LiveEvent::parse(bytes).map_err(|e| invalid(e.to_string()))?;
    let mut again = Vec::with_capacity(bytes.len());
    event
        .write_std(&mut again)
        .map_err(|e| invalid(e.to_string()))?;
    if again != bytes {
        return Err(invalid(format!(
            "only the first {} byte(s) form a message",
            again.len()
        )));
    }
    Ok(event)
}

/// Fails early, naming the path, if `path` could never be created because its
/// directory is missing; a long run should not end in a lost file.
pub(crate) fn check_parent_dir(path: &Path) -> Result<(), SinkError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => return Ok(()),
    };
    if dir.is_dir() {
        Ok(())
    } else {
        Err(SinkError::MissingDirectory {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
        })
    }
}

/// Upper-case hex pairs separated by spaces, as mido prints them (`90 3C 40`).
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{b:02X}"));
    }
    out
}

fn describe_ports(ports: &[String]) -> String {
    if ports.is_empty() {
        "there are no MIDI output ports at all: start a synthesizer first (e.g. FluidSynth), or use --record FILE.mid / --render FILE.wav".to_string()
    } else {
        format!("the ports are: {}", ports.join(", "))
    }
}

#[cfg(not(feature = "jack"))]
fn no_midi_system_help() -> String {
    let why = if Path::new("/dev/snd/seq").exists() {
        "the ALSA sequencer (/dev/snd/seq) could not be opened (permissions? the user may need to be in group 'audio')"
    } else {
        "the ALSA sequencer is not available (/dev/snd/seq is missing: no sound hardware, or the snd-seq kernel module is not loaded: `sudo modprobe snd-seq`)"
    };
    format!(
        "cannot open the MIDI system: {why}. To hear the music, start FluidSynth so it offers a port \
         (`fluidsynth -a alsa -m alsa_seq -s -i FONT.sf2`), or on a machine without ALSA MIDI run jackd \
         and FluidSynth on JACK with a kmidi built with `--features jack`; to play headless, use \
         --record FILE.mid or --render FILE.wav instead"
    )
}

#[cfg(feature = "jack")]
fn no_midi_system_help() -> String {
    "cannot open the MIDI system: the JACK server is not running (this kmidi is built with --features jack). \
     Start one (headless: `jackd --no-realtime -d dummy -r 44100 &`) and FluidSynth on it \
     (`fluidsynth -a jack -m jack -s -i FONT.sf2`), or to play headless use \
     --record FILE.mid or --render FILE.wav instead"
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_complete_channel_and_sysex_messages() {
        assert!(parse_message(&[0x90, 0x3C, 0x40]).is_ok());
        assert!(parse_message(&[0xC5, 0x10]).is_ok());
        assert!(parse_message(&[0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7]).is_ok());
        assert!(parse_message(&[0xF8]).is_ok());
    }

    #[test]
    fn parse_rejects_empty_truncated_statusless_and_overlong_bytes() {
        for bad in [
            &[][..],
            &[0x90, 0x3C][..],
            &[0x3C, 0x40][..],
            &[0x90, 0x3C, 0x40, 0x80][..],
            &[0x90, 0x3C, 0x40, 0x41][..],
        ] {
            match parse_message(bad) {
                Err(SinkError::InvalidMessage { bytes, .. }) => assert_eq!(bytes, bad),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn hex_matches_mido_style() {
        assert_eq!(hex(&[0x90, 0x3C, 0x0A]), "90 3C 0A");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn missing_port_error_lists_ports_or_says_there_are_none() {
        let none = SinkError::NoMatchingPort {
            wanted: "fluid".into(),
            available: vec![],
        }
        .to_string();
        assert!(none.contains("no MIDI output ports at all"), "{none}");
        let some = SinkError::NoMatchingPort {
            wanted: "fluid".into(),
            available: vec!["Midi Through:Port-0 14:0".into(), "Other:x".into()],
        }
        .to_string();
        assert!(some.contains("'fluid'") && some.contains("Midi Through:Port-0 14:0, Other:x"));
    }

    #[test]
    fn missing_parent_directory_is_reported_with_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nope").join("out.mid");
        let err = check_parent_dir(&path).expect_err("missing dir must fail");
        let text = err.to_string();
        assert!(
            text.contains("out.mid") && text.contains("does not exist"),
            "{text}"
        );
        assert!(check_parent_dir(&dir.path().join("ok.mid")).is_ok());
        assert!(check_parent_dir(Path::new("relative.mid")).is_ok());
    }
}
