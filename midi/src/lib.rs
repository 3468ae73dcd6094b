//! MIDI for kmidi: Standard MIDI Files to a timed score of channel messages
//! (`message`, `tempo`, `score`), precise absolute-deadline scheduling (`schedule`),
//! and the outputs an instrument plays to (`sink`: a MIDI port, a `.mid` recording,
//! a `.wav` rendering), and where notes start in the audio a synthesizer made (`onset`).
//!
//! This crate knows nothing about Kafka: the CLI moves [`message::ChannelMessage`]
//! bytes through a transport and hands what arrives to a [`sink::Sink`].

pub mod clicks;
mod framing;
pub mod inputs;
pub mod message;
pub mod onset;
pub mod schedule;
pub mod score;
pub mod sink;
pub mod tempo;
