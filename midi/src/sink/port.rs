//! A live MIDI output port through midir: listing the ports a synthesizer offers,
//! connecting to one by name, and sending each message the moment it arrives.
//!
//! The backend is chosen at build time: ALSA sequencer by default, JACK with the
//! crate feature `jack`. With ALSA and no `/dev/snd/seq`, kmidi does not ask alsa-lib
//! at all (it would print `ALSA lib seq_hw.c:...(snd_seq_hw_open) open /dev/snd/seq
//! failed` to stderr before kmidi's own, more useful error). With JACK and no server,
//! libjack still prints `Cannot connect to server socket` lines: harmless noise from
//! the C library.

use std::time::Duration;

use midir::{MidiOutput, MidiOutputConnection};

use super::{parse_message, Sink, SinkError};

/// Client name kmidi shows in `aconnect -l` / `jack_lsp`.
pub const CLIENT_NAME: &str = "kmidi";
/// Name of the port kmidi creates to send from.
pub const PORT_NAME: &str = "kmidi out";

/// Names of every MIDI output port kmidi could play to, in the backend's order.
pub fn list_output_ports() -> Result<Vec<String>, SinkError> {
    let output = open_midi_output()?;
    Ok(port_names(&output))
}

/// A connection to one MIDI output port (e.g. FluidSynth's input).
pub struct PortSink {
    connection: Option<MidiOutputConnection>,
    port: String,
}

impl PortSink {
    /// Connects to the first output port whose name contains `name_substring`,
    /// ignoring case.
    pub fn open(name_substring: &str) -> Result<PortSink, SinkError> {
        let output = open_midi_output()?;
        let ports = output.ports();
        let names: Vec<Option<String>> = ports.iter().map(|p| output.port_name(p).ok()).collect();
        let available: Vec<String> = names.iter().flatten().cloned().collect();
        let index = names
            .iter()
            .position(|n| n.as_deref().is_some_and(|n| matches(n, name_substring)));
        let (port, name) = match index.and_then(|i| Some((ports.get(i)?, names.get(i)?.clone()?))) {
            Some(found) => found,
            None => {
                return Err(SinkError::NoMatchingPort {
                    wanted: name_substring.to_string(),
                    available,
                })
            }
        };
        let connection = output
            .connect(port, PORT_NAME)
            .map_err(|e| SinkError::Connect {
                port: name.clone(),
                reason: e.kind().to_string(),
            })?;
        tracing::debug!(port = %name, "connected MIDI output");
        Ok(PortSink {
            connection: Some(connection),
            port: name,
        })
    }

    /// Full name of the port this sink plays to.
    pub fn port_name(&self) -> &str {
        &self.port
    }

    fn send_now(&mut self, bytes: &[u8]) -> Result<(), SinkError> {
        let connection = self.connection.as_mut().ok_or_else(|| SinkError::Send {
            port: self.port.clone(),
            bytes: bytes.to_vec(),
            reason: "the port was already closed by finish()".to_string(),
        })?;
        connection.send(bytes).map_err(|e| SinkError::Send {
            port: self.port.clone(),
            bytes: bytes.to_vec(),
            reason: e.to_string(),
        })
    }
}

impl Sink for PortSink {
    fn send(&mut self, bytes: &[u8], _at: Duration) -> Result<(), SinkError> {
        // Validated here because the JACK backend forwards any bytes unchecked, and a
        // synthesizer handed a broken message may mis-parse the ones after it.
        parse_message(bytes)?;
        self.send_now(bytes)
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        if self.connection.is_none() {
            return Ok(());
        }
        // After Ctrl-C the note-offs never come; without this the synthesizer
        // would keep sounding the held notes after kmidi has gone.
        let mut first_error = None;
        for channel in 0..16u8 {
            for message in [[0xB0 | channel, 64, 0], [0xB0 | channel, 123, 0]] {
                if let Err(e) = self.send_now(&message) {
                    first_error.get_or_insert(e);
                }
            }
        }
        // JACK sends from a ring buffer drained once per audio period; closing the
        // port at once would drop whatever is still queued, including the notes-off.
        #[cfg(feature = "jack")]
        std::thread::sleep(Duration::from_millis(200));
        if let Some(connection) = self.connection.take() {
            connection.close();
        }
        first_error.map_or(Ok(()), Err)
    }

    fn describe(&self) -> String {
        format!("port '{}'", self.port)
    }
}

fn open_midi_output() -> Result<MidiOutput, SinkError> {
    // Without the sequencer device, alsa-lib would only print its own error line to
    // stderr before failing: say kmidi's, which tells the user what to do, alone.
    #[cfg(all(target_os = "linux", not(feature = "jack")))]
    if !std::path::Path::new("/dev/snd/seq").exists() {
        return Err(SinkError::NoMidiSystem);
    }
    MidiOutput::new(CLIENT_NAME).map_err(|e| {
        tracing::debug!(error = %e, "midir could not initialise");
        SinkError::NoMidiSystem
    })
}

fn port_names(output: &MidiOutput) -> Vec<String> {
    // A port can vanish between listing and naming it; it is simply left out.
    output
        .ports()
        .iter()
        .filter_map(|p| output.port_name(p).ok())
        .collect()
}

pub(crate) fn matches(port_name: &str, wanted: &str) -> bool {
    port_name.to_lowercase().contains(&wanted.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_match_ignores_case_and_finds_substrings() {
        let fluid = "FLUID Synth (123):Synth input port (123:0)";
        assert!(matches(fluid, "fluid"));
        assert!(matches(fluid, "synth INPUT"));
        assert!(matches(fluid, ""));
        assert!(!matches(fluid, "timidity"));
        assert!(matches("fluidsynth:midi_00", "FluidSynth"));
    }
}
