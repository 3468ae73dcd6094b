//! A MIDI monitor for checking by ear-less means what kmidi sends: opens a virtual
//! MIDI input port and prints each message it receives as one line
//! `<microseconds since start> <HEX PAIRS>` (e.g. `1503221 90 3C 64`), until killed
//! or until `--seconds N` have passed.
//!
//! Meant for a JACK build (`cargo run -p kmidi-midi --features jack --example
//! jack_monitor`), where the port appears as `kmidi-monitor:in` and is connected with
//! `jack_connect kmidi:'kmidi out' kmidi-monitor:in`. Built for ALSA it opens an ALSA
//! sequencer port of the same name instead.
//!
//! Usage: jack_monitor [--seconds N] [--client NAME] [--port NAME]

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use midir::os::unix::VirtualInput;
use midir::{Ignore, MidiInput};

struct Options {
    seconds: Option<Duration>,
    client: String,
    port: String,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        seconds: None,
        client: "kmidi-monitor".to_string(),
        port: "in".to_string(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--seconds" => {
                let text = value("--seconds")?;
                let secs: f64 = text
                    .parse()
                    .map_err(|_| format!("--seconds: '{text}' is not a number"))?;
                let secs = Duration::try_from_secs_f64(secs)
                    .map_err(|_| format!("--seconds: '{text}' must be zero or more, and finite"))?;
                options.seconds = Some(secs);
            }
            "--client" => options.client = value("--client")?,
            "--port" => options.port = value("--port")?,
            "-h" | "--help" => {
                return Err(
                    "usage: jack_monitor [--seconds N] [--client NAME] [--port NAME]".into(),
                )
            }
            other => return Err(format!("unknown argument '{other}' (try --help)")),
        }
    }
    // The JACK backend of midir panics on names with NUL bytes instead of erroring.
    if options.client.contains('\0') || options.port.contains('\0') {
        return Err("client and port names must not contain NUL bytes".into());
    }
    Ok(options)
}

fn run(options: Options) -> Result<(), String> {
    let mut input = MidiInput::new(&options.client).map_err(|e| {
        format!(
            "{e}: is the JACK server running? (headless: `jackd --no-realtime -d dummy -r 44100 &`)"
        )
    })?;
    // A monitor should show everything, including SysEx, clock and active sensing.
    input.ignore(Ignore::None);
    let start = Instant::now();
    let _connection = input
        .create_virtual(
            &options.port,
            move |_stamp, bytes, _| {
                // Arrival time by our own clock: midir's stamp is backend-specific
                // (JACK: period start; ALSA: queue time).
                let micros = start.elapsed().as_micros();
                let mut out = std::io::stdout().lock();
                // A closed stdout (e.g. `| head`) must not kill the callback thread.
                let _ = writeln!(out, "{micros} {}", kmidi_midi::sink::hex(bytes));
                let _ = out.flush();
            },
            (),
        )
        .map_err(|e| format!("cannot create port '{}': {e}", options.port))?;
    eprintln!(
        "listening on {}:{} (Ctrl-C to stop)",
        options.client, options.port
    );
    match options.seconds {
        Some(secs) => std::thread::sleep(secs),
        None => loop {
            std::thread::park();
        },
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("jack_monitor: {message}");
            ExitCode::FAILURE
        }
    }
}
