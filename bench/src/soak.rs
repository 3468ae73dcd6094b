//! Benchmark 8: a soak. The real `kmidi player --loop` and `kmidi instrument --metrics`
//! run against a broker for a bounded time (30 min in `scripts/bench.sh`, 60 s in its
//! quick pass), and the instrument's RSS and CPU, the player's, and the instrument's
//! own counters (scraped from its `/metrics`) are sampled along the way. Memory must
//! stay flat: the figure is RSS growth per 100k notes, against what keeping one sample
//! per note would cost.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::footprint::{sample, spawn, TICKS_PER_SEC};
use crate::report::{Row, Section, Verdict};
use crate::transports::create_topic;

pub struct Options {
    pub bootstrap: String,
    pub duration: Duration,
    /// The player's speed ratio: small plays many notes per second.
    pub speed: f64,
    pub kmidi: PathBuf,
    pub song: PathBuf,
    pub dir: PathBuf,
    /// How to run this again, for the section.
    pub command: String,
}

/// One look at both processes.
struct Point {
    at: Duration,
    notes: f64,
    latency_count: f64,
    instrument: (u64, u64),
    player: (u64, u64),
}

fn get(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    Some(text.split_once("\r\n\r\n")?.1.to_string())
}

/// The sum of every sample of `name` in a Prometheus text exposition.
fn sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn interrupt(child: &Child) {
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
}

