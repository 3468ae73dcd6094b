//! Benchmark 7, what the synthesizer adds: the hi-hat song of
//! `kmidi_test_instruments::clicks` played at known times, its onsets found in the audio
//! (`kmidi_test_instruments::onset`), and p50/p99/max of (audio onset − the time kmidi
//! played the note), anchored on the promptest note (the audio's own clock starts at an
//! unknown instant).
//!
//! Two paths, each before and after kmidi schedules events itself:
//! - `--render`: rustysynth in process, one synthesizer in 8-sample blocks (how kmidi
//!   rendered before) against the phased bank (note-ons on their own sample), at
//!   arrival times with sub-millisecond parts, as real arrivals have;
//! - JACK (a `--features jack` build, with `--jack`): FluidSynth on the running JACK
//!   server, the notes sent at their times by kmidi's precise sleep through midir's
//!   port (every event at frame 0 of the next period) and through kmidi's JACK sink
//!   (each at its arrival's frame, one period later), the audio captured with
//!   `jack_capture`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use kmidi_midi::sink::{find_soundfont, Sink, WavRenderer};
use kmidi_test_instruments::clicks;
use kmidi_test_instruments::onset::{compare_wav, Comparison, Detector, Spread};

use crate::report::{Row, Section, Verdict};

pub struct Options {
    pub notes: usize,
    pub jack: bool,
    pub dir: std::path::PathBuf,
    pub command: String,
}

const TOLERANCE: Duration = Duration::from_millis(30);

pub fn run(o: &Options) -> Result<Section> {
    std::fs::create_dir_all(&o.dir).with_context(|| format!("creating {}", o.dir.display()))?;
    let mut section = Section::new(
        "7. What the synthesizer adds: audio onset − the moment kmidi played the note",
        &format!(
            "{} closed hi-hats (General MIDI drum key 42, one velocity) at irregular gaps of \
             45–190 ms; onsets found in the audio to the sample (threshold, then \
             cross-correlation with the first note); figures are audio onset − play time, \
             minus the smallest such difference (the audio's clock starts at an unknown \
             instant), so 0 everywhere is perfect.",
            o.notes
        ),
        "the same notes through the way kmidi did it before, in the same run",
        &o.command,
    );
    let font =
        find_soundfont().context("no SoundFont installed (apt install timgm6mb-soundfont)")?;
    let arrivals: Vec<Duration> = clicks::onsets(o.notes)
        .into_iter()
        .enumerate()
        .map(|(i, at)| at + Duration::from_micros(100 + (i as u64 * 379) % 1000))
        .collect();
    let (before, before_took) =
        render(&o.dir.join("render-block8.wav"), &font, &arrivals, Some(8))?;
    let (after, after_took) = render(&o.dir.join("render-exact.wav"), &font, &arrivals, None)?;
    push(
        &mut section,
        "`--render` (rustysynth)",
        "max ≤ 1 sample (22.7 µs)",
        &before,
        &after,
        after.max_us <= 1e6 / 44_100.0 + 1.0,
    );
    section.notes.push(format!(
        "Rendering {:.1} s of audio took {:.2} s in 8-sample blocks and {:.2} s with the phased \
         bank (8 synthesizers, each paying for reverb and chorus).",
        arrivals.last().map_or(0.0, |a| a.as_secs_f64() + 1.5),
        before_took.as_secs_f64(),
        after_took.as_secs_f64()
    ));
    if o.jack {
        jack_rows(o, &mut section)?;
    }
    Ok(section)
}

fn push(
    section: &mut Section,
    path: &str,
    target: &str,
    before: &Spread,
    after: &Spread,
    met: bool,
) {
    section.rows.push(
        Row::new(format!("{path}: p50 / p99 / max"), target)
            .measured(format!("after: {}", spread(after)))
            .reference(format!("before: {}", spread(before)))
            .verdict(Verdict::check(met)),
    );
}

fn spread(s: &Spread) -> String {
    format!(
        "{:.3} / {:.3} / {:.3} ms ({} notes)",
        s.p50_us / 1e3,
        s.p99_us / 1e3,
        s.max_us / 1e3,
        s.count
    )
}

fn checked(c: Comparison, what: &str) -> Result<Spread> {
    anyhow::ensure!(
        c.missing.is_empty(),
        "{what}: notes {:?} were not found in the audio",
        c.missing
    );
    Ok(c.spread())
}

