//! `kmidi compare`'s arguments: two transports, one song, one cluster. Every option of
//! one side ends in `-a` or `-b` (`--transport-a`, `--property-b`, `--port-a`,
//! `--label-b`); the spellings of earlier versions (`--a`, `--b`, `--xa`, `--xb`,
//! `--topic-prefix`) are hidden aliases, so scripts keep working. `-t/--topic` names
//! the topics here as everywhere: each side's is TOPIC_a or TOPIC_b.

use clap::Args;
use kmidi_engine::perform::KeyBy;

use super::flags::{
    BootstrapArg, ClientArgs, ConnectTimeoutArg, KeyByArgs, LabArgs, LoadArgs, MetricsArgs,
    PartitionsArg, PluginDirArgs, QuietArgs, SongArgs, SpeedArgs, WebArgs,
};
use super::OutputArgs;

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Transport for side A (left): a built-in name, a plugin name or a .so path.
    #[arg(long = "transport-a", alias = "a", value_name = "TRANSPORT")]
    pub transport_a: String,

    /// Transport for side B (right).
    #[arg(long = "transport-b", alias = "b", value_name = "TRANSPORT")]
    pub transport_b: String,

    /// Client property for side A only, repeatable; wins over -X.
    #[arg(long = "property-a", alias = "xa", value_name = "KEY=VALUE")]
    pub props_a: Vec<String>,

    /// Client property for side B only, repeatable; wins over -X.
    #[arg(long = "property-b", alias = "xb", value_name = "KEY=VALUE")]
    pub props_b: Vec<String>,

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

    /// Name side A in the table, report and plot [default: A (TRANSPORT), plus the
    /// --property-a settings that differ from B's].
    #[arg(long, value_name = "LABEL")]
    pub label_a: Option<String>,

    /// Name side B.
    #[arg(long, value_name = "LABEL")]
    pub label_b: Option<String>,

    #[command(flatten)]
    pub song: SongArgs,

    #[command(flatten)]
    pub bootstrap: BootstrapArg,

    /// The topics' name: side A plays to TOPIC_a, side B to TOPIC_b (created if
    /// missing; TOPIC_a_pN with N partitions). `--topic-prefix` works too.
    #[arg(
        short = 't',
        long = "topic",
        alias = "topic-prefix",
        value_name = "TOPIC",
        default_value = "kmidi_compare"
    )]
    pub topic: String,

    #[command(flatten)]
    pub speed: SpeedArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Client properties for both sides; --property-a and --property-b win over them.
    #[command(flatten)]
    pub client: ClientArgs,

    #[command(flatten)]
    pub timeout: ConnectTimeoutArg,

    #[command(flatten)]
    pub plugins: PluginDirArgs,

    #[command(flatten)]
    pub metrics: MetricsArgs,

    #[command(flatten)]
    pub web: WebArgs,

    #[command(flatten)]
    pub quiet: QuietArgs,

    /// Set the latency settings both libraries have (linger.ms, acks, fetch.wait.max.ms,
    /// fetch.min.bytes) alike on both sides, and say what could not be equalized.
    #[arg(long)]
    pub equalize: bool,

    #[command(flatten)]
    pub lab: LabArgs,

    #[command(flatten)]
    pub load: LoadArgs,

    #[command(flatten)]
    pub faults: super::FaultArgs,

    #[command(flatten)]
    pub partitions: PartitionsArg,

    #[command(flatten)]
    pub key_by: KeyByArgs,
}

impl CompareArgs {
    /// Each side's transport, A first.
    pub fn transports(&self) -> [&str; 2] {
        [&self.transport_a, &self.transport_b]
    }

    /// Each side's own client properties, A first.
    pub fn side_props(&self) -> [&[String]; 2] {
        [&self.props_a, &self.props_b]
    }

    /// Partitions of each side's topic: 1, or 6 in the rebalance lab.
    pub fn partitions(&self) -> i32 {
        self.partitions
            .partitions
            .unwrap_or(if self.lab.lab() { 6 } else { 1 })
    }

    /// The notes' keys: song, or voice in the rebalance lab (every partition gets a
    /// steady share of the melody).
    pub fn key_by(&self) -> KeyBy {
        match self.key_by.key_by {
            Some(k) => k.into(),
            None if self.lab.lab() => KeyBy::Voice,
            None => KeyBy::Song,
        }
    }
}
