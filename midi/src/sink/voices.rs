//! A voice per broker (`--voices broker`): every broker gets its own MIDI channel, a
//! General MIDI program from a fixed list of audibly distinct instruments, and a place
//! in the stereo field, so the notes of the partitions a broker leads are heard as one
//! instrument and a dragging broker is one instrument dragging.
//!
//! [`BrokerVoices`] is the assignment and the messages that set it up; [`Revoicer`]
//! moves each played message to its broker's channel before the sinks, so every sink
//! (port, recording, rendering, web page) hears the same thing. The song's drums stay
//! on General MIDI's percussion channel (a drum kit has no program to swap), and the
//! song's own program changes and pan moves are replaced by the broker's.

use std::collections::HashMap;

use super::Side;

/// General MIDI's percussion channel (channel 10, 0-based 9): never a broker's.
const DRUMS: u8 = 9;
/// Pan controller (CC10).
const CC_PAN: u8 = 10;

/// General MIDI programs (0-based) with their names, in the order brokers take them:
/// each differs from its neighbours in family (keys, strings, mallets, winds, ...), so
/// two brokers never sound alike.
pub const PALETTE: [(u8, &str); 12] = [
    (0, "acoustic grand piano"),
    (48, "string ensemble"),
    (11, "vibraphone"),
    (73, "flute"),
    (24, "nylon guitar"),
    (56, "trumpet"),
    (19, "church organ"),
    (71, "clarinet"),
    (46, "orchestral harp"),
    (13, "xylophone"),
    (65, "alto sax"),
    (40, "violin"),
];

/// One broker's voice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerVoice {
    pub broker: i32,
    /// 0-based MIDI channel, never [`DRUMS`].
    pub channel: u8,
    /// General MIDI program, 0-based.
    pub program: u8,
    pub instrument: &'static str,
    /// CC10 value: 0 hard left, 64 centre, 127 hard right.
    pub pan: u8,
}

impl BrokerVoice {
    /// "left", "centre", "right 40 %"...: where the pan puts it, for the terminal.
    pub fn place(&self) -> String {
        match i32::from(self.pan) - 64 {
            0 => "centre".to_string(),
            d if d < 0 => format!("left {}%", (-d * 100 + 32) / 64),
            d => format!("right {}%", (d * 100 + 31) / 63),
        }
    }
}

/// The voices of a run's brokers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrokerVoices {
    voices: Vec<BrokerVoice>,
}

impl BrokerVoices {
    /// Voices for `brokers` (ascending ids are assigned in order). With a `side` (an
    /// A/B comparison) they use that side's channels and spread over its half of the
    /// stereo field; alone, over the whole field (not quite to the edges). More brokers
    /// than channels share channels round the list.
    pub fn assign(brokers: &[i32], side: Option<Side>) -> Self {
        let channels: Vec<u8> = match side {
            Some(s) => {
                let mut c: Vec<u8> = (0..16u8).map(|ch| s.channel(ch)).collect();
                c.retain(|ch| *ch != DRUMS);
                c.dedup();
                c.sort_unstable();
                c.dedup();
                c
            }
            None => (0..16u8).filter(|ch| *ch != DRUMS).collect(),
        };
        let (low, high) = match side {
            Some(Side::Left) => (0u8, 48u8),
            Some(Side::Right) => (79, 127),
            None => (16, 111),
        };
        let n = brokers.len();
        let voices = brokers
            .iter()
            .enumerate()
            .map(|(i, &broker)| {
                let (program, instrument) = PALETTE[i % PALETTE.len()];
                let pan = if n < 2 {
                    (u16::from(low) + u16::from(high)) / 2
                } else {
                    u16::from(low) + (u16::from(high - low) * i as u16) / (n as u16 - 1)
                };
                BrokerVoice {
                    broker,
                    channel: channels[i % channels.len()],
                    program,
                    instrument,
                    pan: pan as u8,
                }
            })
            .collect();
        BrokerVoices { voices }
    }

    pub fn voices(&self) -> &[BrokerVoice] {
        &self.voices
    }

    pub fn get(&self, broker: i32) -> Option<&BrokerVoice> {
        self.voices.iter().find(|v| v.broker == broker)
    }

    /// What sets the voices up, to send to every sink before the first note: a program
    /// change and a pan on each broker's channel.
    pub fn setup(&self) -> Vec<Vec<u8>> {
        self.voices
            .iter()
            .flat_map(|v| {
                [
                    vec![0xC0 | v.channel, v.program],
                    vec![0xB0 | v.channel, CC_PAN, v.pan],
                ]
            })
            .collect()
    }
}

/// Moves played messages to their broker's channel. A note-off goes where its note-on
/// went, even if leadership moved in between, so no note hangs across a failover.
#[derive(Debug, Default)]
pub struct Revoicer {
    voices: BrokerVoices,
    /// (lane, song channel, pitch) of a sounding note -> the channel it sounds on.
    sounding: HashMap<(i32, u8, u8), u8>,
}

impl Revoicer {
    pub fn new(voices: BrokerVoices) -> Self {
        Revoicer {
            voices,
            sounding: HashMap::new(),
        }
    }

    pub fn voices(&self) -> &BrokerVoices {
        &self.voices
    }

