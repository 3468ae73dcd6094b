//! The real sound path, headless: player -> Kafka 4.x -> instrument -> JACK MIDI ->
//! FluidSynth -> JACK audio -> a captured `.wav`.
//!
//! Needs a running JACK server with FluidSynth on it (ports `fluidsynth:midi_00`,
//! `fluidsynth:left`, `fluidsynth:right`) and `jack_lsp`, `jack_connect` and
//! `jack_capture` on the PATH. `scripts/test-sound.sh` sets all that up on a private
//! JACK server and runs this file:
//!
//! ```text
//! bash scripts/test-sound.sh
//! ```
//!
//! Alongside FluidSynth the test listens on the instrument's JACK port with its own
//! MIDI monitor (a virtual JACK input), so it checks both what was sent to the
//! synthesizer, byte for byte, and that the synthesizer actually made a sound.
#![cfg(feature = "jack")]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{kmidi, recorded_bytes, run, score_bytes, stderr, wait_bounded, Broker};
use midir::os::unix::VirtualInput;
use midir::{Ignore, MidiInput, MidiInputConnection};

const SONG: &str = "songs/ode_to_joy.mid";
/// Half the score's durations: ode_to_joy's 19.1 s play in about 9.6 s.
const SPEED: f64 = 0.5;
/// Seconds of audio to capture: the song plus the player's start-up and a release tail.
const CAPTURE_SECONDS: u32 = 16;
/// The instrument stops this long after the last note.
const IDLE_EXIT_SECONDS: u32 = 4;
/// What FluidSynth offers kmidi, and what it plays.
const SYNTH_MIDI_IN: &str = "fluidsynth:midi_00";
const SYNTH_AUDIO: [&str; 2] = ["fluidsynth:left", "fluidsynth:right"];

fn broker() -> &'static Broker {
    Broker::shared(&kmidi_test_support::kafka_version("4"))
}

