//! Command-line arguments: every subcommand, its options and their help text.
//! Parsing only; the subcommand modules do the work.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod compare;
mod shared;
pub use compare::CompareArgs;
pub use shared::{
    ClientArgs, MetricsArgs, PluginDirArgs, QuietArgs, SongArgs, SpeedArgs, TransportArgs,
};

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
}

#[derive(Debug, Args)]
pub struct MemberArgs {
    /// The member's number in its group, for messages.
    #[arg(long, default_value_t = 0)]
    pub member_id: usize,
}

/// Where and how to reach the cluster; shared by every command that talks to Kafka.
#[derive(Debug, Args, Clone)]
pub struct KafkaArgs {
    /// Bootstrap servers, comma-separated.
    #[arg(
        short = 'b',
        long = "bootstrap-servers",
        default_value = "localhost:9092"
    )]
    pub bootstrap: String,

    /// The notes topic (the original kmidi's --notes-topic and --notes_topic work too).
    #[arg(
        short = 't',
        long = "topic",
        visible_aliases = ["notes-topic", "notes_topic"],
        default_value = "midi_notes"
    )]
    pub topic: String,

    #[command(flatten)]
    pub client: ClientArgs,

    #[command(flatten)]
    pub transport: TransportArgs,

    /// Seconds to wait for the cluster to answer before giving up with an error.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = shared::seconds)]
    pub connect_timeout: Duration,
}

#[derive(Debug, Args)]
pub struct PlayerArgs {
    /// MIDI file, directory of .mid files, or glob pattern ("songs/*.mid"); repeatable.
    #[arg(
        short = 'm',
        long = "song",
        visible_aliases = ["midi-files", "midi-file"],
        required = true,
        value_name = "PATH|GLOB|DIR"
    )]
    pub midi: Vec<String>,

    #[command(flatten)]
    pub kafka: KafkaArgs,

    #[command(flatten)]
    pub speed: SpeedArgs,

    /// Extra random payload bytes added to each message, to match your cluster's
    /// average record size.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub record_size: usize,

    /// Play the files again and again until interrupted.
    /// Each note's key: `song` (the file name, as the original kmidi: a song is one
    /// partition), `pitch` (song/pitch) or `voice` (song/vN: note-ons dealt over 64
    /// keys in turn, so every partition carries a steady share, as a group of
    /// instruments needs). A note-off always goes where its note-on went.
    #[arg(long, value_name = "KEY", value_enum, default_value = "song")]
    pub key_by: compare::KeyByArg,

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
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = shared::seconds)]
    pub flush_timeout: Duration,

    #[command(flatten)]
    pub metrics: MetricsArgs,

    #[command(flatten)]
    pub quiet: QuietArgs,
}

#[derive(Debug, Args)]
pub struct TransportsArgs {
    #[command(flatten)]
    pub plugins: PluginDirArgs,

    /// Run the conformance pass on the plugin at PATH (a pass/fail line per point of
    /// the contract), instead of listing: what a plugin author runs first.
    #[arg(long, value_name = "PATH")]
    pub check: Option<PathBuf>,

    /// With --check: the cluster for the round trip [default: librdkafka's in-process
    /// mock cluster].
    #[arg(
        short = 'b',
        long = "bootstrap-servers",
        value_name = "SERVERS",
        requires = "check"
    )]
    pub bootstrap: Option<String>,

    /// With --check: client properties passed to the plugin's clients.
    #[command(flatten)]
    pub client: ClientArgs,

    /// With --check: seconds each wait of the round trip may take.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = shared::seconds)]
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
    #[arg(long, value_name = "MS", value_parser = shared::millis)]
    pub playout_delay: Option<Duration>,
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

    /// Listen as a group of N consumers in -g, each its own process (the rebalance
    /// lab: see `compare --members`) [default: 1, or 3 with --churn].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=16))]
    pub members: Option<u16>,

    /// Churn the group at song times as the player plays them (after its speed):
    /// join@10s, leave@20s, kill@30s, comma-separated; counted from the first note
    /// heard's start of song.
    #[arg(long, value_name = "SCRIPT")]
    pub churn: Option<kmidi_engine::churn::ChurnScript>,

    /// Where to start when the group has no committed offset.
    #[arg(long, value_enum, default_value = "latest")]
    pub from: StartFrom,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Stop after this many seconds without a note, once notes have arrived.
    #[arg(long, value_name = "SECS", value_parser = shared::seconds)]
    pub idle_exit: Option<Duration>,

    /// Stop after playing this many messages.
    #[arg(long, value_name = "N")]
    pub max_messages: Option<u64>,

    #[command(flatten)]
    pub metrics: MetricsArgs,

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

    #[arg(long, default_value_t = 1)]
    pub partitions: i32,

    #[arg(long, default_value_t = 1)]
    pub replication_factor: i32,

    /// How long the broker keeps notes; music is only worth hearing live.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub retention_ms: u64,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn goldberg_presets_set_the_original_ratios() {
        let cli = Cli::try_parse_from(["kmidi", "player", "-m", "x.mid", "--gg-1955"]).unwrap();
        let Command::Player(p) = cli.command else {
            panic!("not a player command")
        };
        assert_eq!(p.speed.ratio(), 0.65);
        assert_eq!(p.kafka.bootstrap, "localhost:9092");
        assert_eq!(p.kafka.topic, "midi_notes");
    }

    #[test]
    fn a_bad_speed_ratio_is_refused_by_every_command_that_plays() {
        for cmd in [
            &["kmidi", "player", "-m", "x.mid", "-s", "0"][..],
            &["kmidi", "demo", "--speed-ratio=-1"],
            &[
                "kmidi", "compare", "--a", "rdkafka", "--b", "rdkafka", "-s", "nan",
            ],
        ] {
            let err = Cli::try_parse_from(cmd).unwrap_err().to_string();
            assert!(err.contains("not a positive number"), "{cmd:?}: {err}");
        }
    }

    #[test]
    fn the_song_has_one_spelling_and_the_old_ones_still_work() {
        for flag in ["-m", "--song", "--midi-files", "--midi-file"] {
            let player = Cli::try_parse_from(["kmidi", "player", flag, "a.mid"]).unwrap();
            let Command::Player(p) = player.command else {
                panic!("not a player command")
            };
            assert_eq!(p.midi, ["a.mid"], "player {flag}");
            for sub in [
                &["kmidi", "demo"][..],
                &["kmidi", "compare", "--a", "x", "--b", "y"],
            ] {
                let mut argv = sub.to_vec();
                argv.extend([flag, "a.mid"]);
                let song = match Cli::try_parse_from(&argv).unwrap().command {
                    Command::Demo(d) => d.song.song,
                    Command::Compare(c) => c.song.song,
                    _ => panic!("{argv:?}"),
                };
                assert_eq!(song, "a.mid", "{argv:?}");
            }
        }
    }

    #[test]
    fn speed_options_are_mutually_exclusive() {
        let r = Cli::try_parse_from(["kmidi", "player", "-m", "x", "-s", "2", "--gg-1981"]);
        assert!(r.is_err());
    }
}
