//! Command-line arguments: every subcommand, its options and their help text.
//! Parsing only; the command modules do the work. Options more than one command takes
//! are declared once in `flags` (and `output`), and flattened here.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod compare;
mod faults;
mod flags;
mod output;
mod parse;
mod voices;
pub use compare::CompareArgs;
pub use faults::{FaultArgs, FaultDriverSpec};
pub use flags::{
    BootstrapArg, ClientArgs, ConnectTimeoutArg, KeyByArgs, LabArgs, LoadArgs, LoadDriverSpec,
    MetricsArgs, PartitionsArg, PluginDirArgs, QuietArgs, SongArgs, SpeedArgs, TopicArg,
    TransportArgs, WebArgs,
};
pub use output::OutputArgs;
pub use voices::VoicesArgs;

/// Hear how your Kafka cluster is doing.
///
/// A player produces the notes of MIDI files to a topic at the moment the score says;
/// an instrument consumes them and plays each one the moment it arrives. When the
/// cluster struggles, the music slows down or the melody goes wrong.
#[derive(Debug, Parser)]
#[command(
    name = "kmidi",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Produce the notes of MIDI files to a topic, each at the moment the score says.
    Player(PlayerArgs),
    /// Consume notes from a topic and play each one the moment it arrives.
    Instrument(InstrumentArgs),
    /// Player and instrument in one process on an embedded mock cluster: no Kafka needed.
    #[command(
        after_help = "Bundled songs: ode_to_joy.mid (melody), bach_prelude_c.mid (two hands, \
                      sustain pedal), tempo_change.mid (tempo changes)."
    )]
    Demo(DemoArgs),
    /// A/B two Kafka client libraries: both play the same song at the same time, A on
    /// the left, B on the right, with one side-by-side table.
    Compare(CompareArgs),
    /// Manage the notes topic.
    #[command(subcommand)]
    Topic(TopicCommand),
    /// List the MIDI output ports the instrument can play to.
    Ports,
    /// List the Kafka client libraries kmidi can use, with their versions.
    Transports(TransportsArgs),
    /// One member of a churned consumer group (`compare --members/--churn` starts
    /// these; its job comes on stdin).
    #[command(hide = true)]
    Member(MemberArgs),
    /// One load step of the local load driver, through a kmidi transport (its job
    /// comes on stdin).
    #[command(hide = true)]
    LoadWorker,
}

#[derive(Debug, Args)]
pub struct MemberArgs {
    /// The member's number in its group, for messages.
    #[arg(long, default_value_t = 0)]
    pub member_id: usize,
}

/// Where and how to reach the cluster and the notes topic: every command that talks to
/// one real cluster and topic (player, instrument, topic create).
#[derive(Debug, Args, Clone)]
pub struct KafkaArgs {
    #[command(flatten)]
    pub bootstrap: BootstrapArg,

    #[command(flatten)]
    pub topic: TopicArg,

    #[command(flatten)]
    pub client: ClientArgs,

    #[command(flatten)]
    pub transport: TransportArgs,

    #[command(flatten)]
    pub timeout: ConnectTimeoutArg,
}

impl KafkaArgs {
    pub fn topic(&self) -> &str {
        &self.topic.topic
    }

    pub fn connect_timeout(&self) -> Duration {
        self.timeout.connect_timeout
    }
}

#[derive(Debug, Args)]
#[command(mut_arg("songs", |a| a.required(true)))]
pub struct PlayerArgs {
    #[command(flatten)]
    pub song: SongArgs,

    #[command(flatten)]
    pub kafka: KafkaArgs,

    #[command(flatten)]
    pub speed: SpeedArgs,

    /// Extra random payload bytes added to each message, to match your cluster's
    /// average record size; checked against the producer's message.max.bytes before
    /// the first note.
    #[arg(
        long,
        value_name = "BYTES",
        default_value = "0",
        value_parser = parse::count,
        allow_negative_numbers = true
    )]
    pub record_size: u64,

    #[command(flatten)]
    pub key_by: KeyByArgs,

    /// Play the files again and again until interrupted.
    #[arg(long = "loop")]
    pub repeat: bool,

    /// Send only note on/off, as the original Python kmidi did. By default every
    /// channel voice message is sent: sustain pedal and program changes matter.
    #[arg(long)]
    pub notes_only: bool,

    /// Run the scheduling thread under SCHED_FIFO, where permitted (root or
    /// CAP_SYS_NICE): fewer late wake-ups on a busy machine; a warning where not.
    #[arg(long)]
    pub realtime: bool,

    /// Seconds to wait at the end (or on Ctrl-C) for the last notes to be delivered.
    #[arg(
        long,
        value_name = "SECS",
        default_value = "10",
        value_parser = parse::seconds,
        allow_negative_numbers = true
    )]
    pub flush_timeout: Duration,

    #[command(flatten)]
    pub metrics: MetricsArgs,

    #[command(flatten)]
    pub quiet: QuietArgs,
}

