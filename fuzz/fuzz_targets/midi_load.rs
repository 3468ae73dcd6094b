//! `Score::parse` on arbitrary bytes, as `kmidi player -m` does with any file it is
//! given: never panics, and what it accepts is a playable score (times in order and
//! within the loader's limits, every message a valid channel message).
#![no_main]

use std::path::Path;

use kmidi_midi::message::ChannelMessage;
use kmidi_midi::score::{Score, MAX_DURATION};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(score) = Score::parse("fuzz.mid", Path::new(""), data) else {
        return;
    };
    assert!(!score.events.is_empty());
    let duration = score.duration();
    assert!(duration <= MAX_DURATION);
    let mut previous = std::time::Duration::ZERO;
    for e in &score.events {
        assert!(e.at >= previous, "events out of order");
        previous = e.at;
        assert!(e.delta.is_finite() && e.delta >= 0.0);
        assert_eq!(ChannelMessage::from_bytes(e.message.bytes()), Ok(e.message));
    }
    let notes = score.notes_only();
    assert!(notes.events.iter().all(|e| e.message.is_note()));
    assert!(notes.duration() <= duration);
});
