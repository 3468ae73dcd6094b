//! The note wire format: one JSON object per MIDI message, compatible with the original
//! Python kmidi in both directions.
//!
//! The original's fields come first (`time, type, channel, note, velocity, hex,
//! extra_payload`, spaced as Python's `json.dumps`); kmidi's measurement fields follow
//! under `kmidi_*` names the original ignores. The instrument plays from `hex` alone, so
//! anything else may be missing.

use std::time::Duration;

use kmidi_midi::message::ChannelMessage;
use serde::{Deserialize, Serialize};

/// One note (or other channel message) on the topic.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NoteMessage {
    /// Seconds since the previous message of the file, as Python mido gives it.
    #[serde(default)]
    pub time: f64,
    /// mido's message type name: `note_on`, `note_off`, `control_change`, ...
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub channel: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub velocity: Option<u8>,
    /// The raw MIDI bytes as upper-case hex pairs separated by spaces, e.g. `90 3C 40`.
    pub hex: String,
    /// Padding to reach the user's `--record-size`.
    #[serde(default)]
    pub extra_payload: String,
    #[serde(flatten)]
    pub measure: Measure,
}

/// kmidi's optional measurement fields. Absent in messages from the original player,
/// in which case the figures that need them are reported as unavailable.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// Identifies one player run, so two runs on one topic are not mixed up.
    #[serde(rename = "kmidi_run", default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Which pass over the songs this is, from 0: a looping player (`--loop`) replays a
    /// song under the same run with `seq` from 0 again, and only this tells the passes
    /// apart. Absent (older players) means 0.
    #[serde(
        rename = "kmidi_pass",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pass: Option<u64>,
    #[serde(
        rename = "kmidi_song",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub song: Option<String>,
    /// 0-based position of this message in its song.
    #[serde(rename = "kmidi_seq", default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Number of messages in the song as sent (after `--notes-only`).
    #[serde(
        rename = "kmidi_total",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub total: Option<u64>,
    /// Scheduled time from the song's start, µs, after the speed ratio.
    #[serde(
        rename = "kmidi_offset_us",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub offset_us: Option<u64>,
    /// Wall-clock time the player handed the message to the transport, µs since the Unix epoch.
    #[serde(
        rename = "kmidi_sent_us",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sent_us: Option<u64>,
    /// Set on the one record a player sends before a song to open connections and get
    /// a producer id, so the song's first notes are not late. It carries an inaudible
    /// note-off, so the original instrument, which plays anything, stays silent too.
    #[serde(
        rename = "kmidi_warmup",
        default,
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub warmup: bool,
}

/// Why a record is not a note kmidi can play. The kinds are counted separately.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum WireError {
    #[error("record has no value (null payload)")]
    NullValue,
    #[error("record is not JSON: {0}")]
    NotJson(String),
    #[error("record is JSON but has no string field \"hex\"")]
    MissingHex,
}

impl WireError {
    /// A short stable name for counting and reports.
    pub fn kind(&self) -> &'static str {
        match self {
            WireError::NullValue => "null_value",
            WireError::NotJson(_) => "not_json",
            WireError::MissingHex => "missing_hex",
        }
    }
}

/// Where a played note belongs: its run, the pass over the songs, its song and its
/// place there, and how long after the song's start (after speed) it is due.
#[derive(Clone, Copy, Debug)]
pub struct Played<'a> {
    pub run_id: &'a str,
    pub pass: u64,
    pub song: &'a str,
    pub seq: u64,
    /// How many messages the song has.
    pub total: u64,
    pub offset: Duration,
}

impl NoteMessage {
    /// The wire form of one channel message, `delta` seconds after the previous one of
    /// its file, at `at`: every measurement field but the send time, no padding. The
    /// one builder of a played note, for the player and the benchmarks alike, so both
    /// measure the same record.
    pub fn played(message: &ChannelMessage, delta: f64, at: &Played) -> Self {
        NoteMessage {
            time: delta,
            kind: message.kind().to_string(),
            channel: message.channel(),
            note: message.note(),
            velocity: message.velocity(),
            hex: message.hex(),
            extra_payload: String::new(),
            measure: Measure {
                run: Some(at.run_id.to_string()),
                pass: Some(at.pass),
                song: Some(at.song.to_string()),
                seq: Some(at.seq),
                total: Some(at.total),
                offset_us: Some(at.offset.as_micros() as u64),
                sent_us: None,
                warmup: false,
            },
        }
    }

