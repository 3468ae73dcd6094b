//! A JACK MIDI output that keeps each message's arrival time inside the audio period
//! (the `jack` feature; the port `kmidi play` uses on a JACK build).
//!
//! midir's JACK backend writes every message at frame 0 of the next period
//! (`event_reserve(0, ..)` in its process callback), so two notes that arrived 3 ms
//! apart inside one 5.8 ms period leave together. This sink asks JACK for the current
//! frame when a message arrives (`jack_frame_time`, meant for non-realtime threads)
//! and writes the message one period later at that frame's offset: every message
//! then has the same delay, one period, instead of anything from 0 to one period.
//!
//! Whether that reaches the ear depends on the synthesizer: one that renders each
//! event at its frame keeps it; FluidSynth (2.3, `fluid_jack_driver_process`) applies
//! all of a period's events before synthesizing the period, so with FluidSynth the
//! audible step stays one period, and a small period (`jackd -p 64`) is what shrinks it.

use std::time::Duration;

use jack::{
    AsyncClient, Client, ClientOptions, Control, Frames, MidiOut, Port, PortFlags, ProcessHandler,
    ProcessScope, RawMidi, RingBuffer, RingBufferReader, RingBufferWriter,
};

use super::port::{matches, CLIENT_NAME, PORT_NAME};
use super::{parse_message, Sink, SinkError};

/// Room for a few thousand messages between two periods.
const RING_BYTES: usize = 64 * 1024;
/// Per message in the ring: arrival frame (u32 LE) and length (u16 LE), then the bytes.
const HEADER: usize = 6;
/// Longest message carried (SysEx included); longer ones are refused.
const MAX_MESSAGE: usize = 1024;

/// Names of every JACK MIDI input port (what kmidi can play to).
pub fn list_jack_ports() -> Result<Vec<String>, SinkError> {
    let (client, _) = open_client()?;
    Ok(midi_inputs(&client))
}

/// A JACK MIDI output connected to one synthesizer's input.
pub struct JackSink {
    client: Option<AsyncClient<(), Writer>>,
    ring: RingBufferWriter,
    port: String,
    period: Frames,
    sample_rate: u32,
}

impl JackSink {
    /// Connects to the first JACK MIDI input whose name contains `name_substring`,
    /// ignoring case.
    pub fn open(name_substring: &str) -> Result<JackSink, SinkError> {
        let (client, _) = open_client()?;
        let available = midi_inputs(&client);
        let target = available
            .iter()
            .find(|p| matches(p, name_substring))
            .cloned()
            .ok_or_else(|| SinkError::NoMatchingPort {
                wanted: name_substring.to_string(),
                available: available.clone(),
            })?;
        let connect_err = |reason: String| SinkError::Connect {
            port: target.clone(),
            reason,
        };
        let out = client
            .register_port(PORT_NAME, MidiOut::default())
            .map_err(|e| connect_err(e.to_string()))?;
        let ours = out.name().map_err(|e| connect_err(e.to_string()))?;
        let ring = RingBuffer::new(RING_BYTES).map_err(|e| connect_err(e.to_string()))?;
        let (reader, ring) = ring.into_reader_writer();
        let (period, sample_rate) = (client.buffer_size(), client.sample_rate());
        let writer = Writer {
            out,
            queue: Queue {
                ring: reader,
                pending: None,
                bytes: [0; MAX_MESSAGE],
            },
        };
        let active = client
            .activate_async((), writer)
            .map_err(|e| connect_err(e.to_string()))?;
        active
            .as_client()
            .connect_ports_by_name(&ours, &target)
            .map_err(|e| connect_err(e.to_string()))?;
        tracing::debug!(port = %target, period, sample_rate, "connected JACK MIDI output");
        Ok(JackSink {
            client: Some(active),
            ring,
            port: target,
            period,
            sample_rate,
        })
    }

    /// The delay every message gets: one JACK period.
    pub fn latency(&self) -> Duration {
        Duration::from_secs_f64(f64::from(self.period) / f64::from(self.sample_rate.max(1)))
    }

    fn queue(&mut self, bytes: &[u8]) -> Result<(), SinkError> {
        let send_err = |reason: &str| SinkError::Send {
            port: self.port.clone(),
            bytes: bytes.to_vec(),
            reason: reason.to_string(),
        };
        let Some(client) = self.client.as_ref() else {
            return Err(send_err("the port was already closed by finish()"));
        };
        let len = u16::try_from(bytes.len())
            .ok()
            .filter(|&l| usize::from(l) <= MAX_MESSAGE)
            .ok_or_else(|| send_err("message longer than 1024 bytes"))?;
        if self.ring.space() < HEADER + bytes.len() {
            return Err(send_err(
                "JACK is not taking messages (its ring buffer is full)",
            ));
        }
        let frame = client.as_client().frame_time();
        let mut header = [0u8; HEADER];
        header[..4].copy_from_slice(&frame.to_le_bytes());
        header[4..].copy_from_slice(&len.to_le_bytes());
        // The space was checked above and only this thread writes: both land whole.
        self.ring.write_buffer(&header);
        self.ring.write_buffer(bytes);
        Ok(())
    }
}