/// `jack_lsp` with `args`, one line per entry; empty if the server does not answer.
fn jack_lsp(args: &[&str]) -> Vec<String> {
    Command::new("jack_lsp")
        .args(args)
        .stderr(Stdio::null())
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The first JACK port `wanted` accepts, polling until `limit` passes.
fn wait_for_port(what: &str, limit: Duration, wanted: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        if let Some(port) = jack_lsp(&[]).into_iter().find(|p| wanted(p)) {
            return port;
        }
        assert!(
            started.elapsed() < limit,
            "no JACK port for {what} after {limit:?}; ports: {:?}",
            jack_lsp(&[])
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The ports `port` is connected to, from `jack_lsp -c` (whose connection lines are
/// indented under the port they belong to).
fn connections_of(port: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut inside = false;
    for line in jack_lsp(&["-c"]) {
        if let Some(peer) = line.strip_prefix("   ") {
            if inside {
                found.push(peer.trim().to_string());
            }
        } else {
            inside = line.trim() == port;
        }
    }
    found
}

fn wait_until_connected(from: &str, to_prefix: &str, limit: Duration) {
    let started = Instant::now();
    while !connections_of(from)
        .iter()
        .any(|p| p.starts_with(to_prefix))
    {
        assert!(
            started.elapsed() < limit,
            "{from} is not connected to {to_prefix}* after {limit:?}; it is connected to {:?}",
            connections_of(from)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn jack_connect(from: &str, to: &str) {
    let out = Command::new("jack_connect")
        .args([from, to])
        .output()
        .expect("jack_connect runs");
    assert!(
        out.status.success(),
        "jack_connect '{from}' '{to}' failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the monitor heard: (arrival since the monitor opened, message bytes).
type Heard = Arc<Mutex<Vec<(Duration, Vec<u8>)>>>;

/// A MIDI monitor in this process: a virtual JACK input port collecting every message.
struct Monitor {
    /// The port's full JACK name, to connect the instrument to.
    port: String,
    heard: Heard,
    connection: MidiInputConnection<()>,
}

impl Monitor {
    fn open() -> Monitor {
        let client = format!("kmidi-monitor-{}", std::process::id());
        let mut input = MidiInput::new(&client).unwrap_or_else(|e| {
            panic!("{e}: is a JACK server running? (bash scripts/test-sound.sh starts one)")
        });
        input.ignore(Ignore::None);
        let heard: Heard = Arc::default();
        let sink = Arc::clone(&heard);
        let opened = Instant::now();
        let connection = input
            .create_virtual(
                "in",
                move |_stamp, bytes, _| {
                    if let Ok(mut heard) = sink.lock() {
                        heard.push((opened.elapsed(), bytes.to_vec()));
                    }
                },
                (),
            )
            .unwrap_or_else(|e| panic!("cannot open the monitor's JACK port: {e}"));
        // JACK renames a client whose name is taken, so look the port up.
        let port = wait_for_port("the monitor", Duration::from_secs(5), |p| {
            p.starts_with(&client) && p.ends_with(":in")
        });
        Monitor {
            port,
            heard,
            connection,
        }
    }

    /// Closes the port and returns what it heard, in order.
    fn close(self) -> Vec<(Duration, Vec<u8>)> {
        self.connection.close();
        let heard = self
            .heard
            .lock()
            .expect("the monitor callback never panics");
        heard.clone()
    }
}

/// Kills a child left running when a test fails half-way.
struct Reaper(Option<Child>);

impl Reaper {
    fn take(&mut self) -> Child {
        self.0.take().expect("the child is taken once")
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A message sent only to silence the synthesizer: sustain off, all sound off, reset
/// all controllers or all notes off, on any channel.
fn is_silencing(bytes: &[u8]) -> bool {
    matches!(bytes, [status, 64 | 120 | 121 | 123, 0] if status & 0xF0 == 0xB0)
}

#[test]
fn instrument_plays_every_note_to_fluidsynth_over_jack() {
    // The synthesizer must be there before anything else is started.
    wait_for_port("FluidSynth's MIDI input", Duration::from_secs(10), |p| {
        p == SYNTH_MIDI_IN
    });
    let broker = broker();
    let topic = broker.unique("sound");
    broker.create_topic(&topic, 1);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("played.mid");
    let wav = dir.path().join("captured.wav");
    let monitor = Monitor::open();

    let mut instrument = Reaper(Some(
        kmidi()
            .args(["instrument", "-q", "-b", &broker.bootstrap, "-t", &topic])
            .args(["-g", &format!("g-{topic}"), "--from", "earliest"])
            .args(["--port", "fluidsynth", "--record"])
            .arg(&record)
            .args(["--idle-exit", &IDLE_EXIT_SECONDS.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kmidi instrument starts"),
    ));
    // The instrument is JACK client "kmidi" (or "kmidi-01" if that name is taken).
    let kmidi_out = wait_for_port("the instrument", Duration::from_secs(30), |p| {
        p.starts_with("kmidi") && p.ends_with(":kmidi out")
    });
    wait_until_connected(&kmidi_out, SYNTH_MIDI_IN, Duration::from_secs(5));
    jack_connect(&kmidi_out, &monitor.port);
    wait_until_connected(&kmidi_out, &monitor.port, Duration::from_secs(5));

    let mut capture = Reaper(Some(
        Command::new("jack_capture")
            .args([
                "-d",
                &CAPTURE_SECONDS.to_string(),
                "-b",
                "16",
                "-f",
                "wav",
                "-dc",
            ])
            .args(["-p", SYNTH_AUDIO[0], "-p", SYNTH_AUDIO[1]])
            .arg(&wav)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("jack_capture starts"),
    ));
    // Recording starts once the capture client is wired to FluidSynth.
    for port in SYNTH_AUDIO {
        wait_until_connected(port, "jack_capture", Duration::from_secs(10));
    }

    let player = run(kmidi()
        .args([
            "player",
            "-q",
            "-b",
            &broker.bootstrap,
            "-t",
            &topic,
            "-m",
            SONG,
        ])
        .args(["-s", &SPEED.to_string()]));
    assert!(
        player.status.success(),
        "player failed: {}",
        stderr(&player)
    );

    let instrument = wait_bounded(instrument.take(), Duration::from_secs(60));
    let capture = wait_bounded(
        capture.take(),
        Duration::from_secs(u64::from(CAPTURE_SECONDS) + 20),
    );
    let heard = monitor.close();

    // (c) The instrument finished cleanly, playing to FluidSynth's port.
    let said = stderr(&instrument);
    assert_eq!(
        instrument.status.code(),
        Some(0),
        "instrument failed: {said}"
    );
    assert!(
        said.contains(SYNTH_MIDI_IN),
        "the instrument should name the port it plays to: {said}"
    );

    // (a) FluidSynth was sent the score, in order, then the silencing messages.
    let score = score_bytes(&common::repo().join(SONG));
    let silence: Vec<Vec<u8>> = kmidi_midi::message::silence_all_channels()
        .iter()
        .map(|m| m.bytes().to_vec())
        .collect();
    let bytes: Vec<Vec<u8>> = heard.iter().map(|(_, b)| b.clone()).collect();
    assert!(
        bytes.len() >= score.len() + silence.len(),
        "the monitor heard {} message(s); the score has {} and the silencing {}",
        bytes.len(),
        score.len(),
        silence.len()
    );
    let (notes, rest) = bytes.split_at(score.len());
    if let Some(i) = (0..score.len()).find(|&i| notes[i] != score[i]) {
        let around = i.saturating_sub(2)..(i + 3).min(score.len());
        panic!(
            "message {i} of {} differs: heard {:02X?}, the score has {:02X?} \
             (messages {around:?} heard {:02X?}, in the score {:02X?})",
            score.len(),
            notes[i],
            score[i],
            &notes[around.clone()],
            &score[around.clone()]
        );
    }
    let (silencing, after) = rest.split_at(silence.len());
    assert_eq!(
        silencing,
        silence.as_slice(),
        "the instrument silences every channel"
    );
    // The port sink sends its own notes-off when it closes: nothing else may follow.
    assert!(
        after.iter().all(|b| is_silencing(b)),
        "only silencing messages may follow the score: {after:02X?}"
    );
    // ... each when the score says. The first notes may come late in a burst while the
    // instrument's consumer is still joining its group, so the timing is measured
    // backwards from the last note, over the second half of the song.
    let at = score_offsets(&common::repo().join(SONG));
    let last = score.len() - 1;
    let onset_error = |i: usize| {
        let heard_before_last = (heard[last].0 - heard[i].0).as_secs_f64();
        let scheduled_before_last = (at[last] - at[i]).as_secs_f64() * SPEED;
        scheduled_before_last - heard_before_last
    };
    let worst = (score.len() / 2..score.len())
        .map(onset_error)
        .fold(0f64, |w, e| if e.abs() > w.abs() { e } else { w });
    assert!(
        worst.abs() < 0.15,
        "a note of the second half arrived {:.0} ms off the score (relative to the last note)",
        worst * 1000.0
    );
    let span = heard[last].0 - heard[0].0;
    let scheduled = (at[last] - at[0]).mul_f64(SPEED);
    // The file sink saw the same thing as the port.
    assert_eq!(
        recorded_bytes(&record),
        score,
        "--record and the port disagree"
    );

    // (b) FluidSynth made a sound, captured for as long as asked.
    assert!(
        capture.status.success(),
        "jack_capture failed: {}",
        stderr(&capture)
    );
    let summary = kmidi_midi::sink::wav_summary(&wav).expect("jack_capture wrote a .wav");
    eprintln!(
        "monitor heard {} message(s) ({} of the score + {} silencing) over {:.2} s \
         (scheduled {:.2} s; worst onset error in the second half {:+.1} ms); \
         wav {:.2} s, {} Hz, {} channel(s), peak {:.3} ({:.1} dBFS)",
        bytes.len(),
        score.len(),
        bytes.len() - score.len(),
        span.as_secs_f64(),
        scheduled.as_secs_f64(),
        worst * 1000.0,
        summary.seconds(),
        summary.sample_rate,
        summary.channels,
        summary.peak,
        summary.peak_dbfs()
    );
    assert_eq!(summary.channels, 2, "left and right were captured");
    let length = summary.seconds();
    assert!(
        (length - f64::from(CAPTURE_SECONDS)).abs() < 0.5,
        "captured {length:.2} s, asked for {CAPTURE_SECONDS} s"
    );
    assert!(
        length > scheduled.as_secs_f64(),
        "the capture ({length:.2} s) is shorter than the song ({scheduled:?})"
    );
    assert!(
        summary.peak > 0.01,
        "FluidSynth stayed silent: peak {} ({:.1} dBFS)",
        summary.peak,
        summary.peak_dbfs()
    );
}

/// When each of the score's messages is due, from song start at speed 1.0.
fn score_offsets(song: &Path) -> Vec<Duration> {
    kmidi_midi::score::Score::load(song)
        .expect("bundled song loads")
        .events
        .iter()
        .map(|e| e.at)
        .collect()
}
