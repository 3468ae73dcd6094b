//! Every option more than one subcommand takes, each declared once, in a group of its
//! own that commands flatten: its spelling, help and validation cannot drift apart
//! between commands. A command that needs another default or requirement changes the
//! one declaration with `mut_arg` instead of declaring the flag again.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use kmidi_engine::churn::ChurnScript;
use kmidi_engine::perform::KeyBy;
use kmidi_lab::Scenario;

use super::parse;

/// `-b`: where the cluster is.
#[derive(Debug, Args, Clone, Default)]
pub struct BootstrapArg {
    /// Bootstrap servers, comma-separated [default: localhost:9092; compare and
    /// transports --check: librdkafka's in-process mock cluster].
    #[arg(short = 'b', long = "bootstrap-servers", value_name = "SERVERS")]
    pub bootstrap: Option<String>,
}

/// `-t`: the notes topic.
#[derive(Debug, Args, Clone)]
pub struct TopicArg {
    /// The notes topic (the original kmidi's --notes-topic and --notes_topic work too).
    #[arg(
        short = 't',
        long = "topic",
        visible_aliases = ["notes-topic", "notes_topic"],
        default_value = "midi_notes"
    )]
    pub topic: String,
}

/// Client properties: `-X` pairs and a `--config` file.
#[derive(Debug, Args, Clone, Default)]
pub struct ClientArgs {
    /// Client property in librdkafka's style, repeatable: -X linger.ms=5
    /// -X security.protocol=SASL_SSL ...
    #[arg(short = 'X', value_name = "KEY=VALUE")]
    pub props: Vec<String>,

    /// File of client properties, one key=value per line, # comments (as kcat -F):
    /// keep credentials here, mode 600. -X (and an explicit -b) win over the file.
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `--connect-timeout`.
#[derive(Debug, Args, Clone, Copy)]
pub struct ConnectTimeoutArg {
    /// Seconds to wait for the cluster to answer before giving up with an error.
    #[arg(
        long,
        value_name = "SECS",
        default_value = "10",
        value_parser = parse::seconds,
        allow_negative_numbers = true
    )]
    pub connect_timeout: Duration,
}

/// Where to look for transport plugins.
#[derive(Debug, Args, Clone, Default)]
pub struct PluginDirArgs {
    /// Directory to search for transport plugins (.so), repeatable; KMIDI_PLUGIN_PATH
    /// (colon-separated) is searched too.
    #[arg(long = "plugin-dir", value_name = "DIR", value_parser = parse::plugin_dir)]
    pub plugin_dirs: Vec<PathBuf>,
}

/// Which Kafka client library to use.
#[derive(Debug, Args, Clone)]
pub struct TransportArgs {
    /// Kafka client library: a built-in name, a plugin name or a path to a .so (see
    /// `kmidi transports`).
    #[arg(long, default_value = "rdkafka")]
    pub transport: String,

    #[command(flatten)]
    pub plugins: PluginDirArgs,
}

/// Prometheus metrics while running.
#[derive(Debug, Args, Clone, Default)]
pub struct MetricsArgs {
    /// Serve live metrics in Prometheus's text format on http://ADDR:PORT/metrics
    /// (e.g. 127.0.0.1:9464; port 0 picks a free one).
    #[arg(long = "metrics", value_name = "ADDR:PORT")]
    pub metrics: Option<String>,
}

/// `--web`: a page that plays what the instrument hears, in any browser.
#[derive(Debug, Args, Clone, Default)]
pub struct WebArgs {
    /// Serve a page on http://ADDR:PORT/ that plays what the instrument hears, with its
    /// timing, and shows the figures live (e.g. 127.0.0.1:8080; port 0 picks a free
    /// one). An address other than loopback needs a token: --web-token, or a random one
    /// printed in the URL. Given the same ADDR:PORT as --metrics, both share one
    /// listener.
    #[arg(long = "web", value_name = "ADDR:PORT")]
    pub web: Option<String>,

    /// The token every request to --web must carry (?token=TOKEN in the URL, or an
    /// `Authorization: Bearer TOKEN` header); required on loopback too once given.
    #[arg(long = "web-token", value_name = "TOKEN", requires = "web")]
    pub web_token: Option<String>,
}

