use midly::num::{u15, u24, u28, u4, u7};
use midly::{Header, MetaMessage, MidiMessage, Timing, TrackEvent, TrackEventKind};

use super::*;

fn varlen(value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    write_varlen(&mut out, value);
    out
}

#[test]
fn deltas_are_variable_length_quantities() {
    assert_eq!(varlen(0), [0x00]);
    assert_eq!(varlen(0x7F), [0x7F]);
    assert_eq!(varlen(0x80), [0x81, 0x00]);
    assert_eq!(varlen(0x3FFF), [0xFF, 0x7F]);
    assert_eq!(varlen(MAX_DELTA), [0xFF, 0xFF, 0xFF, 0x7F]);
}

/// The writer was checked against midly's, which wrote every file before it.
#[test]
fn the_bytes_are_midlys_for_the_same_events() {
    let mut ours = Track::new();
    ours.meta(0, meta::TRACK_NAME, b"name")
        .tempo(0, 500_000)
        .message(0, &[0x90, 60, 100])
        .message(96, &[0x90, 62, 100])
        .message(0, &[0x80, 60, 0])
        .message(5, &[0xC1, 7])
        .message(200, &[0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7])
        .message(0, &[0xF8])
        .message(0, &[0x80, 62, 0])
        .end();
    let note = |delta: u32, channel: u8, message| TrackEvent {
        delta: u28::new(delta),
        kind: TrackEventKind::Midi {
            channel: u4::new(channel),
            message,
        },
    };
    let (k60, k62, v100, v0) = (u7::new(60), u7::new(62), u7::new(100), u7::new(0));
    let meta = |delta: u32, m| TrackEvent {
        delta: u28::new(delta),
        kind: TrackEventKind::Meta(m),
    };
    let theirs = vec![
        meta(0, MetaMessage::TrackName(b"name")),
        meta(0, MetaMessage::Tempo(u24::new(500_000))),
        note(
            0,
            0,
            MidiMessage::NoteOn {
                key: k60,
                vel: v100,
            },
        ),
        note(
            96,
            0,
            MidiMessage::NoteOn {
                key: k62,
                vel: v100,
            },
        ),
        note(0, 0, MidiMessage::NoteOff { key: k60, vel: v0 }),
        note(
            5,
            1,
            MidiMessage::ProgramChange {
                program: u7::new(7),
            },
        ),
        TrackEvent {
            delta: u28::new(200),
            kind: TrackEventKind::SysEx(&[0x7E, 0x7F, 0x09, 0x01, 0xF7]),
        },
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Escape(&[0xF8]),
        },
        note(0, 0, MidiMessage::NoteOff { key: k62, vel: v0 }),
        meta(0, MetaMessage::EndOfTrack),
    ];
    let mut second = Track::new();
    second.message(3, &[0xB0, 64, 127]).end();
    let second_theirs = vec![
        note(
            3,
            0,
            MidiMessage::Controller {
                controller: u7::new(64),
                value: u7::new(127),
            },
        ),
        meta(0, MetaMessage::EndOfTrack),
    ];

    let bytes = Smf::new(Format::Parallel, 480)
        .with_tracks([ours, second])
        .to_bytes()
        .unwrap();
    let smf = midly::Smf {
        header: Header::new(midly::Format::Parallel, Timing::Metrical(u15::new(480))),
        tracks: vec![theirs, second_theirs],
    };
    let mut expected = Vec::new();
    smf.write_std(&mut expected).unwrap();
    assert_eq!(bytes, expected);
}

#[test]
fn huge_gaps_are_split_into_legal_deltas() {
    let mut track = Track::new();
    track.message(2 * MAX_DELTA + 5, &[0x90, 60, 1]).end();
    assert_eq!(track.ticks(), 2 * MAX_DELTA + 5);
    let bytes = Smf::new(Format::Single, 96)
        .with_tracks([track])
        .to_bytes()
        .unwrap();
    let smf = midly::Smf::parse(&bytes).unwrap();
    let events = &smf.tracks[0];
    assert_eq!(events.len(), 4, "{events:?}");
    let total: u64 = events.iter().map(|e| u64::from(e.delta.as_int())).sum();
    assert_eq!(total, 2 * MAX_DELTA + 5);
    assert_eq!(events[0].kind, TrackEventKind::Meta(MetaMessage::Text(b"")));
    assert!(matches!(events[2].kind, TrackEventKind::Midi { .. }));
}

#[test]
fn smpte_timing_is_the_negated_rate_and_the_ticks_per_frame() {
    let bytes = Smf::smpte(Format::Single, 25, 40).to_bytes().unwrap();
    assert_eq!(&bytes[12..14], &[0xE7, 0x28]);
    assert_eq!(&bytes[..12], b"MThd\0\0\0\x06\0\0\0\0");
}

#[test]
fn more_tracks_than_the_header_can_count_are_refused() {
    let smf = Smf::new(Format::Parallel, 96).with_tracks(vec![Track::new(); 65_536]);
    let err = smf.to_bytes().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}