fn wait_exit(child: &mut Child, limit: Duration) {
    let until = Instant::now() + limit;
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

pub fn run(o: &Options) -> Result<Section> {
    let topic = format!("bench-soak-{}", std::process::id());
    create_topic(&o.bootstrap, &topic)?;
    let song = &o.song;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let metrics = format!("127.0.0.1:{port}");
    let report = o.dir.join("soak.json");
    let base = |cmd: &str| -> Vec<String> {
        [cmd, "-b", &o.bootstrap, "-t", &topic, "-q"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let mut args = base("instrument");
    args.extend(["--no-port", "--metrics", &metrics, "--report"].map(String::from));
    args.push(report.display().to_string());
    let mut instrument = spawn(&o.kmidi, &args, &o.dir.join("soak-instrument.log"))?;
    let started = Instant::now();
    while get(&metrics, "/metrics").is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = instrument.kill();
            bail!("the instrument's /metrics did not answer within 30 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Time for the group to assign the partition before the first note.
    std::thread::sleep(Duration::from_secs(3));
    let mut args = base("player");
    args.extend(["--loop", "-s", &o.speed.to_string(), "-m"].map(String::from));
    args.push(song.display().to_string());
    let mut player = spawn(&o.kmidi, &args, &o.dir.join("soak-player.log"))?;
    let every = (o.duration / 12).max(Duration::from_secs(2));
    let mut points = Vec::new();
    let started = Instant::now();
    while started.elapsed() < o.duration {
        std::thread::sleep(every.min(o.duration.saturating_sub(started.elapsed())));
        let text = get(&metrics, "/metrics").unwrap_or_default();
        let (Some(i), Some(p)) = (sample(instrument.id()), sample(player.id())) else {
            bail!("a soak process exited early: see {}", o.dir.display());
        };
        points.push(Point {
            at: started.elapsed(),
            notes: sum(&text, "kmidi_messages_received_total"),
            latency_count: sum(&text, "kmidi_end_to_end_latency_seconds_count"),
            instrument: (i.0, i.1),
            player: (p.0, p.1),
        });
        eprintln!(
            "soak: {:.0?}: {} notes",
            started.elapsed(),
            points.last().map_or(0.0, |p| p.notes)
        );
    }
    interrupt(&player);
    wait_exit(&mut player, Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(3));
    interrupt(&instrument);
    wait_exit(&mut instrument, Duration::from_secs(30));
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&report).with_context(|| format!("{}", report.display()))?,
    )?;
    section(o, &points, &doc["sides"][0]["instrument"])
}

fn section(o: &Options, points: &[Point], heard: &serde_json::Value) -> Result<Section> {
    let (Some(first), Some(last)) = (points.get(points.len() / 4), points.last()) else {
        bail!("too short a soak to sample");
    };
    let notes = last.notes - first.notes;
    let grew_kib = last.instrument.1 as f64 - first.instrument.1 as f64;
    let per_100k = if notes > 0.0 {
        grew_kib / notes * 1e5
    } else {
        0.0
    };
    // What the instrument used to keep per note: one plot sample and its song name.
    let sample_bytes =
        std::mem::size_of::<kmidi_engine::measure::Sample>() + "ode_to_joy.mid".len();
    let keep_all_kib = sample_bytes as f64 * 1e5 / 1024.0;
    let secs = (last.at - first.at).as_secs_f64().max(1e-3);
    let cpu = |a: (u64, u64), b: (u64, u64)| (b.0 - a.0) as f64 / TICKS_PER_SEC / secs * 100.0;
    let mut s = Section::new(
        "8. Soak: memory and CPU over a long run",
        &format!(
            "`kmidi player --loop -s {}` (ode_to_joy.mid, about {:.0} notes/s) and `kmidi \
             instrument --metrics` on one broker for {:.0} s; RSS and CPU from /proc every \
             {:.0} s, notes from the instrument's own /metrics. Growth is measured from a \
             quarter of the way in (after warm-up) to the end.",
            o.speed,
            last.notes / last.at.as_secs_f64().max(1e-3),
            o.duration.as_secs_f64(),
            (o.duration / 12).max(Duration::from_secs(2)).as_secs_f64()
        ),
        &format!(
            "keeping one plot sample per note, as the instrument did before its samples \
             were windowed: {sample_bytes} bytes a note, {keep_all_kib:.0} KiB per 100k notes"
        ),
        &o.command,
    );
    s.rows.push(
        Row::new(
            "instrument RSS growth per 100k notes",
            "≤ 10 % of one sample per note",
        )
        .measured(format!("{per_100k:.0} KiB"))
        .reference(format!("{keep_all_kib:.0} KiB"))
        .ratio(format!("{:.2}", per_100k / keep_all_kib))
        .verdict(if notes < 1e5 {
            Verdict::Info
        } else {
            Verdict::check(per_100k <= 0.1 * keep_all_kib)
        }),
    );
    s.rows.push(
        Row::new("instrument RSS, quarter-way → end", "flat").measured(format!(
            "{} → {}",
            mib(first.instrument.1),
            mib(last.instrument.1)
        )),
    );
    s.rows.push(
        Row::new("player RSS, quarter-way → end", "flat").measured(format!(
            "{} → {}",
            mib(first.player.1),
            mib(last.player.1)
        )),
    );
    s.rows
        .push(Row::new("CPU: instrument / player", "").measured(format!(
            "{:.1} % / {:.1} %",
            cpu(first.instrument, last.instrument),
            cpu(first.player, last.player)
        )));
    let played = heard["played"].as_u64().unwrap_or(0);
    s.rows.push(
        Row::new(
            "notes heard; lost, duplicated, reordered",
            "0 lost, 0 dup, 0 reordered",
        )
        .measured(format!(
            "{played}; {}, {}, {}",
            heard["summary"]
                .as_array()
                .and_then(|rows| rows.iter().find(|r| r["name"] == "lost"))
                .and_then(|r| r["value"].as_str())
                .unwrap_or("?"),
            heard["duplicates"],
            heard["reordered"]
        ))
        .verdict(Verdict::check(
            heard["duplicates"] == 0 && heard["reordered"] == 0,
        )),
    );
    s.rows.push(
        Row::new("latency histogram count = notes (scraped)", "equal")
            .measured(format!("{} = {}", last.latency_count, last.notes))
            .verdict(Verdict::check(last.latency_count == last.notes)),
    );
    s.notes.push(format!(
        "Over time (s: notes, instrument RSS, player RSS): {}",
        points
            .iter()
            .map(|p| format!(
                "{:.0}: {:.0}, {}, {}",
                p.at.as_secs_f64(),
                p.notes,
                mib(p.instrument.1),
                mib(p.player.1)
            ))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    s.notes.push(format!(
        "Samples kept for plots: {} to {} (the most recent); songs kept in detail: {}.",
        kmidi_engine::measure::SAMPLES_KEPT,
        2 * kmidi_engine::measure::SAMPLES_KEPT,
        kmidi_engine::measure::MAX_TRACKS
    ));
    Ok(s)
}
