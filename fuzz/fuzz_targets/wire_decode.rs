//! What the instrument does with a record value (kmidi-engine's `listen::decode`):
//! `NoteMessage::decode`, then `ChannelMessage::from_hex` on the hex it yields. Never
//! panics, and a decoded note survives an encode/decode round trip unchanged.
#![no_main]

use kmidi_midi::message::ChannelMessage;
use kmidi_engine::wire::NoteMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(note) = NoteMessage::decode(Some(data)) else {
        return;
    };
    let encoded = note.encode();
    let again = NoteMessage::decode(Some(&encoded))
        .unwrap_or_else(|e| panic!("encode() output does not decode: {e}: {encoded:?}"));
    assert_eq!(
        again, note,
        "round trip changed the note; encoded: {encoded:?}"
    );
    // Encoding is deterministic, so a second round trip is byte-identical.
    assert_eq!(again.encode(), encoded);
    if let Ok(m) = ChannelMessage::from_hex(&note.hex) {
        assert_eq!(ChannelMessage::from_hex(&m.hex()), Ok(m));
    }
});