impl Sink for JackSink {
    fn send(&mut self, bytes: &[u8], _at: Duration) -> Result<(), SinkError> {
        // Validated here because a synthesizer handed a broken message may mis-parse
        // the ones after it.
        parse_message(bytes)?;
        self.queue(bytes)
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        if self.client.is_none() {
            return Ok(());
        }
        // After Ctrl-C the note-offs never come; without this the synthesizer would
        // keep sounding the held notes after kmidi has gone.
        let mut first_error = None;
        for channel in 0..16u8 {
            for message in [[0xB0 | channel, 64, 0], [0xB0 | channel, 123, 0]] {
                if let Err(e) = self.queue(&message) {
                    first_error.get_or_insert(e);
                }
            }
        }
        // The ring is drained once per period: give it a few before closing.
        std::thread::sleep(self.latency() * 4 + Duration::from_millis(50));
        if let Some(client) = self.client.take() {
            if let Err(e) = client.deactivate() {
                tracing::debug!("closing the JACK client: {e}");
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn describe(&self) -> String {
        format!(
            "port '{}' (JACK: each note at its arrival's frame, +{:.1} ms)",
            self.port,
            self.latency().as_secs_f64() * 1e3
        )
    }
}

/// The process callback's half: moves queued messages into the period's MIDI buffer.
struct Writer {
    out: Port<MidiOut>,
    queue: Queue,
}

/// The reading end of the ring, with the one message read ahead of its period.
struct Queue {
    ring: RingBufferReader,
    /// A message read from the ring that belongs to a later period: (frame, length).
    pending: Option<(Frames, usize)>,
    bytes: [u8; MAX_MESSAGE],
}

impl Queue {
    /// The next message's arrival frame and length, reading it from the ring into
    /// `bytes` unless it is already there.
    fn next(&mut self) -> Option<(Frames, usize)> {
        if self.pending.is_none() {
            let mut header = [0u8; HEADER];
            if self.ring.space() < HEADER || self.ring.peek(&mut header) < HEADER {
                return None;
            }
            let frame = Frames::from_le_bytes([header[0], header[1], header[2], header[3]]);
            let len = usize::from(u16::from_le_bytes([header[4], header[5]]));
            if self.ring.space() < HEADER + len || len > MAX_MESSAGE {
                return None;
            }
            self.ring.advance(HEADER);
            self.ring.read_buffer(&mut self.bytes[..len]);
            self.pending = Some((frame, len));
        }
        self.pending
    }
}

impl ProcessHandler for Writer {
    fn process(&mut self, _: &Client, ps: &ProcessScope) -> Control {
        let (start, period) = (ps.last_frame_time(), ps.n_frames());
        let mut earliest = 0;
        let mut writer = self.out.writer(ps);
        let queue = &mut self.queue;
        while let Some((arrived, len)) = queue.next() {
            let offset = frame_offset(arrived, start, period);
            let Some(offset) = offset else { break };
            // JACK wants a period's events in time order.
            let time = offset.max(earliest);
            if writer
                .write(&RawMidi {
                    time,
                    bytes: &queue.bytes[..len],
                })
                .is_err()
            {
                // The buffer is full: the rest waits for the next period.
                break;
            }
            earliest = time;
            queue.pending = None;
        }
        Control::Continue
    }
}

/// Where in the period starting at frame `start` a message that arrived at frame
/// `arrived` goes, one period after it arrived; `None` if that is in a later period.
/// Late messages (the callback ran late) go at once, at offset 0. Frame counters wrap
/// (every 27 h at 44.1 kHz), hence the wrapping, signed difference.
fn frame_offset(arrived: Frames, start: Frames, period: Frames) -> Option<Frames> {
    let due = arrived.wrapping_add(period);
    let ahead = due.wrapping_sub(start) as i32;
    if ahead < 0 {
        Some(0)
    } else if ahead >= period as i32 {
        None
    } else {
        Some(ahead as Frames)
    }
}

fn open_client() -> Result<(Client, jack::ClientStatus), SinkError> {
    Client::new(CLIENT_NAME, ClientOptions::NO_START_SERVER).map_err(|e| {
        tracing::debug!(error = %e, "cannot open a JACK client");
        SinkError::NoMidiSystem
    })
}

fn midi_inputs(client: &Client) -> Vec<String> {
    client.ports(None, Some("midi"), PortFlags::IS_INPUT)
}

#[cfg(test)]
mod tests {
    use super::frame_offset;

    #[test]
    fn a_message_leaves_one_period_after_it_arrived() {
        // Arrived 100 frames into the period starting at 1000: offset 100 of the next.
        assert_eq!(frame_offset(1100, 1256, 256), Some(100));
        assert_eq!(frame_offset(1100, 1000, 256), None, "not yet");
        assert_eq!(frame_offset(1100, 2000, 256), Some(0), "late: at once");
        assert_eq!(frame_offset(u32::MAX - 10, 245, 256), Some(0));
        assert_eq!(frame_offset(u32::MAX - 10, 240, 256), Some(5), "wraps");
    }
}
