//! One MIDI channel voice message as raw bytes: validation from bytes or from the hex
//! text the wire format carries, and the mido-compatible names and text (`hex`, `kind`)
//! the original Python kmidi put on the wire. Also owns the "silence everything"
//! message list an instrument sends when it stops.

use std::fmt;

/// Why bytes or hex text are not a single channel voice message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("empty MIDI message")]
    Empty,
    #[error("not hex MIDI bytes: {0:?} (expected pairs of hex digits such as \"90 3C 40\")")]
    NotHex(String),
    #[error("status byte {0:#04X} is not a channel voice message (expected 0x80..=0xEF)")]
    NotChannelMessage(u8),
    #[error("status byte {status:#04X} needs {expected} bytes, found {found}")]
    WrongLength {
        status: u8,
        expected: usize,
        found: usize,
    },
    #[error("data byte {0:#04X} is out of range (data bytes are 0x00..=0x7F)")]
    DataByteOutOfRange(u8),
}

/// A validated channel voice message (status 0x80..=0xEF plus its 1 or 2 data bytes).
///
/// Unused trailing bytes are always zero so that derived equality and hashing only see
/// the message itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChannelMessage {
    bytes: [u8; 3],
    len: u8,
}

const NOTE_OFF: u8 = 0x80;
const NOTE_ON: u8 = 0x90;
const POLYTOUCH: u8 = 0xA0;
const CONTROL_CHANGE: u8 = 0xB0;

/// Sustain pedal, All Notes Off and Reset All Controllers controller numbers.
const CC_SUSTAIN: u8 = 64;
const CC_ALL_NOTES_OFF: u8 = 123;
const CC_RESET_ALL_CONTROLLERS: u8 = 121;

/// Total length of a message whose status byte is `status` (already known to be a
/// channel voice status).
fn expected_len(status: u8) -> usize {
    match status & 0xF0 {
        // Program change and channel pressure carry a single data byte.
        0xC0 | 0xD0 => 2,
        _ => 3,
    }
}

impl ChannelMessage {
    /// Validates `b` as exactly one channel voice message.
    pub fn from_bytes(b: &[u8]) -> Result<Self, MessageError> {
        let (&status, data) = b.split_first().ok_or(MessageError::Empty)?;
        if !(0x80..=0xEF).contains(&status) {
            return Err(MessageError::NotChannelMessage(status));
        }
        let expected = expected_len(status);
        if b.len() != expected {
            return Err(MessageError::WrongLength {
                status,
                expected,
                found: b.len(),
            });
        }
        if let Some(&bad) = data.iter().find(|&&d| d >= 0x80) {
            return Err(MessageError::DataByteOutOfRange(bad));
        }
        let mut bytes = [0u8; 3];
        bytes[..b.len()].copy_from_slice(b);
        Ok(Self {
            bytes,
            len: expected as u8,
        })
    }

    /// Parses hex text as mido writes it ("90 3C 40"); also accepts lower case, runs of
    /// whitespace and unseparated pairs ("903c40"), as Python's `bytes.fromhex` does.
    pub fn from_hex(s: &str) -> Result<Self, MessageError> {
        let mut bytes = Vec::with_capacity(3);
        for token in s.split_whitespace() {
            if token.len() % 2 != 0 || !token.is_ascii() {
                return Err(MessageError::NotHex(s.to_owned()));
            }
            for pair in token.as_bytes().chunks(2) {
                let text = std::str::from_utf8(pair).map_err(|_| MessageError::NotHex(s.into()))?;
                let byte =
                    u8::from_str_radix(text, 16).map_err(|_| MessageError::NotHex(s.to_owned()))?;
                bytes.push(byte);
            }
        }
        Self::from_bytes(&bytes)
    }

