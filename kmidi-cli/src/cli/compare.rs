//! `kmidi compare`'s arguments: two transports, one song, one cluster.

use std::time::Duration;

use clap::Args;
use kmidi_engine::churn::ChurnScript;
use kmidi_engine::perform::KeyBy;

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

    /// Name side A in the table, report and plot [default: A (TRANSPORT), plus the
    /// --xa settings that differ from B's].
    #[arg(long, value_name = "LABEL")]
    pub label_a: Option<String>,

    /// Name side B.
    #[arg(long, value_name = "LABEL")]
    pub label_b: Option<String>,

    /// Set the latency settings both libraries have (linger.ms, acks, fetch.wait.max.ms,
    /// fetch.min.bytes) alike on both sides, and say what could not be equalized.
    #[arg(long)]
    pub equalize: bool,

    #[command(flatten)]
    pub group: GroupArgs,
}

/// The rebalance lab: several consumers per side in one group, churned by a script.
#[derive(Debug, Args, Clone)]
pub struct GroupArgs {
    /// Consumers per side, one process each, all in the side's group [default: 1, or 3
    /// with --churn].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=16))]
    pub members: Option<u16>,

    /// What happens to each side's group, at score times: join@10s (a member joins),
    /// leave@20s (one closes cleanly), kill@30s (one is SIGKILLed, as a crash), comma-
    /// separated. The member hit is the one holding the most partitions.
    #[arg(long, value_name = "SCRIPT")]
    pub churn: Option<ChurnScript>,

    /// Partitions of each side's topic [default: 1, or 6 with --members/--churn]. A
    /// count other than 1 gets topics of their own: PREFIX_a_pN, PREFIX_b_pN.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..=64))]
    pub partitions: Option<i32>,

    /// What each note's key is: `song` (the file name, as the original kmidi: one
    /// partition), `pitch` (song/pitch) or `voice` (song/vN, note-ons dealt over 64
    /// keys in turn: every partition gets a steady share) [default: song, or voice
    /// with --members/--churn]. A note-off always goes where its note-on went.
    #[arg(long, value_name = "KEY", value_enum)]
    pub key_by: Option<KeyByArg>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyByArg {
    Song,
    Pitch,
    Voice,
}

impl From<KeyByArg> for KeyBy {
    fn from(k: KeyByArg) -> Self {
        match k {
            KeyByArg::Song => KeyBy::Song,
            KeyByArg::Pitch => KeyBy::Pitch,
            KeyByArg::Voice => KeyBy::Voice,
        }
    }
}

impl GroupArgs {
    /// Whether the sides run as churned groups of member processes.
    pub fn lab(&self) -> bool {
        self.members.is_some_and(|m| m > 1) || self.churn.is_some()
    }

    pub fn members(&self) -> usize {
        usize::from(
            self.members
                .unwrap_or(if self.churn.is_some() { 3 } else { 1 }),
        )
    }

    pub fn partitions(&self) -> i32 {
        self.partitions.unwrap_or(if self.lab() { 6 } else { 1 })
    }

    pub fn key_by(&self) -> KeyBy {
        match self.key_by {
            Some(k) => k.into(),
            None if self.lab() => KeyBy::Voice,
            None => KeyBy::Song,
        }
    }
}