/// No progress bar or live status line.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct QuietArgs {
    /// No progress bar or live status line (for scripts and logs).
    #[arg(short, long)]
    pub quiet: bool,
}

/// `-m`: the songs to play.
#[derive(Debug, Args, Clone, Default)]
pub struct SongArgs {
    /// The song: a bundled song name (ode_to_joy.mid, bach_prelude_c.mid,
    /// tempo_change.mid), a MIDI file, a directory of .mid files or a glob
    /// ("songs/*.mid"). The player takes several (repeat -m); demo and compare play one
    /// [default there: bach_prelude_c.mid].
    #[arg(
        short = 'm',
        long = "song",
        visible_aliases = ["midi-files", "midi-file"],
        value_name = "SONG"
    )]
    pub songs: Vec<String>,
}

/// What demo and compare play when no `-m` is given.
pub const DEFAULT_SONG: &str = "bach_prelude_c.mid";

impl SongArgs {
    /// The one song of a command that plays one (demo, compare).
    pub fn one(&self) -> Result<&str, String> {
        match self.songs.as_slice() {
            [] => Ok(DEFAULT_SONG),
            [one] => Ok(one),
            many => Err(format!(
                "this command plays one song, and -m was given {} times: keep one (the \
                 player plays several)",
                many.len()
            )),
        }
    }
}

#[derive(Debug, Args, Clone, Copy)]
#[group(multiple = false)]
pub struct SpeedArgs {
    /// Time stretch, a positive number: 1.1 plays 10 % slower, 0.9 10 % faster.
    #[arg(
        short = 's',
        long = "speed-ratio",
        value_name = "RATIO",
        default_value = "1.0",
        value_parser = parse::speed_ratio,
        allow_negative_numbers = true
    )]
    pub ratio: f64,

    /// Glenn Gould's 1955 Goldberg tempo (ratio 0.65).
    #[arg(long = "gg-1955")]
    pub gg_1955: bool,

    /// Glenn Gould's 1981 Goldberg tempo (ratio 1.2).
    #[arg(long = "gg-1981")]
    pub gg_1981: bool,
}

impl SpeedArgs {
    pub fn ratio(&self) -> f64 {
        if self.gg_1955 {
            0.65
        } else if self.gg_1981 {
            1.2
        } else {
            self.ratio
        }
    }
}

/// `--key-by`: which key each note is produced with.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct KeyByArgs {
    /// Each note's key: `song` (the file name, as the original kmidi: a song is one
    /// partition), `pitch` (song/pitch) or `voice` (song/vN: note-ons dealt over 64
    /// keys in turn, so every partition carries a steady share, as a group of
    /// instruments needs) [default: song; compare with --members/--churn: voice]. A
    /// note-off always goes where its note-on went.
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

/// The rebalance lab and the scenario: several consumers in one group, churned by a
/// script, and load on the cluster at song times.
#[derive(Debug, Args, Clone, Default)]
pub struct LabArgs {
    /// Listen as a group of N consumers, each its own process, all in one group (the
    /// rebalance lab) [default: 1, or 3 with churn steps].
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..=16),
        allow_negative_numbers = true
    )]
    pub members: Option<u16>,

    /// What happens at song times, comma-separated steps. Churn: join@10s (a member
    /// joins), leave@20s (one closes cleanly), kill@30s (one is SIGKILLed; the member hit
    /// is the one holding the most partitions). Load (--load-driver makes it):
    /// load@10s:rate=5MB/s:for=20s[:size=10KB][:topic=kmidi_load][:partitions=6][:rf=1]
    /// [:consumers=N], and ramp@10s:from=1MB/s:to=50MB/s:step=5MB/s:every=10s[:size=..]
    /// (levels until `to`, or until the music breaks on every side; :until=end runs every
    /// level). Brokers (--fault-driver does them): broker-kill@20s:broker=ID|leader-of=P
    /// [:for=10s], broker-pause@20s:broker=ID:for=5s, broker-restart@20s:broker=ID,
    /// rolling-restart@20s; and exec@20s:run=NAME runs --exec NAME=CMD. compare counts
    /// from the score; instrument from the first note heard's start of song, as the
    /// player plays it.
    #[arg(long = "scenario", visible_alias = "churn", value_name = "SCRIPT")]
    pub scenario: Option<Scenario>,
}

