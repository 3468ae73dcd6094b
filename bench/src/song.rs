//! A long, busy song generated in code, written as a real Standard MIDI File and loaded
//! through kmidi's own score loader, so the benchmarks play exactly what the player
//! would play from a file.
//!
//! The rhythm mixes straight and triplet values (deadlines that are not whole
//! milliseconds) with chords (several events at the same instant, delta 0), so both
//! the precise scheduler and the naive delta-sleeping loop meet their hard cases.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use kmidi_midi::message::ChannelMessage;
use kmidi_midi::score::{Score, ScoreEvent};
use kmidi_midi::smf::{Format, Smf, Track};

/// Ticks per quarter note; at 120 bpm one tick is 1.0417 ms.
const TPQ: u16 = 480;
/// Durations in ticks: 16th, 8th, triplet 8th, dotted 16th, quarter.
const STEPS: [u32; 5] = [120, 240, 160, 180, 480];

/// Deterministic pseudo-random numbers: the same song every run, no RNG state to seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u32) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % u64::from(n)) as u32
    }
}

/// The bytes of a single-track SMF at 120 bpm lasting about `length`.
pub fn smf_bytes(length: Duration) -> Result<Vec<u8>> {
    let tick_us = 500_000.0 / f64::from(TPQ);
    let end_tick = (length.as_micros() as f64 / tick_us) as u32;
    // (tick, channel, status, key, velocity), sorted later.
    let mut events: Vec<(u32, u8, bool, u8, u8)> = Vec::new();
    let mut rng = Lcg(0x006b_6d69_6469);
    let mut tick = 0u32;
    while tick < end_tick {
        let step = STEPS[rng.next(STEPS.len() as u32) as usize];
        // A chord of 1 to 3 notes on up to two channels at every step.
        let voices = 1 + rng.next(3);
        for v in 0..voices {
            let key = 48 + rng.next(36) as u8;
            let channel = (v % 2) as u8;
            events.push((tick, channel, true, key, 64 + rng.next(40) as u8));
            events.push((tick + step - 10, channel, false, key, 0));
        }
        tick += step;
    }
    // Note-offs before note-ons at the same tick, as sequencers write them.
    events.sort_by_key(|&(t, _, on, _, _)| (t, on));
    let mut track = Track::new();
    track.tempo(0, 500_000);
    for (t, channel, on, key, vel) in events {
        let status = if on { 0x90 } else { 0x80 };
        track.message(u64::from(t) - track.ticks(), &[status | channel, key, vel]);
    }
    track.end();
    Smf::new(Format::Single, TPQ)
        .with_tracks([track])
        .to_bytes()
        .context("writing the generated song")
}

/// The generated song as kmidi's player loads it.
pub fn score(length: Duration) -> Result<Score> {
    let bytes = smf_bytes(length)?;
    let name = "bench_song.mid";
    Score::parse(name, Path::new(name), &bytes).context("loading the generated song")
}

/// `n` short notes, one every `interval`: a steady stream for latency benchmarks.
pub fn pulse(n: usize, interval: Duration) -> Score {
    let events = (0..n)
        .map(|i| {
            let on = i % 2 == 0;
            let key = 60 + (i / 2 % 24) as u8;
            let bytes = if on { [0x90, key, 100] } else { [0x80, key, 0] };
            ScoreEvent {
                at: interval * i as u32,
                delta: if i == 0 { 0.0 } else { interval.as_secs_f64() },
                message: ChannelMessage::from_bytes(&bytes).expect("a note is a channel message"),
            }
        })
        .collect();
    Score {
        name: "bench_song.mid".to_string(),
        path: "bench_song.mid".into(),
        events,
    }
}

/// Writes the generated song to `path`, for the real `kmidi player`.
pub fn write(path: &Path, length: Duration) -> Result<()> {
    std::fs::write(path, smf_bytes(length)?).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_song_lasts_as_asked_and_is_busy() {
        let s = score(Duration::from_secs(10)).unwrap();
        let d = s.duration().as_secs_f64();
        assert!((9.0..11.0).contains(&d), "{d}");
        assert!(s.events.len() > 100, "{}", s.events.len());
        assert!(s.events.iter().any(|e| e.delta == 0.0), "no chords");
    }
}