    /// JSON bytes in the original's field order and spacing (`", "` and `": "`).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160 + self.extra_payload.len());
        let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
        // Serializing plain strings and numbers into a Vec cannot fail.
        let _ = self.serialize(&mut ser);
        out
    }

    pub fn decode(value: Option<&[u8]>) -> Result<NoteMessage, WireError> {
        let bytes = value.ok_or(WireError::NullValue)?;
        let json: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| WireError::NotJson(e.to_string()))?;
        if !json.get("hex").is_some_and(|h| h.is_string()) {
            return Err(WireError::MissingHex);
        }
        // Fields of the wrong type (e.g. "channel": "x") are not worth losing a note
        // over: fall back to the hex alone, which is all the instrument plays from.
        match serde_json::from_value::<NoteMessage>(json.clone()) {
            Ok(m) => Ok(m),
            Err(_) => Ok(NoteMessage {
                hex: json["hex"].as_str().unwrap_or_default().to_string(),
                ..NoteMessage::default()
            }),
        }
    }
}

/// Python's `json.dumps` default separators, so byte-level diffs against the original
/// player's records are empty.
struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // What the original player's json.dumps produced for one mido note_on.
    const ORIGINAL: &str = r#"{"time": 0.25, "type": "note_on", "channel": 0, "note": 60, "velocity": 64, "hex": "90 3C 40", "extra_payload": ""}"#;

    #[test]
    fn encodes_like_the_original_python_player() {
        let m = NoteMessage {
            time: 0.25,
            kind: "note_on".into(),
            channel: 0,
            note: Some(60),
            velocity: Some(64),
            hex: "90 3C 40".into(),
            ..Default::default()
        };
        assert_eq!(String::from_utf8(m.encode()).unwrap(), ORIGINAL);
    }

    #[test]
    fn a_played_note_carries_every_measurement_field_but_the_send_time() {
        let msg = ChannelMessage::from_bytes(&[0x91, 0x3C, 0x40]).unwrap();
        let at = Played {
            run_id: "r1",
            pass: 2,
            song: "a.mid",
            seq: 3,
            total: 10,
            offset: Duration::from_micros(1500),
        };
        let m = NoteMessage::played(&msg, 0.25, &at);
        assert_eq!(
            (m.kind.as_str(), m.channel, m.hex.as_str()),
            ("note_on", 1, "91 3C 40")
        );
        assert_eq!((m.time, m.note, m.velocity), (0.25, Some(60), Some(64)));
        assert_eq!(
            m.measure,
            Measure {
                run: Some("r1".into()),
                pass: Some(2),
                song: Some("a.mid".into()),
                seq: Some(3),
                total: Some(10),
                offset_us: Some(1500),
                sent_us: None,
                warmup: false,
            }
        );
        assert!(m.extra_payload.is_empty());
    }

    #[test]
    fn decodes_the_original_players_records_without_measurement_fields() {
        let m = NoteMessage::decode(Some(ORIGINAL.as_bytes())).unwrap();
        assert_eq!(m.hex, "90 3C 40");
        assert_eq!(m.note, Some(60));
        assert_eq!(m.measure, Measure::default());
    }

    #[test]
    fn measurement_fields_round_trip_after_the_original_fields() {
        let m = NoteMessage {
            hex: "B0 40 7F".into(),
            kind: "control_change".into(),
            measure: Measure {
                run: Some("r1".into()),
                pass: Some(2),
                song: Some("a.mid".into()),
                seq: Some(3),
                total: Some(10),
                offset_us: Some(1500),
                sent_us: Some(1_700_000_000_000_000),
                warmup: false,
            },
            ..Default::default()
        };
        let text = String::from_utf8(m.encode()).unwrap();
        assert!(text.find("extra_payload").unwrap() < text.find("kmidi_run").unwrap());
        assert_eq!(NoteMessage::decode(Some(text.as_bytes())).unwrap(), m);
    }

    #[test]
    fn a_record_without_a_pass_decodes_as_from_an_older_player() {
        let older =
            r#"{"hex": "90 3C 40", "kmidi_run": "r", "kmidi_song": "a.mid", "kmidi_seq": 0}"#;
        let m = NoteMessage::decode(Some(older.as_bytes())).unwrap();
        assert_eq!((m.measure.pass, m.measure.seq), (None, Some(0)));
    }

    #[test]
    fn garbage_is_classified_by_kind() {
        assert_eq!(NoteMessage::decode(None).unwrap_err().kind(), "null_value");
        assert_eq!(
            NoteMessage::decode(Some(b"\xff{")).unwrap_err().kind(),
            "not_json"
        );
        assert_eq!(
            NoteMessage::decode(Some(br#"{"note": 60}"#))
                .unwrap_err()
                .kind(),
            "missing_hex"
        );
        assert_eq!(
            NoteMessage::decode(Some(br#"{"hex": 60}"#))
                .unwrap_err()
                .kind(),
            "missing_hex"
        );
    }

    #[test]
    fn wrongly_typed_optional_fields_still_yield_the_hex() {
        let m = NoteMessage::decode(Some(br#"{"hex": "90 3C 40", "channel": "x"}"#)).unwrap();
        assert_eq!(m.hex, "90 3C 40");
    }
}
