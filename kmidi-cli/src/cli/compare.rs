//! `kmidi compare`'s arguments: two transports, one song, one cluster.

use std::time::Duration;

use clap::Args;

use super::shared::{self, ClientArgs, MetricsArgs, PluginDirArgs, QuietArgs, SongArgs, SpeedArgs};
use super::OutputArgs;

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Transport for side A (left): a built-in name, a plugin name or a .so path.
    #[arg(long = "a", value_name = "TRANSPORT")]
    pub a: String,

    /// Transport for side B (right).
    #[arg(long = "b", value_name = "TRANSPORT")]
    pub b: String,

    #[command(flatten)]
    pub song: SongArgs,

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

    /// Client properties for both sides; --xa and --xb win over them.
    #[command(flatten)]
    pub client: ClientArgs,

    /// Client property for side A only, repeatable.
    #[arg(long = "xa", value_name = "KEY=VALUE")]
    pub props_a: Vec<String>,

    /// Client property for side B only, repeatable.
    #[arg(long = "xb", value_name = "KEY=VALUE")]
    pub props_b: Vec<String>,

    /// Seconds to wait for the cluster before giving up with an error.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = shared::seconds)]
    pub connect_timeout: Duration,

    #[command(flatten)]
    pub plugins: PluginDirArgs,

    #[command(flatten)]
    pub metrics: MetricsArgs,

    #[command(flatten)]
    pub quiet: QuietArgs,
}
