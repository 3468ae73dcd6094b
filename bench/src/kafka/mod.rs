//! Benchmarks 2, 4b and 5 on one real broker: latency (ping, music) and throughput per
//! transport, beside Apache Kafka's EndToEndLatency and ProducerPerformance run on the
//! same broker in the same run. Each transport and tool gets its own topic.
//!
//! This module measures; `latency` (section 2) and `ceiling` (section 5) turn the
//! figures into sections, and `crate::plugin` makes 4b from the same figures.

mod ceiling;
mod latency;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use kmidi_transport::Transport;

use crate::e2e::{self, Clients};
use crate::java::{self, E2e};
use crate::open_loop::{self, OpenLoop};
use crate::plugin::{self, Measured};
use crate::report::Section;
use crate::stats::Summary;
use crate::steal::CpuTimes;
use crate::throughput::{self, RECORD_SIZE};
use crate::transports::{create_topic, label, resolve};

pub struct Options {
    pub bootstrap: String,
    pub version: String,
    pub transports: Vec<String>,
    pub pings: u64,
    pub notes: u64,
    pub interval: Duration,
    pub records: u64,
    /// Throughput rounds per transport, taken in turn (`throughput_rounds`).
    pub rounds: u32,
    pub repo: PathBuf,
    pub command: String,
}

fn e2e_class(version: &str) -> &'static str {
    if version.starts_with('3') {
        "kafka.tools.EndToEndLatency"
    } else {
        "org.apache.kafka.tools.EndToEndLatency"
    }
}

/// One transport through the run: its figures, and its clients while they last.
struct Side {
    m: Measured,
    transport: Option<Box<dyn Transport>>,
    clients: Option<Clients>,
    topic: String,
}

impl Side {
    /// Stops measuring this side; `m.error` says why.
    fn fail(&mut self, err: &anyhow::Error) {
        eprintln!("kafka: {}: {err:#}", self.m.name);
        self.m.error = Some(format!("{err:#}"));
        self.clients = None;
        self.transport = None;
    }
}

/// A transport resolved, its topics created (the throughput topic too: a client that
/// loads metadata only when it is created, kafka-rust, would otherwise miss it) and
/// its clients connected.
fn open(o: &Options, name: &str, run: &str) -> Side {
    let label = label(name);
    let mut side = Side {
        m: Measured {
            name: label.clone(),
            library: String::new(),
            ping: Summary::default(),
            music: Summary::default(),
            lost: 0,
            rate: None,
            rounds: Vec::new(),
            cpu_us_per_note: None,
            ping_rounds: Vec::new(),
            steal_pct: None,
            error: None,
        },
        transport: None,
        clients: None,
        topic: format!("bench-{run}-{label}"),
    };
    let result = (|| -> Result<(Box<dyn Transport>, Clients)> {
        let t = resolve(name)?;
        side.m.library = t.info().library_version;
        create_topic(&o.bootstrap, &side.topic)?;
        create_topic(&o.bootstrap, &tput_topic(run, &label))?;
        let c = e2e::connect(t.as_ref(), &o.bootstrap, &side.topic)?;
        Ok((t, c))
    })();
    match result {
        Ok((t, c)) => {
            side.transport = Some(t);
            side.clients = Some(c);
        }
        Err(err) => side.fail(&err),
    }
    side
}

/// Ping in rounds taken in turn, as throughput (`throughput::rounds` says why), each
/// side's round trips pooled into one histogram. Every round starts with its own
/// warm-up pings, so a side that sat idle while the others pinged starts warm.
fn ping_rounds(o: &Options, sides: &mut [Side]) {
    let rounds = u64::from(o.rounds).min(o.pings.max(1));
    let mut pooled: Vec<_> = sides.iter().map(|_| crate::stats::histogram()).collect();
    let mut first = 0;
    for round in 0..rounds {
        // The remainder goes to the first rounds, so the counts add up to --pings.
        let n = o.pings / rounds + u64::from(round < o.pings % rounds);
        for (side, h) in sides.iter_mut().zip(pooled.iter_mut()) {
            let Some(c) = side.clients.as_mut() else {
                continue;
            };
            eprintln!(
                "kafka: {}: ping x{n} (round {} of {rounds})",
                side.m.name,
                round + 1
            );
            let got = e2e::ping(c, &side.topic, n, 0, first).and_then(|got| {
                if n > 0 {
                    side.m.ping_rounds.push(Summary::of(&got).p50);
                }
                h.add(got).map_err(|e| anyhow::anyhow!("{e:?}"))
            });
            if let Err(err) = got {
                side.fail(&err);
            }
        }
        first += e2e::WARM_PINGS + n;
    }
    for (side, h) in sides.iter_mut().zip(&pooled) {
        if side.m.error.is_none() {
            side.m.ping = Summary::of(h);
        }
    }
}

/// The music, one side after the other (each plays for the whole song).
fn music_each(o: &Options, sides: &mut [Side]) {
    for side in sides.iter_mut() {
        let Some(c) = side.clients.take() else {
            continue;
        };
        eprintln!("kafka: {}: music x{}", side.m.name, o.notes);
        match e2e::music(c, &side.topic, o.notes, o.interval) {
            Ok((h, lost)) => {
                side.m.music = Summary::of_us(&h);
                side.m.lost = lost;
            }
            Err(err) => side.fail(&err),
        }
    }
}