fn render(
    wav: &Path,
    font: &Path,
    arrivals: &[Duration],
    block: Option<usize>,
) -> Result<(Spread, Duration)> {
    let mut sink = WavRenderer::new(wav, font)?;
    if let Some(b) = block {
        sink = sink.with_block_size(b);
    }
    for &at in arrivals {
        sink.send(&clicks::note_on(), at)?;
        sink.send(&clicks::note_off(), at + Duration::from_millis(30))?;
    }
    let started = Instant::now();
    sink.finish()?;
    let took = started.elapsed();
    let c = compare_wav(wav, arrivals, &Detector::default(), TOLERANCE)?;
    Ok((checked(c, &wav.display().to_string())?, took))
}

#[cfg(not(feature = "jack"))]
fn jack_rows(_: &Options, _: &mut Section) -> Result<()> {
    anyhow::bail!("--jack needs a JACK build: cargo build -p kmidi-bench --features jack")
}

#[cfg(feature = "jack")]
fn jack_rows(o: &Options, section: &mut Section) -> Result<()> {
    use kmidi_midi::sink::jack::JackSink;
    use kmidi_midi::sink::PortSink;
    let before = jack::play(&o.dir.join("jack-midir.wav"), o.notes, || {
        Ok(Box::new(PortSink::open("fluidsynth")?))
    })?;
    let sink = JackSink::open("fluidsynth")?;
    let period = sink.latency();
    drop(sink);
    let after = jack::play(&o.dir.join("jack-stamped.wav"), o.notes, || {
        Ok(Box::new(JackSink::open("fluidsynth")?))
    })?;
    push(
        section,
        &format!(
            "JACK → FluidSynth, period {:.2} ms",
            period.as_secs_f64() * 1e3
        ),
        "max ≤ one period",
        &before,
        &after,
        after.max_us <= period.as_secs_f64() * 1e6 + 200.0,
    );
    section.notes.push(format!(
        "JACK before: midir writes every message at frame 0 of the next period; after: \
         kmidi's JACK sink writes each at its arrival's frame, one period later. FluidSynth \
         2.3 applies all of a period's MIDI events before it synthesizes the period \
         (`fluid_jack_driver_process` ignores the event's frame), so with FluidSynth both \
         sound on a period boundary and the spread stays one period ({:.1} ms): what \
         shrinks it is a smaller period (`jackd -p 64`: 1.45 ms). The sink keeps every \
         message one period after its arrival for synthesizers that honour the frame.",
        period.as_secs_f64() * 1e3
    ));
    section.notes.push(
        "JACK runs the dummy driver without realtime scheduling on a shared 2-core machine: \
         its audio clock drifts from the wall clock when a period is late, which shows as \
         outliers in both columns (at -p 64 it lost whole periods, so only 256 is measured)."
            .to_string(),
    );
    Ok(())
}

#[cfg(feature = "jack")]
mod jack {
    use super::*;
    use std::process::{Command, Stdio};

    /// Plays the song to FluidSynth through the sink `open` makes, capturing its audio.
    pub fn play(
        wav: &Path,
        notes: usize,
        open: impl Fn() -> Result<Box<dyn Sink>>,
    ) -> Result<Spread> {
        let score = clicks::onsets(notes);
        let seconds = score.last().map_or(0.0, Duration::as_secs_f64) + 3.0;
        let mut sink = open()?;
        let mut capture = Command::new("jack_capture")
            .args([
                "-d",
                &format!("{}", seconds.ceil() as u64),
                "-b",
                "16",
                "-f",
                "wav",
                "-dc",
            ])
            .args(["-p", "fluidsynth:left", "-p", "fluidsynth:right"])
            .arg(wav)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting jack_capture (apt install jack-capture)")?;
        // jack_capture records from when it is connected; a second is plenty.
        std::thread::sleep(Duration::from_secs(1));
        let start = Instant::now() + Duration::from_millis(200);
        let mut played = Vec::with_capacity(notes);
        for (i, at) in score.iter().enumerate() {
            kmidi_midi::schedule::sleep_until(start + *at);
            let now = start.elapsed();
            // The previous strike's note-off goes just before this one (the gaps are
            // 45 ms or more): one message in flight per deadline.
            if i > 0 {
                sink.send(&clicks::note_off(), now)?;
            }
            sink.send(&clicks::note_on(), now)?;
            played.push(now);
        }
        sink.send(&clicks::note_off(), start.elapsed())?;
        let status = capture.wait().context("waiting for jack_capture")?;
        anyhow::ensure!(status.success(), "jack_capture failed: {status}");
        sink.finish()?;
        let c = compare_wav(wav, &played, &Detector::default(), TOLERANCE)?;
        checked(c, &wav.display().to_string())
    }
}
