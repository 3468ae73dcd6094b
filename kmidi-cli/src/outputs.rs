//! What the instrument plays to: opened from `--port`, `--no-port`, `--record`,
//! `--render` and `--soundfont`, described for a command's header line, and finished
//! (files written) at the end.

use std::path::Path;

use anyhow::{Context, Result};
use kmidi_midi::sink::{find_soundfont, MidRecorder, Sink, SinkError, WavRenderer};

use crate::cli::OutputArgs;

/// The port the original kmidi played to.
pub const DEFAULT_PORT: &str = "fluidsynth";

/// The port to open: `--port`, or the default unless the user asked for files only
/// or for no port at all.
pub fn wanted_port(out: &OutputArgs) -> Option<String> {
    if out.no_port {
        return None;
    }
    match &out.port {
        Some(p) => Some(p.clone()),
        None if out.record.is_some() || out.render.is_some() => None,
        None => Some(DEFAULT_PORT.to_string()),
    }
}

/// The live port: on a JACK build, one that keeps each note's arrival inside the
/// audio period (`kmidi_midi::sink::jack`).
pub fn open_port(name: &str) -> Result<Box<dyn Sink>, SinkError> {
    kmidi_midi::sink::open_port(name)
}

/// The file sinks (`--record`, `--render`) the user asked for.
pub fn open_files(out: &OutputArgs) -> Result<Vec<Box<dyn Sink>>> {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    if let Some(path) = &out.record {
        sinks.push(Box::new(MidRecorder::open(path.clone())?));
    }
    if let Some(path) = &out.render {
        let font = match &out.soundfont {
            Some(f) => f.clone(),
            None => find_soundfont().ok_or(SinkError::NoSoundFont)?,
        };
        let renderer = WavRenderer::new(path.clone(), &font)
            .with_context(|| format!("preparing --render {}", path.display()))?;
        sinks.push(Box::new(renderer));
    }
    Ok(sinks)
}

/// Every sink the options ask for; any failure is the user's to fix, so it is fatal.
pub fn open_all(out: &OutputArgs) -> Result<Vec<Box<dyn Sink>>> {
    let mut sinks = Vec::new();
    if let Some(port) = wanted_port(out) {
        sinks.push(open_port(&port)?);
    }
    sinks.extend(open_files(out)?);
    // Measuring alone (--no-port --report) is a use of its own: an operator watching
    // the numbers on a server with no synthesizer.
    if sinks.is_empty() && out.report.is_none() && out.plot.is_none() {
        anyhow::bail!(
            "nothing to play to: give --port NAME, --record FILE.mid or --render FILE.wav \
             (or --report/--plot to measure only)"
        );
    }
    Ok(sinks)
}

/// The user's outputs if they named any; else FluidSynth if it is there; else files in
/// `dir` (`STEM.mid`, and `STEM.wav` when a soundfont is found), said out loud.
pub fn open_or_fallback(out: &OutputArgs, dir: &Path, stem: &str) -> Result<Vec<Box<dyn Sink>>> {
    if out.port.is_some() || out.record.is_some() || out.render.is_some() || out.no_port {
        return open_all(out);
    }
    match open_port(DEFAULT_PORT) {
        Ok(port) => return Ok(vec![port]),
        Err(err) => {
            // The first sentence says why; `kmidi ports` repeats the whole advice.
            let text = err.to_string();
            let why = text.split(". ").next().unwrap_or(&text);
            eprintln!(
                "no FluidSynth port ({why}); writing files instead (`kmidi ports` says how to get one)"
            );
        }
    }
    let mid = dir.join(format!("{stem}.mid"));
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(MidRecorder::open(mid)?)];
    match out.soundfont.clone().or_else(find_soundfont) {
        Some(font) => {
            let wav = dir.join(format!("{stem}.wav"));
            sinks.push(Box::new(WavRenderer::new(wav, &font)?));
        }
        None => eprintln!(
            "no SoundFont found, so no .wav: install one (`apt install timgm6mb-soundfont`) or pass --soundfont FILE.sf2"
        ),
    }
    Ok(sinks)
}

/// The sinks, for a command's header line.
pub fn describe(sinks: &[Box<dyn Sink>]) -> String {
    if sinks.is_empty() {
        return "none (measuring only)".to_string();
    }
    sinks
        .iter()
        .map(|s| s.describe())
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Finishes every sink (writing files) even if one fails; returns the first failure.
pub fn finish(sinks: &mut [Box<dyn Sink>]) -> Result<()> {
    let mut first = None;
    for sink in sinks.iter_mut() {
        let what = sink.describe();
        match sink.finish() {
            Ok(()) => eprintln!("done: {what}"),
            Err(err) => {
                eprintln!("{what}: {err}");
                first.get_or_insert(err);
            }
        }
    }
    first.map_or(Ok(()), |e| Err(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out() -> OutputArgs {
        OutputArgs {
            port: None,
            no_port: false,
            record: None,
            render: None,
            soundfont: None,
            report: None,
            plot: None,
            playout_delay: None,
        }
    }

    #[test]
    fn default_port_is_fluidsynth_unless_only_files_are_wanted() {
        assert_eq!(wanted_port(&out()).as_deref(), Some("fluidsynth"));
        let files = OutputArgs {
            record: Some("x.mid".into()),
            ..out()
        };
        assert_eq!(wanted_port(&files), None);
        let both = OutputArgs {
            port: Some("synth".into()),
            ..files
        };
        assert_eq!(wanted_port(&both).as_deref(), Some("synth"));
    }

    #[test]
    fn no_sink_at_all_is_refused() {
        let none = OutputArgs {
            no_port: true,
            ..out()
        };
        let err = open_all(&none).err().unwrap().to_string();
        assert!(err.contains("--record"), "{err}");
    }
}