impl LabArgs {
    /// The churn steps, if the scenario has any.
    pub fn churn(&self) -> Option<ChurnScript> {
        self.scenario
            .as_ref()
            .filter(|s| s.has_churn())
            .map(Scenario::churn_only)
    }

    /// The scenario, if it has load steps.
    pub fn load(&self) -> Option<&Scenario> {
        self.scenario.as_ref().filter(|s| s.has_load())
    }

    /// Whether the group is a churned group of member processes.
    pub fn lab(&self) -> bool {
        self.members.is_some_and(|m| m > 1) || self.churn().is_some()
    }

    pub fn members(&self) -> usize {
        usize::from(
            self.members
                .unwrap_or(if self.churn().is_some() { 3 } else { 1 }),
        )
    }
}

/// Who makes the scenario's load, and where it may.
#[derive(Debug, Args, Clone, Default)]
pub struct LoadArgs {
    /// Who makes the load steps of --scenario: `local` (kmidi load workers through the
    /// side's transport, separate processes), `local=java` (Kafka's ProducerPerformance
    /// and ConsumerPerformance from scripts/kafka.sh's jars), `local=TRANSPORT`, or
    /// `trogdor=URL,agents=NAME+NAME` (tasks on a Trogdor coordinator's agents).
    #[arg(long = "load-driver", value_name = "DRIVER", default_value = "local")]
    pub driver: LoadDriverSpec,

    /// Allow load against a cluster that is not on loopback. Without it kmidi refuses
    /// to load anything but 127.0.0.0/8, ::1 and localhost.
    #[arg(long = "load-remote")]
    pub remote: bool,
}

/// `--load-driver`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LoadDriverSpec {
    /// kmidi load workers through the side's (side A's) transport.
    #[default]
    Local,
    /// Kafka's own perf tools.
    LocalJava,
    /// kmidi load workers through this transport.
    LocalTransport(String),
    Trogdor {
        url: String,
        agents: Vec<String>,
    },
}

impl std::str::FromStr for LoadDriverSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        match s.split_once('=') {
            None if s == "local" => Ok(LoadDriverSpec::Local),
            Some(("local", "java")) => Ok(LoadDriverSpec::LocalJava),
            Some(("local", t)) if !t.is_empty() => Ok(LoadDriverSpec::LocalTransport(t.into())),
            Some(("trogdor", rest)) => {
                let mut parts = rest.split(',');
                let url = parts.next().unwrap_or_default().trim().to_string();
                if url.is_empty() {
                    return Err("trogdor= needs the coordinator's URL, e.g. \
                                trogdor=http://127.0.0.1:8889"
                        .into());
                }
                let mut agents = Vec::new();
                for part in parts {
                    match part.split_once('=') {
                        Some(("agents", names)) => agents.extend(
                            names
                                .split('+')
                                .map(str::trim)
                                .filter(|n| !n.is_empty())
                                .map(String::from),
                        ),
                        _ => {
                            return Err(format!(
                                "unknown trogdor option '{part}': the one option is \
                                 agents=NAME+NAME (the agents' node names)"
                            ))
                        }
                    }
                }
                if agents.is_empty() {
                    return Err("trogdor=URL needs the agents that make the load: \
                                trogdor=URL,agents=NAME+NAME (their node names in the \
                                coordinator's config; scripts/kafka.sh trogdor-start names \
                                them agent-1, agent-2...)"
                        .into());
                }
                Ok(LoadDriverSpec::Trogdor { url, agents })
            }
            _ => Err(format!(
                "unknown load driver '{s}': use local, local=java, local=TRANSPORT or \
                 trogdor=URL,agents=NAME+NAME"
            )),
        }
    }
}

/// `--partitions`.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct PartitionsArg {
    /// Partitions of the topic(s) made [default: 1; compare with --members/--churn: 6,
    /// on topics of their own, PREFIX_a_pN and PREFIX_b_pN].
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(i32).range(1..=100_000),
        allow_negative_numbers = true
    )]
    pub partitions: Option<i32>,
}
