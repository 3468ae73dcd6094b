//! `kmidi-bench`: kmidi's benchmarks. Every figure is printed beside a reference
//! measured in the same run (the machine is shared, so absolute numbers drift between
//! runs but ratios hold). Each subcommand prints its Markdown section(s) on stdout and
//! its progress on stderr; `scripts/bench.sh` runs them all and writes BENCHMARKS.md.

mod audio;
mod e2e;
mod footprint;
mod java;
mod kafka;
mod load;
mod memory;
mod open_loop;
mod plugin;
mod rebalance;
mod report;
mod schedule;
mod soak;
mod song;
mod stats;
mod steal;
mod throughput;
mod transports;
mod web;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "kmidi's benchmarks, each against a reference from the same run")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// 1. Player scheduling error with a null transport, vs the naive delta-sleeping loop.
    Schedule {
        /// Song length, seconds.
        #[arg(long, default_value_t = 300.0)]
        length: f64,
        /// Speed ratios to play at (1 = as written, 0.1 = ten times faster).
        #[arg(long, value_delimiter = ',', default_value = "1,0.1")]
        speeds: Vec<f64>,
        /// Also run the precise loop under SCHED_FIFO (a warning where not permitted).
        #[arg(long)]
        realtime: bool,
    },
    /// 3 and 4a. kmidi's own end-to-end overhead, and the plugin boundary's cost alone.
    Overhead {
        #[arg(long, default_value_t = 20_000)]
        notes: u64,
        /// Also run the pipeline with both threads under SCHED_FIFO.
        #[arg(long)]
        realtime: bool,
        /// The testkit plugin [default: libkmidi_plugin_testkit.so beside this binary].
        #[arg(long)]
        testkit_so: Option<PathBuf>,
    },
    /// 2, 4b and 5. Latency and throughput per transport on a real broker, vs Kafka's tools.
    Kafka {
        #[arg(long)]
        bootstrap: String,
        /// The broker's Kafka version (picks the Java tools' classes).
        #[arg(long)]
        version: String,
        /// Built-in names or plugin paths.
        #[arg(long, value_delimiter = ',', required = true)]
        transports: Vec<String>,
        #[arg(long, default_value_t = 2_000)]
        pings: u64,
        #[arg(long, default_value_t = 600)]
        notes: u64,
        #[arg(long, default_value_t = 50)]
        interval_ms: u64,
        /// 10 KB records for the throughput ceiling.
        #[arg(long, default_value_t = 10_000)]
        records: u64,
        /// Throughput rounds per transport, the transports taken in turn; the median
        /// is the figure.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
        rounds: u32,
    },
    /// 7. What the synthesizer adds: audio onsets against the times notes were played.
    Audio {
        /// Notes in the hi-hat song.
        #[arg(long, default_value_t = 120)]
        notes: usize,
        /// Also through FluidSynth on the running JACK server (a `--features jack` build).
        #[arg(long)]
        jack: bool,
        /// Where the .wav files go.
        #[arg(long, default_value = "target/bench")]
        dir: PathBuf,
    },
    /// 6. RSS and CPU of the real `kmidi instrument` and `kmidi player` processes.
    Footprint {
        #[arg(long)]
        bootstrap: String,
        #[arg(long, value_delimiter = ',', required = true)]
        transports: Vec<String>,
        /// Song length, seconds.
        #[arg(long, default_value_t = 30.0)]
        length: f64,
        /// Seconds the instrument is watched idle before the song.
        #[arg(long, default_value_t = 5.0)]
        idle: f64,
        /// The kmidi binary [default: `kmidi` beside this binary].
        #[arg(long)]
        kmidi: Option<PathBuf>,
        /// Where the song, recordings and logs go.
        #[arg(long, default_value = "target/bench")]
        dir: PathBuf,
    },
    /// 8. Soak: `player --loop` and `instrument --metrics` for a while; RSS must stay flat.
    Soak {
        #[arg(long)]
        bootstrap: String,
        /// How long, seconds.
        #[arg(long, default_value_t = 1800.0)]
        seconds: f64,
        /// The player's speed ratio (0.05: about 125 notes a second).
        #[arg(long, default_value_t = 0.05)]
        speed: f64,
        /// The kmidi binary [default: `kmidi` beside this binary].
        #[arg(long)]
        kmidi: Option<PathBuf>,
        /// Where the report and logs go.
        #[arg(long, default_value = "target/bench")]
        dir: PathBuf,
    },
    /// 9. Rebalances: classic vs KIP-848 consumer protocol, rdkafka and franz-go, one churn.
    Rebalance {
        /// A running Kafka 4.3.1 broker with the KIP-848 timeouts this benchmark assumes
        /// (printed) [default: start one with scripts/kafka.sh, stopped at the end].
        #[arg(long)]
        bootstrap: Option<String>,
        /// The churn script, at score times (the song is 30 s).
        #[arg(long, default_value = "join@5s,leave@11s,kill@17s")]
        churn: String,
        /// Seconds each compare may take before it is killed and reported failed.
        #[arg(long, default_value_t = 150.0)]
        timeout: f64,
        /// The franz-go plugin [default: <repo>/target/plugins/libkmidi_franz_go.so].
        #[arg(long)]
        franz_go: Option<PathBuf>,
        /// The kmidi binary [default: `kmidi` beside this binary].
        #[arg(long)]
        kmidi: Option<PathBuf>,
        /// Where the reports and logs go.
        #[arg(long, default_value = "target/bench")]
        dir: PathBuf,
    },
    /// 11. The load at which the music breaks: each side's knee under a ramp.
    ///
    /// Beside the saturation ProducerPerformance reaches on the same broker.
    Load {
        #[arg(long)]
        bootstrap: String,
        /// The Kafka version whose jars run ProducerPerformance.
        #[arg(long)]
        version: String,
        /// Side B's transport [default: the franz-go plugin in target/plugins, else rdkafka].
        #[arg(long)]
        other: Option<String>,
        /// Levels of the ramp, up to the saturation in equal steps.
        #[arg(long, default_value_t = 10)]
        levels: u32,
        /// Seconds each level lasts.
        #[arg(long, default_value_t = 2.5)]
        every: f64,
        /// Records ProducerPerformance sends for the saturation.
        #[arg(long, default_value_t = 30_000)]
        records: u64,
        /// Seconds each command may take before it is killed and reported failed.
        #[arg(long, default_value_t = 240.0)]
        timeout: f64,
        /// The kmidi binary [default: `kmidi` beside this binary].
        #[arg(long)]
        kmidi: Option<PathBuf>,
        /// Where the report and logs go.
        #[arg(long, default_value = "target/bench")]
        dir: PathBuf,
    },
    /// 10. Listening from a browser (--web): the page's onset error, bandwidth, CPU per listener.
    Web {
        #[arg(long)]
        bootstrap: String,
        /// Plain SSE listeners per `--web` configuration, besides 0 (at most 64 each).
        #[arg(long, value_delimiter = ',', default_value = "1,4")]
        listeners: Vec<usize>,
        /// The song of the bandwidth and CPU figures [default: a generated one of --length s].
        #[arg(long)]
        song: Option<PathBuf>,
        /// The generated song's length, seconds.
        #[arg(long, default_value_t = 30.0)]
        length: f64,
        /// Hi-hats the page plays for the onset figures.
        #[arg(long, default_value_t = 120)]
        notes: usize,
        /// Seconds each instrument has to join its group before the song.
        #[arg(long, default_value_t = 3.0)]
        settle: f64,
        /// The kmidi binary [default: `kmidi` beside this binary].
        #[arg(long)]
        kmidi: Option<PathBuf>,
        /// Where the songs, recordings and logs go.
        #[arg(long, default_value = "target/bench")]
        dir: PathBuf,
    },
}

