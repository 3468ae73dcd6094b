//! `kmidi compare`'s arguments: two transports, one song, one cluster.

use std::path::PathBuf;

use clap::Args;

use super::{plugin_dir, OutputArgs, SpeedArgs};

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Transport for side A (left): a built-in name, a plugin name or a .so path.
    #[arg(long = "a", value_name = "TRANSPORT")]
    pub a: String,

    /// Transport for side B (right).
    #[arg(long = "b", value_name = "TRANSPORT")]
    pub b: String,

    /// The song: a bundled song name or a MIDI file.
    #[arg(short = 'm', long = "midi-file", default_value = "bach_prelude_c.mid")]
    pub song: String,

    /// Bootstrap servers of a real cluster [default: librdkafka's in-process mock
    /// cluster].
    #[arg(short = 'b', long = "bootstrap-servers", value_name = "SERVERS")]
    pub bootstrap: Option<String>,

    /// Topic prefix: side A plays to PREFIX_a, side B to PREFIX_b (created if missing).
    #[arg(short = 't', long = "topic-prefix", default_value = "kmidi_compare")]
    pub topic_prefix: String,

    #[command(flatten)]
    pub speed: SpeedArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Play side A to its own MIDI port instead of panning (with --port-b).
    #[arg(
        long,
        value_name = "NAME",
        requires = "port_b",
        conflicts_with = "port"
    )]
    pub port_a: Option<String>,

    /// Play side B to its own MIDI port (with --port-a).
    #[arg(long, value_name = "NAME", requires = "port_a")]
    pub port_b: Option<String>,

    /// Client property for both sides, repeatable.
    #[arg(short = 'X', value_name = "KEY=VALUE")]
    pub props: Vec<String>,

    /// Client property for side A only, repeatable.
    #[arg(long = "xa", value_name = "KEY=VALUE")]
    pub props_a: Vec<String>,

    /// Client property for side B only, repeatable.
    #[arg(long = "xb", value_name = "KEY=VALUE")]
    pub props_b: Vec<String>,

    /// File of client properties for both sides, one key=value per line (as kcat -F);
    /// -X, --xa and --xb win over it.
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Seconds to wait for the cluster before giving up with an error.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub connect_timeout: f64,

    /// Directory to search for transport plugins (.so), repeatable.
    #[arg(long = "plugin-dir", value_name = "DIR", value_parser = plugin_dir)]
    pub plugin_dirs: Vec<PathBuf>,

    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
}