    /// `bytes` (one channel message) as heard on `lane` (a partition) led by `broker`:
    /// `None` to play them as they are (not a channel message, the drums, or a broker
    /// without a voice).
    pub fn revoice(&mut self, lane: i32, broker: Option<i32>, bytes: &[u8]) -> Option<Vec<u8>> {
        let (&status, rest) = bytes.split_first()?;
        if !(0x80..=0xEF).contains(&status) {
            return None;
        }
        let (kind, channel) = (status & 0xF0, status & 0x0F);
        if channel == DRUMS {
            return None;
        }
        let voice = broker.and_then(|b| self.voices.get(b));
        let is_note = kind == 0x80 || kind == 0x90;
        let target = match (is_note, rest.first()) {
            (true, Some(&pitch)) => {
                let key = (lane, channel, pitch);
                let sounding = kind == 0x90 && rest.get(1).is_some_and(|v| *v > 0);
                if sounding {
                    let ch = voice?.channel;
                    self.sounding.insert(key, ch);
                    ch
                } else {
                    match self.sounding.remove(&key) {
                        Some(ch) => ch,
                        None => voice?.channel,
                    }
                }
            }
            _ => voice?.channel,
        };
        let mut out = bytes.to_vec();
        out[0] = kind | target;
        match (kind, voice) {
            // The broker's instrument and place, not the song's.
            (0xC0, Some(v)) => out[1] = v.program,
            (0xB0, Some(v)) if rest.first() == Some(&CC_PAN) && out.len() == 3 => out[2] = v.pan,
            _ => {}
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brokers_get_distinct_channels_programs_and_places_never_the_drums() {
        let v = BrokerVoices::assign(&[1, 2, 3], None);
        let voices = v.voices();
        assert_eq!(voices.len(), 3);
        let channels: Vec<u8> = voices.iter().map(|v| v.channel).collect();
        assert_eq!(channels, [0, 1, 2]);
        assert_eq!(voices[0].instrument, "acoustic grand piano");
        assert_eq!(voices[1].program, 48);
        let pans: Vec<u8> = voices.iter().map(|v| v.pan).collect();
        assert_eq!(pans, [16, 63, 111]);
        let many = BrokerVoices::assign(&(0..20).collect::<Vec<_>>(), None);
        assert!(many.voices().iter().all(|v| v.channel != DRUMS));
        assert_eq!(v.setup()[0], vec![0xC0, 0]);
        assert_eq!(v.setup()[5], vec![0xB2, CC_PAN, 111]);
        assert_eq!(voices[0].place(), "left 75%");
        assert_eq!(voices[2].place(), "right 75%");
    }

    #[test]
    fn a_side_keeps_its_channels_and_its_half_of_the_field() {
        let left = BrokerVoices::assign(&[1, 2, 3], Some(Side::Left));
        let right = BrokerVoices::assign(&[1, 2, 3], Some(Side::Right));
        for (l, r) in left.voices().iter().zip(right.voices()) {
            assert!(l.pan < 64 && r.pan > 64, "{l:?} {r:?}");
            assert_ne!(l.channel, r.channel);
            assert!(l.channel < 8 && r.channel >= 8 && r.channel != DRUMS);
        }
    }

    #[test]
    fn notes_move_to_their_brokers_channel_and_off_follows_on_across_a_failover() {
        let mut r = Revoicer::new(BrokerVoices::assign(&[1, 2], None));
        assert_eq!(
            r.revoice(0, Some(2), &[0x93, 60, 90]),
            Some(vec![0x91, 60, 90])
        );
        // Leadership of partition 0 moved to broker 1: the note-off still ends it.
        assert_eq!(
            r.revoice(0, Some(1), &[0x83, 60, 0]),
            Some(vec![0x81, 60, 0])
        );
        assert_eq!(
            r.revoice(0, Some(1), &[0x83, 60, 0]),
            Some(vec![0x80, 60, 0])
        );
        // A note-on at velocity 0 is a note-off.
        r.revoice(1, Some(1), &[0x90, 64, 80]);
        assert_eq!(
            r.revoice(1, Some(2), &[0x90, 64, 0]),
            Some(vec![0x90, 64, 0])
        );
    }

    #[test]
    fn the_songs_program_and_pan_give_way_and_drums_stay_drums() {
        let mut r = Revoicer::new(BrokerVoices::assign(&[7], None));
        assert_eq!(r.revoice(0, Some(7), &[0xC4, 33]), Some(vec![0xC0, 0]));
        assert_eq!(
            r.revoice(0, Some(7), &[0xB4, CC_PAN, 0]),
            Some(vec![0xB0, CC_PAN, 63])
        );
        assert_eq!(
            r.revoice(0, Some(7), &[0xB4, 64, 127]),
            Some(vec![0xB0, 64, 127])
        );
        assert_eq!(r.revoice(0, Some(7), &[0x99, 36, 100]), None);
        assert_eq!(r.revoice(0, None, &[0x90, 60, 100]), None);
        assert_eq!(r.revoice(0, Some(8), &[0x90, 60, 100]), None);
        assert_eq!(r.revoice(0, Some(7), &[0xF8]), None);
    }
}
