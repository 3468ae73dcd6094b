//! `MidRecorder` end to end: what is sent is what a reader of the `.mid` file gets
//! back, at the times it arrived.

use std::time::Duration;

use kmidi_midi::sink::record::TICK_MICROS;
use kmidi_midi::sink::{read_recording, MidRecorder, Sink, SinkError};

fn played() -> Vec<(Duration, Vec<u8>)> {
    vec![
        (Duration::from_micros(0), vec![0xC0, 0x00]),
        (Duration::from_micros(1_234), vec![0x90, 0x3C, 0x64]),
        (Duration::from_micros(1_234), vec![0x91, 0x40, 0x50]),
        (Duration::from_micros(250_017), vec![0x80, 0x3C, 0x00]),
        (Duration::from_micros(250_500), vec![0xE0, 0x00, 0x40]),
        (
            Duration::from_millis(400),
            vec![0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7],
        ),
        (Duration::from_millis(401), vec![0xF8]),
        (Duration::from_secs(7_203), vec![0x81, 0x40, 0x00]),
    ]
}

#[test]
fn recording_reads_back_the_same_bytes_at_the_same_times() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.mid");
    let mut rec = MidRecorder::new(&path);
    for (at, bytes) in played() {
        rec.send(&bytes, at).expect("send");
    }
    assert!(!path.exists(), "nothing is written before finish()");
    rec.finish().expect("finish");

    let back = read_recording(&path).expect("read back");
    assert_eq!(back.len(), played().len());
    let half_tick = Duration::from_micros(TICK_MICROS / 2 + 1);
    for ((at, bytes), (want_at, want_bytes)) in back.iter().zip(played()) {
        assert_eq!(bytes, &want_bytes);
        let diff = (*at).max(want_at) - (*at).min(want_at);
        assert!(diff <= half_tick, "{bytes:02X?}: {at:?} vs {want_at:?}");
    }
}

#[test]
fn recording_is_format_0_with_one_track_ending_in_end_of_track() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.mid");
    let mut rec = MidRecorder::new(&path);
    rec.send(&[0x90, 0x3C, 0x64], Duration::from_millis(5))
        .expect("send");
    rec.finish().expect("finish");

    let data = std::fs::read(&path).expect("read");
    let smf = midly::Smf::parse(&data).expect("parse");
    assert_eq!(smf.header.format, midly::Format::SingleTrack);
    assert_eq!(smf.tracks.len(), 1);
    let last = smf.tracks[0].last().expect("events");
    assert_eq!(
        last.kind,
        midly::TrackEventKind::Meta(midly::MetaMessage::EndOfTrack)
    );
}

#[test]
fn messages_sent_out_of_order_are_written_in_time_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.mid");
    let mut rec = MidRecorder::new(&path);
    rec.send(&[0x80, 0x3C, 0x00], Duration::from_millis(20))
        .expect("send");
    rec.send(&[0x90, 0x3C, 0x64], Duration::from_millis(10))
        .expect("send");
    rec.finish().expect("finish");
    let back = read_recording(&path).expect("read back");
    assert_eq!(back[0].1, vec![0x90, 0x3C, 0x64]);
    assert_eq!(back[1].1, vec![0x80, 0x3C, 0x00]);
    assert!(back[0].0 < back[1].0);
}

#[test]
fn a_missing_directory_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no-such-dir").join("out.mid");
    let mut rec = MidRecorder::new(&path);
    rec.send(&[0x90, 0x3C, 0x64], Duration::ZERO).expect("send");
    let err = rec.finish().expect_err("must fail");
    assert!(matches!(err, SinkError::MissingDirectory { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-dir"), "{err}");
    assert!(MidRecorder::open(&path).is_err());
    assert!(!path.exists());
}

#[test]
fn an_empty_recording_is_still_a_valid_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.mid");
    let mut rec = MidRecorder::new(&path);
    rec.finish().expect("finish");
    assert!(read_recording(&path).expect("read back").is_empty());
    assert!(rec.describe().contains("empty.mid"));
}

#[test]
fn reading_a_file_that_is_not_midi_fails_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("junk.mid");
    std::fs::write(&path, b"not a midi file").expect("write");
    let err = read_recording(&path).expect_err("must fail");
    assert!(err.to_string().contains("junk.mid"), "{err}");
}