#[derive(Debug, Args)]
#[command(mut_arg("bootstrap", |a| a.requires("check")))]
pub struct TransportsArgs {
    #[command(flatten)]
    pub plugins: PluginDirArgs,

    /// Run the conformance pass on the plugin at PATH (a pass/fail line per point of
    /// the contract), instead of listing: what a plugin author runs first.
    #[arg(long, value_name = "PATH")]
    pub check: Option<PathBuf>,

    /// With --check: the cluster for the round trip.
    #[command(flatten)]
    pub bootstrap: BootstrapArg,

    /// With --check: client properties passed to the plugin's clients.
    #[command(flatten)]
    pub client: ClientArgs,

    /// With --check: seconds each wait of the round trip may take.
    #[arg(
        long,
        value_name = "SECS",
        default_value = "10",
        value_parser = parse::seconds,
        allow_negative_numbers = true
    )]
    pub timeout: Duration,
}

/// Where a consumer group without a committed offset starts.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum StartFrom {
    /// Only notes produced from now on (the original kmidi's behaviour).
    Latest,
    /// Everything still on the topic.
    Earliest,
}

#[derive(Debug, Args)]
pub struct InstrumentArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,

    /// Consumer group [default: kmidi]. A transport without consumer groups (see
    /// `kmidi transports`) ignores it, with a warning.
    #[arg(short = 'g', long = "group", value_name = "GROUP")]
    pub group: Option<String>,

    /// Refuse what would otherwise be a warning: a -g the transport cannot honour.
    #[arg(long)]
    pub strict: bool,

    /// Join the group as a share group (KIP-932, Kafka 4.1+ with share.version=1):
    /// records of one partition are spread over the members and redelivered when not
    /// acknowledged, so reordering and duplicates are allowed. Needs a transport with
    /// share groups (`kmidi transports`), e.g. the franz-go plugin.
    #[arg(long)]
    pub share: bool,

    #[command(flatten)]
    pub lab: LabArgs,

    #[command(flatten)]
    pub load: LoadArgs,

    #[command(flatten)]
    pub faults: FaultArgs,

    /// Where to start when the group has no committed offset.
    #[arg(long, value_enum, default_value = "latest")]
    pub from: StartFrom,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub voices: VoicesArgs,

    /// Stop after this many seconds without a note, once notes have arrived.
    #[arg(
        long,
        value_name = "SECS",
        value_parser = parse::seconds,
        allow_negative_numbers = true
    )]
    pub idle_exit: Option<Duration>,

    /// Stop after playing this many messages.
    #[arg(
        long,
        value_name = "N",
        value_parser = parse::positive,
        allow_negative_numbers = true
    )]
    pub max_messages: Option<u64>,

    #[command(flatten)]
    pub metrics: MetricsArgs,

    #[command(flatten)]
    pub web: WebArgs,

    #[command(flatten)]
    pub quiet: QuietArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub song: SongArgs,

    #[command(flatten)]
    pub speed: SpeedArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Directory for the .mid/.wav files the demo writes when no port is found.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,

    #[command(flatten)]
    pub transport: TransportArgs,

    /// Client properties for both clients.
    #[command(flatten)]
    pub client: ClientArgs,

    #[command(flatten)]
    pub web: WebArgs,

    #[command(flatten)]
    pub quiet: QuietArgs,
}

#[derive(Debug, Subcommand)]
pub enum TopicCommand {
    /// Create the notes topic through the client's admin API.
    Create(TopicCreateArgs),
}

#[derive(Debug, Args)]
pub struct TopicCreateArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,

    #[command(flatten)]
    pub partitions: PartitionsArg,

    /// A probe topic: N partitions led by each broker (default 1), placed by an explicit
    /// replica assignment and checked from metadata, so every broker can be heard apart.
    #[arg(
        long,
        value_name = "N",
        num_args = 0..=1,
        default_missing_value = "1",
        conflicts_with = "partitions",
        value_parser = clap::value_parser!(i32).range(1..=1000),
        allow_negative_numbers = true
    )]
    pub per_broker: Option<i32>,

    /// Replicas of each partition [default: 1; with --per-broker: min(3, brokers)].
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(i32).range(1..=32),
        allow_negative_numbers = true
    )]
    pub replication_factor: Option<i32>,

    /// How long the broker keeps notes; music is only worth hearing live.
    #[arg(
        long,
        value_name = "MS",
        default_value = "5000",
        value_parser = parse::positive,
        allow_negative_numbers = true
    )]
    pub retention_ms: u64,
}

#[cfg(test)]
mod tests;
