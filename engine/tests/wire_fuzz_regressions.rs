//! Record values that exercise the edges of the wire decoder, kept so stable CI checks
//! them without nightly (scripts/fuzz.sh's `wire_decode` target finds new ones). Files in
//! `tests/wire_regressions/` are named for what the decoder must do: `ok-*` decode, and then
//! survive an encode/decode round trip unchanged; `err-*` are refused as bad records.
//! Either way without a panic.

use std::path::{Path, PathBuf};

use kmidi_engine::wire::NoteMessage;

fn saved_inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wire_regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_saved_record_decodes_or_is_refused_as_its_name_says() {
    let files = saved_inputs();
    assert!(!files.is_empty(), "no regression inputs found");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let decoded = std::panic::catch_unwind(|| NoteMessage::decode(Some(&bytes)))
            .unwrap_or_else(|_| panic!("{name}: the decoder panicked"));
        match decoded {
            Ok(note) => {
                assert!(
                    name.starts_with("ok-"),
                    "{name}: decoded but should be refused"
                );
                let encoded = note.encode();
                let again = NoteMessage::decode(Some(&encoded))
                    .unwrap_or_else(|e| panic!("{name}: re-encoded note refused: {e}"));
                assert_eq!(again, note, "{name}");
                assert_eq!(again.encode(), encoded, "{name}");
            }
            Err(err) => assert!(name.starts_with("err-"), "{name}: refused: {err}"),
        }
    }
}

#[test]
fn a_wrongly_typed_field_keeps_the_hex_and_drops_the_rest() {
    let note = NoteMessage::decode(Some(br#"{"hex": "90 3C 40", "channel": 300}"#)).unwrap();
    assert_eq!(note.hex, "90 3C 40");
    assert_eq!(note.channel, 0);
}