fn tput_topic(run: &str, label: &str) -> String {
    format!("bench-{run}-tput-{label}")
}

/// Benchmark 5 for every transport that got this far, in rounds (`throughput::rounds`);
/// a transport whose round failed keeps the error.
fn throughput_rounds(
    o: &Options,
    run: &str,
    measured: &mut [Measured],
    transports: &[Option<Box<dyn Transport>>],
) {
    let contenders: Vec<throughput::Contender> = measured
        .iter()
        .zip(transports)
        .filter_map(|(m, t)| {
            Some(throughput::Contender {
                name: m.name.clone(),
                transport: t.as_deref()?,
                topic: tput_topic(run, &m.name),
            })
        })
        .collect();
    let results = throughput::rounds(&o.bootstrap, o.records, o.rounds, &contenders);
    for (c, r) in contenders.iter().zip(results) {
        let Some(m) = measured.iter_mut().find(|m| m.name == c.name) else {
            continue;
        };
        m.rate = throughput::median(&r.rates).map(|v| (v, throughput::mib(v)));
        m.cpu_us_per_note = r.cpu_us_per_note();
        m.rounds = r.rates;
        if let Some(err) = r.error {
            m.error = Some(err);
        }
    }
}

/// librdkafka's default batch.size, for the second ProducerPerformance reference.
const BIG_BATCH: u32 = 1_000_000;

pub(crate) type Perf = ((f64, f64), (f64, f64));

/// The Java client at the music's note rate, open loop: the music figure's fair reference.
fn open_loop_ref(o: &Options, run: &str, size: usize) -> Result<OpenLoop> {
    let topic = format!("bench-{run}-java-open-loop");
    create_topic(&o.bootstrap, &topic)?;
    eprintln!(
        "kafka: Java client open loop x{}, one every {} ms",
        o.notes,
        o.interval.as_millis()
    );
    open_loop::run(
        &o.repo,
        &o.version,
        &o.bootstrap,
        &topic,
        o.notes,
        o.interval,
        size,
    )
}

fn java_refs(o: &Options, run: &str, size: usize) -> (Result<E2e>, Result<Perf>) {
    let limit = Duration::from_secs(600);
    let topic = format!("bench-{run}-java-e2e");
    let e2e = create_topic(&o.bootstrap, &topic).and_then(|()| {
        eprintln!("kafka: Java EndToEndLatency x{}", o.pings);
        let args = [
            o.bootstrap.clone(),
            topic,
            o.pings.to_string(),
            "all".into(),
            size.to_string(),
        ];
        java::parse_e2e(&java::run_tool(
            &o.repo,
            &o.version,
            e2e_class(&o.version),
            &args,
            limit,
        )?)
    });
    let topic = format!("bench-{run}-java-tput");
    let perf = create_topic(&o.bootstrap, &topic).and_then(|()| {
        eprintln!("kafka: Java ProducerPerformance x{}", o.records);
        let args = java::full_speed_args(&o.bootstrap, &topic, o.records, RECORD_SIZE);
        let class = java::PRODUCER_PERFORMANCE;
        let run = |args: &[String]| {
            java::parse_perf(&java::run_tool(&o.repo, &o.version, class, args, limit)?)
        };
        let default = run(&args)?;
        // Java's batch.size (16 KiB) holds one 10 KB record; librdkafka's holds ~100.
        // The ceiling is judged against the better of the two, so a small default
        // batch on the Java side cannot flatter kmidi.
        let mut big = args.clone();
        big.push(format!("batch.size={BIG_BATCH}"));
        eprintln!(
            "kafka: Java ProducerPerformance x{} batch.size={BIG_BATCH}",
            o.records
        );
        Ok((default, run(&big)?))
    });
    (e2e, perf)
}

pub fn run(o: &Options) -> Result<Vec<Section>> {
    let run = format!("{}", std::process::id());
    let size = crate::memory::note(0, 0).encode().len();
    let (jl, jt) = java_refs(o, &run, size);
    let jo = open_loop_ref(o, &run, size);
    let mut sides: Vec<Side> = o.transports.iter().map(|t| open(o, t, &run)).collect();
    let before = CpuTimes::now();
    ping_rounds(o, &mut sides);
    music_each(o, &mut sides);
    let (mut measured, clients): (Vec<Measured>, Vec<_>) =
        sides.into_iter().map(|s| (s.m, s.transport)).unzip();
    throughput_rounds(o, &run, &mut measured, &clients);
    // One figure for the whole measurement: what the machine took from every side.
    let steal = before
        .zip(CpuTimes::now())
        .and_then(|(a, b)| a.steal_pct(&b));
    for m in &mut measured {
        m.steal_pct = steal;
    }
    let lat = latency::section(o, &measured, &jl, &jo);
    let tput = ceiling::section(o, &measured, &jt);
    let mut sections = vec![lat, tput];
    if let Some(s) = plugin::overhead(&measured, &o.command) {
        sections.push(s);
    }
    Ok(sections)
}
