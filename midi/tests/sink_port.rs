//! `PortSink` against the MIDI system of the machine running the tests. On a
//! headless box (no `/dev/snd/seq`, no JACK server) opening a port must fail with
//! advice, not a panic; where ports do exist the test has nothing to check.

use kmidi_midi::sink::{list_output_ports, PortSink, SinkError};

#[test]
fn without_a_midi_system_open_explains_how_to_get_sound() {
    match list_output_ports() {
        Ok(ports) if !ports.is_empty() => {
            println!("skipped: this machine has MIDI output ports: {ports:?}");
            return;
        }
        _ => {}
    }
    let err = PortSink::open("fluid")
        .err()
        .expect("no port can be opened");
    let text = err.to_string();
    match err {
        SinkError::NoMidiSystem => {
            assert!(
                text.contains("FluidSynth") || text.contains("fluidsynth"),
                "{text}"
            );
            assert!(
                text.contains("--record") && text.contains("--render"),
                "{text}"
            );
        }
        SinkError::NoMatchingPort { available, .. } => {
            assert!(available.is_empty());
            assert!(text.contains("--record"), "{text}");
        }
        other => panic!("unexpected error: {other:?}"),
    }
}

#[test]
fn a_missing_port_is_named_in_the_error() {
    let wanted = "no-such-port-kmidi-test";
    match PortSink::open(wanted) {
        Err(SinkError::NoMidiSystem) => println!("skipped: no MIDI system here"),
        Err(e @ SinkError::NoMatchingPort { .. }) => assert!(e.to_string().contains(wanted)),
        Err(other) => panic!("unexpected error: {other:?}"),
        Ok(sink) => panic!("matched a port: {}", sink.port_name()),
    }
}

/// Plays into a virtual input port this test opens itself, so it checks real
/// delivery wherever a MIDI system runs (JACK server up with `--features jack`, or
/// an ALSA sequencer) and skips elsewhere.
#[test]
fn messages_sent_to_a_port_arrive_in_order_and_finish_silences_every_channel() {
    use std::sync::mpsc;
    use std::time::Duration;

    use kmidi_midi::sink::Sink;
    use midir::os::unix::VirtualInput;

    let Ok(input) = midir::MidiInput::new("kmidi-sink-test") else {
        println!("skipped: no MIDI system here");
        return;
    };
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let _listening = match input.create_virtual(
        "in",
        move |_, bytes, _| {
            let _ = tx.send(bytes.to_vec());
        },
        (),
    ) {
        Ok(c) => c,
        Err(e) => panic!("cannot create a virtual input port: {e}"),
    };
    let mut sink = PortSink::open("KMIDI-SINK-TEST").expect("our virtual port is listed");
    assert!(
        sink.describe().contains("kmidi-sink-test"),
        "{}",
        sink.describe()
    );

    let played: [&[u8]; 3] = [&[0xC0, 0x05], &[0x90, 0x3C, 0x64], &[0x80, 0x3C, 0x00]];
    for bytes in played {
        sink.send(bytes, Duration::ZERO).expect("send");
    }
    assert!(sink.send(&[0x90, 0x3C], Duration::ZERO).is_err());
    sink.finish().expect("finish");

    let mut got = Vec::new();
    while let Ok(bytes) = rx.recv_timeout(Duration::from_secs(2)) {
        got.push(bytes);
        if got.len() == played.len() + 32 {
            break;
        }
    }
    assert_eq!(got.len(), played.len() + 32, "{got:02X?}");
    for (got, want) in got.iter().zip(played) {
        assert_eq!(got.as_slice(), want);
    }
    for channel in 0..16u8 {
        assert!(
            got.contains(&vec![0xB0 | channel, 123, 0]),
            "channel {channel} not silenced"
        );
    }
}