fn beside_me(file: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(file)))
        .unwrap_or_else(|| PathBuf::from(file))
}

/// The repository root: this binary lives in <repo>/target/<profile>/.
fn repo() -> PathBuf {
    let exe = beside_me("x");
    exe.ancestors()
        .nth(3)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("kmidi-bench {}", args.join(" "))
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let command = command_line();
    let sections = match cli.bench {
        Bench::Schedule {
            length,
            speeds,
            realtime,
        } => vec![schedule::run(&schedule::Options {
            length: Duration::from_secs_f64(length),
            speeds,
            realtime,
            command,
        })?],
        Bench::Overhead {
            notes,
            realtime,
            testkit_so,
        } => memory::run(&memory::Options {
            notes,
            realtime,
            testkit_so: testkit_so.unwrap_or_else(|| beside_me("libkmidi_plugin_testkit.so")),
            command,
        })?,
        Bench::Kafka {
            bootstrap,
            version,
            transports,
            pings,
            notes,
            interval_ms,
            records,
            rounds,
        } => kafka::run(&kafka::Options {
            bootstrap,
            version,
            transports,
            pings,
            notes,
            interval: Duration::from_millis(interval_ms),
            records,
            rounds,
            repo: repo(),
            command,
        })?,
        Bench::Audio { notes, jack, dir } => vec![audio::run(&audio::Options {
            notes,
            jack,
            dir,
            command,
        })?],
        Bench::Footprint {
            bootstrap,
            transports,
            length,
            idle,
            kmidi,
            dir,
        } => vec![footprint::run(&footprint::Options {
            idle: Duration::from_secs_f64(idle),
            kmidi: kmidi.unwrap_or_else(|| beside_me("kmidi")),
            bootstrap,
            transports,
            song: Duration::from_secs_f64(length),
            dir,
            command,
        })?],
        Bench::Soak {
            bootstrap,
            seconds,
            speed,
            kmidi,
            dir,
        } => vec![soak::run(&soak::Options {
            bootstrap,
            duration: Duration::from_secs_f64(seconds),
            speed,
            kmidi: kmidi.unwrap_or_else(|| beside_me("kmidi")),
            song: repo().join("songs/ode_to_joy.mid"),
            dir,
            command,
        })?],
        Bench::Rebalance {
            bootstrap,
            churn,
            timeout,
            franz_go,
            kmidi,
            dir,
        } => {
            // Its own table (four configurations side by side), not a figure/reference one.
            print!(
                "{}",
                rebalance::run(&rebalance::Options {
                    bootstrap,
                    churn,
                    song: repo().join("songs/bach_prelude_c.mid"),
                    kmidi: kmidi.unwrap_or_else(|| beside_me("kmidi")),
                    franz_go: franz_go
                        .unwrap_or_else(|| repo().join("target/plugins/libkmidi_franz_go.so")),
                    limit: Duration::from_secs_f64(timeout),
                    dir,
                    repo: repo(),
                    command,
                })?
            );
            Vec::new()
        }
        Bench::Load {
            bootstrap,
            version,
            other,
            levels,
            every,
            records,
            timeout,
            kmidi,
            dir,
        } => vec![load::run(&load::Options {
            bootstrap,
            version,
            repo: repo(),
            kmidi: kmidi.unwrap_or_else(|| beside_me("kmidi")),
            other: other.unwrap_or_else(|| load::other_transport(&repo().join("target/plugins"))),
            song: repo().join("songs/bach_prelude_c.mid"),
            levels,
            every: Duration::from_secs_f64(every),
            records,
            limit: Duration::from_secs_f64(timeout),
            dir,
            command,
        })?],
        Bench::Web {
            bootstrap,
            listeners,
            song,
            length,
            notes,
            settle,
            kmidi,
            dir,
        } => vec![web::run(&web::Options {
            bootstrap,
            kmidi: kmidi.unwrap_or_else(|| beside_me("kmidi")),
            listeners,
            song,
            length: Duration::from_secs_f64(length),
            notes,
            settle: Duration::from_secs_f64(settle),
            dir,
            command,
        })?],
    };
    for s in sections {
        print!("{}", s.markdown());
    }
    Ok(())
}
