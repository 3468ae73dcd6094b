//! The song the audio-timing checks play: one percussive sound (General MIDI's closed
//! hi-hat on the drum channel: a sharp attack, a short decay, the same key and velocity
//! every time) at irregular, known gaps, so that a note played late cannot hide behind
//! a regular beat and [`crate::onset`] finds every onset in the audio. A hi-hat is
//! noise, not a pitch: its waveform matches itself at one lag only, which is what lets
//! the detector align onsets to the sample (claves ring at ~2 kHz and match
//! themselves one period early or late just as well).
//!
//! It is generated, deterministically, as a Standard MIDI File (for `kmidi player`)
//! and as the note-on times it holds.

use std::time::Duration;

use kmidi_midi::smf::{Format, Smf, Track};

/// General MIDI's drum channel (10, 0-based 9).
pub const CHANNEL: u8 = 9;
/// Closed hi-hat, in the General MIDI percussion map.
pub const KEY: u8 = 42;
pub const VELOCITY: u8 = 110;
/// How long each note is held; the sound itself is shorter.
const HOLD: Duration = Duration::from_millis(30);
/// Shortest and longest gap between two notes.
const GAPS_MS: (u64, u64) = (45, 190);
/// 1 ms per tick (500 000 µs per quarter / 500 ticks): gaps in whole ms are exact.
const TPQ: u16 = 500;

/// When each of `notes` hi-hat strikes, from 0: gaps of 45 to 190 ms, none the same
/// twice in a row, the same every call.
pub fn onsets(notes: usize) -> Vec<Duration> {
    let mut state: u64 = 0x6b6d_6964_6963;
    let mut at = Duration::ZERO;
    let mut out = Vec::with_capacity(notes);
    let mut last_gap = 0;
    for _ in 0..notes {
        out.push(at);
        let gap = loop {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let g = GAPS_MS.0 + (state >> 33) % (GAPS_MS.1 - GAPS_MS.0 + 1);
            if g != last_gap {
                break g;
            }
        };
        last_gap = gap;
        at += Duration::from_millis(gap);
    }
    out
}

/// The note-on bytes of every strike.
pub fn note_on() -> [u8; 3] {
    [0x90 | CHANNEL, KEY, VELOCITY]
}

/// The note-off bytes of every strike.
pub fn note_off() -> [u8; 3] {
    [0x80 | CHANNEL, KEY, 0]
}

/// The song as a single-track SMF at 120 bpm: note-on at each of [`onsets`]`(notes)`,
/// note-off 30 ms later.
///
/// # Panics
///
/// If the track would pass 4 GiB (hundreds of millions of notes).
pub fn smf_bytes(notes: usize) -> Vec<u8> {
    let mut events: Vec<(u64, bool)> = Vec::with_capacity(notes * 2);
    for at in onsets(notes) {
        let ms = at.as_millis() as u64;
        events.push((ms, true));
        events.push((ms + HOLD.as_millis() as u64, false));
    }
    // Note-offs before note-ons at the same tick, as sequencers write them.
    events.sort_by_key(|&(t, on)| (t, on));
    let mut track = Track::new();
    track.tempo(0, 500_000);
    for (t, on) in events {
        let bytes = if on { note_on() } else { note_off() };
        track.message(t - track.ticks(), &bytes);
    }
    track.end();
    Smf::new(Format::Single, TPQ)
        .with_tracks([track])
        .to_bytes()
        .expect("one track of a few thousand notes fits a file")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmidi_midi::score::Score;
    use std::path::Path;

    #[test]
    fn the_file_holds_the_onsets_and_the_gaps_are_irregular() {
        let bytes = smf_bytes(20);
        let score = Score::parse("clicks.mid", Path::new("clicks.mid"), &bytes).expect("loads");
        let ons: Vec<Duration> = score
            .events
            .iter()
            .filter(|e| e.message.is_note_on_sounding())
            .map(|e| e.at)
            .collect();
        assert_eq!(ons, onsets(20));
        let gaps: Vec<Duration> = ons.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.windows(2).all(|g| g[0] != g[1]), "{gaps:?}");
        assert!(gaps.iter().all(|g| (45..=190).contains(&g.as_millis())));
    }
}
