//! What kmidi's tests and benchmarks measure sound with, kept out of the library the
//! `kmidi` binary links: the hi-hat song the audio-timing checks play (`clicks`) and
//! where notes start in the audio a synthesizer made of it (`onset`).

pub mod clicks;
pub mod onset;
