//! `ChannelMessage::from_hex` on arbitrary text, and `from_bytes` on arbitrary bytes:
//! never panics, and whatever is accepted survives `hex()`/`bytes()` round trips in the
//! exact form mido writes.
#![no_main]

use kmidi_midi::message::ChannelMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = ChannelMessage::from_bytes(data) {
        assert_eq!(m.bytes(), data);
        check_round_trips(m);
    }
    let text = String::from_utf8_lossy(data);
    if let Ok(m) = ChannelMessage::from_hex(&text) {
        check_round_trips(m);
    }
});

fn check_round_trips(m: ChannelMessage) {
    let hex = m.hex();
    // mido's form: upper-case pairs separated by single spaces.
    assert_eq!(hex.len(), 3 * m.bytes().len() - 1, "{hex:?}");
    assert!(
        hex.bytes()
            .all(|b| b == b' ' || b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
        "{hex:?}"
    );
    assert_eq!(ChannelMessage::from_hex(&hex), Ok(m));
    assert_eq!(ChannelMessage::from_hex(&hex.to_lowercase()), Ok(m));
    assert_eq!(ChannelMessage::from_bytes(m.bytes()), Ok(m));
    assert!((0x80..=0xEF).contains(&m.status()));
    assert!(m.bytes()[1..].iter().all(|&d| d < 0x80));
}
