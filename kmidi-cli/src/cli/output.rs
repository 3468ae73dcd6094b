//! What an instrument plays to and writes, shared by `instrument`, `demo` and
//! `compare`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::parse;

/// What the instrument plays to; shared by `instrument` and `demo`.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// MIDI output port to play to: a case-insensitive part of its name
    /// [default: fluidsynth, unless --record or --render is given]
    #[arg(long, value_name = "NAME")]
    pub port: Option<String>,

    /// Play to no MIDI port (with --record or --render).
    #[arg(long, conflicts_with = "port")]
    pub no_port: bool,

    /// Record what was played, with the real arrival times, to a Standard MIDI File.
    #[arg(long, value_name = "FILE.mid")]
    pub record: Option<PathBuf>,

    /// Synthesize what was played to a WAV file, in process (needs a .sf2 soundfont).
    #[arg(long, value_name = "FILE.wav")]
    pub render: Option<PathBuf>,

    /// SoundFont for --render [default: $KMIDI_SOUNDFONT, else Debian's or
    /// Homebrew's General MIDI font if installed].
    #[arg(long, value_name = "FILE.sf2")]
    pub soundfont: Option<PathBuf>,

    /// Write the measurements (summary, histograms, versions, settings) as JSON.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,

    /// Draw latency and onset error over the song, with the audibility band, as SVG.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,

    /// Play each note MS after where the score puts it, not when it arrives (a jitter
    /// buffer): jitter under MS is heard as exact timing; a note later than that is
    /// counted as a missed deadline, per partition.
    #[arg(long, value_name = "MS", value_parser = parse::millis, allow_negative_numbers = true)]
    pub playout_delay: Option<Duration>,
}
