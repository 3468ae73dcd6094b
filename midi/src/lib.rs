//! MIDI for kmidi: Standard MIDI Files to a timed score of channel messages
//! (`message`, `tempo`, `score`) and back to bytes (`smf`, the one SMF writer), precise
//! absolute-deadline scheduling (`schedule`), and the outputs an instrument plays to
//! (`sink`: a MIDI port, a `.mid` recording, a `.wav` rendering).
//!
//! This crate knows nothing about Kafka: the CLI moves [`message::ChannelMessage`]
//! bytes through a transport and hands what arrives to a [`sink::Sink`]. What only
//! tests and benchmarks use (the hi-hat song, the audio onset detector) lives in
//! `kmidi-test-instruments`, so the `kmidi` binary does not link it.

mod framing;
pub mod inputs;
pub mod message;
pub mod schedule;
pub mod score;
pub mod sink;
pub mod smf;
pub mod tempo;