    /// Builds a control change; callers pass constants, so out-of-range values are masked
    /// rather than reported.
    fn control_change(channel: u8, controller: u8, value: u8) -> Self {
        Self {
            bytes: [
                CONTROL_CHANGE | (channel & 0x0F),
                controller & 0x7F,
                value & 0x7F,
            ],
            len: 3,
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Upper-case hex pairs separated by single spaces, exactly as mido's `msg.hex()`.
    pub fn hex(&self) -> String {
        self.bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The mido type name, which the wire format's `type` field carries.
    pub fn kind(&self) -> &'static str {
        match self.status() & 0xF0 {
            NOTE_OFF => "note_off",
            NOTE_ON => "note_on",
            POLYTOUCH => "polytouch",
            CONTROL_CHANGE => "control_change",
            0xC0 => "program_change",
            0xD0 => "aftertouch",
            _ => "pitchwheel",
        }
    }

    pub fn status(&self) -> u8 {
        self.bytes[0]
    }

    pub fn channel(&self) -> u8 {
        self.status() & 0x0F
    }

    pub fn note(&self) -> Option<u8> {
        matches!(self.status() & 0xF0, NOTE_OFF | NOTE_ON | POLYTOUCH).then_some(self.bytes[1])
    }

    pub fn velocity(&self) -> Option<u8> {
        self.is_note().then_some(self.bytes[2])
    }

    /// Note on or note off: the only messages the original Python kmidi sent.
    pub fn is_note(&self) -> bool {
        matches!(self.status() & 0xF0, NOTE_OFF | NOTE_ON)
    }

    /// A note on with velocity 0, which MIDI defines as a note off.
    pub fn is_note_on_sounding(&self) -> bool {
        self.status() & 0xF0 == NOTE_ON && self.bytes[2] > 0
    }

    /// `(controller, value)` for a control change.
    pub fn control(&self) -> Option<(u8, u8)> {
        (self.status() & 0xF0 == CONTROL_CHANGE).then_some((self.bytes[1], self.bytes[2]))
    }

    /// The same message on another channel; only the low 4 bits of `ch` are used because a
    /// status byte has no room for more.
    pub fn with_channel(&self, ch: u8) -> Self {
        let mut out = *self;
        out.bytes[0] = (self.status() & 0xF0) | (ch & 0x0F);
        out
    }
}

impl fmt::Display for ChannelMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// Everything needed to stop a synthesizer sounding, for every channel: sustain off first
/// (otherwise notes held by the pedal survive All Notes Off), then All Notes Off, then
/// Reset All Controllers.
pub fn silence_all_channels() -> Vec<ChannelMessage> {
    (0..16u8)
        .flat_map(|ch| {
            [
                ChannelMessage::control_change(ch, CC_SUSTAIN, 0),
                ChannelMessage::control_change(ch, CC_ALL_NOTES_OFF, 0),
                ChannelMessage::control_change(ch, CC_RESET_ALL_CONTROLLERS, 0),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_upper_case_pairs_separated_by_single_spaces_like_mido() {
        let m = ChannelMessage::from_bytes(&[0x90, 0x3C, 0x0A]).unwrap();
        assert_eq!(m.hex(), "90 3C 0A");
        assert_eq!(m.to_string(), "90 3C 0A");
    }

    #[test]
    fn from_hex_accepts_lower_case_extra_whitespace_and_unseparated_pairs() {
        let expected = ChannelMessage::from_bytes(&[0x90, 0x3C, 0x40]).unwrap();
        assert_eq!(ChannelMessage::from_hex("90 3C 40").unwrap(), expected);
        assert_eq!(
            ChannelMessage::from_hex("  90\t3c   40\n").unwrap(),
            expected
        );
        assert_eq!(ChannelMessage::from_hex("903c40").unwrap(), expected);
    }

    #[test]
    fn from_hex_refuses_odd_digits_and_non_hex() {
        assert!(matches!(
            ChannelMessage::from_hex("9 0 3C 40"),
            Err(MessageError::NotHex(_))
        ));
        assert!(matches!(
            ChannelMessage::from_hex("90 3G 40"),
            Err(MessageError::NotHex(_))
        ));
        assert!(matches!(
            ChannelMessage::from_hex("90 é 40"),
            Err(MessageError::NotHex(_))
        ));
        assert_eq!(ChannelMessage::from_hex("   "), Err(MessageError::Empty));
    }

    #[test]
    fn system_and_meta_status_bytes_are_refused() {
        for status in [0xF0, 0xF8, 0xFF, 0x7F, 0x00] {
            assert_eq!(
                ChannelMessage::from_bytes(&[status, 0, 0]),
                Err(MessageError::NotChannelMessage(status))
            );
        }
    }

    #[test]
    fn length_must_match_the_status() {
        assert_eq!(
            ChannelMessage::from_bytes(&[0xC0, 5, 0]),
            Err(MessageError::WrongLength {
                status: 0xC0,
                expected: 2,
                found: 3
            })
        );
        assert_eq!(
            ChannelMessage::from_bytes(&[0x91, 60]),
            Err(MessageError::WrongLength {
                status: 0x91,
                expected: 3,
                found: 2
            })
        );
        assert!(ChannelMessage::from_bytes(&[0xD3, 100]).is_ok());
    }

    #[test]
    fn data_bytes_with_the_top_bit_set_are_refused() {
        assert_eq!(
            ChannelMessage::from_bytes(&[0x90, 0x3C, 0x80]),
            Err(MessageError::DataByteOutOfRange(0x80))
        );
    }

    #[test]
    fn kinds_use_mido_type_names() {
        let cases: [(&[u8], &str); 7] = [
            (&[0x80, 60, 0], "note_off"),
            (&[0x90, 60, 1], "note_on"),
            (&[0xA0, 60, 1], "polytouch"),
            (&[0xB0, 7, 100], "control_change"),
            (&[0xC0, 0], "program_change"),
            (&[0xD0, 3], "aftertouch"),
            (&[0xE0, 0, 64], "pitchwheel"),
        ];
        for (bytes, kind) in cases {
            assert_eq!(ChannelMessage::from_bytes(bytes).unwrap().kind(), kind);
        }
    }

    #[test]
    fn note_fields_are_only_present_on_note_messages() {
        let on = ChannelMessage::from_hex("9A 3C 40").unwrap();
        assert_eq!(
            (on.channel(), on.note(), on.velocity()),
            (10, Some(60), Some(64))
        );
        assert!(on.is_note());
        let touch = ChannelMessage::from_hex("A0 3C 40").unwrap();
        assert_eq!(
            (touch.note(), touch.velocity(), touch.is_note()),
            (Some(60), None, false)
        );
        let cc = ChannelMessage::from_hex("B0 40 7F").unwrap();
        assert_eq!(
            (cc.note(), cc.velocity(), cc.control()),
            (None, None, Some((64, 127)))
        );
    }

    #[test]
    fn note_on_with_velocity_zero_is_not_sounding() {
        assert!(!ChannelMessage::from_hex("90 3C 00")
            .unwrap()
            .is_note_on_sounding());
        assert!(ChannelMessage::from_hex("90 3C 01")
            .unwrap()
            .is_note_on_sounding());
    }

    #[test]
    fn with_channel_changes_only_the_channel_nibble() {
        let m = ChannelMessage::from_hex("C3 05").unwrap().with_channel(9);
        assert_eq!(m.hex(), "C9 05");
        assert_eq!(
            ChannelMessage::from_hex("93 3C 40")
                .unwrap()
                .with_channel(0x1F)
                .channel(),
            15
        );
    }

    #[test]
    fn silence_covers_every_channel_with_sustain_off_first() {
        let all = silence_all_channels();
        assert_eq!(all.len(), 48);
        for (ch, triple) in all.chunks(3).enumerate() {
            let got: Vec<String> = triple.iter().map(ChannelMessage::hex).collect();
            let s = format!("{:02X}", 0xB0 + ch);
            assert_eq!(
                got,
                [
                    format!("{s} 40 00"),
                    format!("{s} 7B 00"),
                    format!("{s} 79 00")
                ]
            );
        }
    }
}
