//! Benchmark 6: what the real `kmidi instrument` process costs while a song plays:
//! peak RSS (VmHWM from /proc/PID/status) and CPU (utime + stime from /proc/PID/stat),
//! per transport; the real `kmidi player` is measured alongside.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::report::{Row, Section};
use crate::stats::ratio;
use crate::transports::{create_topic, label};

/// Linux reports /proc CPU times in USER_HZ, which is 100 on every mainstream arch.
pub(crate) const TICKS_PER_SEC: f64 = 100.0;

/// (CPU ticks so far, RSS KiB, peak RSS KiB) of a live process.
pub(crate) fn sample(pid: u32) -> Option<(u64, u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may itself contain spaces and ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((ticks, kib("VmRSS:")?, kib("VmHWM:")?))
}

#[derive(Default, Clone, Copy)]
struct Usage {
    peak_kib: u64,
    cpu_pct: f64,
}

/// Samples `pid` every 100 ms while `running` says so; CPU over the whole window.
fn watch(pid: u32, mut running: impl FnMut() -> bool, limit: Duration) -> Usage {
    let started = Instant::now();
    let first = sample(pid);
    let mut last = first;
    while running() && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(100));
        match sample(pid) {
            Some(s) => last = Some(s),
            // Gone (or a zombie, which has no VmRSS): keep the last figures.
            None => break,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    match (first, last) {
        (Some(a), Some(b)) => Usage {
            peak_kib: b.2,
            cpu_pct: (b.0 - a.0) as f64 / TICKS_PER_SEC / secs * 100.0,
        },
        _ => Usage::default(),
    }
}

pub(crate) fn spawn(kmidi: &Path, args: &[String], log: &Path) -> Result<Child> {
    let file = std::fs::File::create(log)?;
    Command::new(kmidi)
        .args(args)
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .spawn()
        .with_context(|| format!("starting {}", kmidi.display()))
}

struct Figures {
    idle: Usage,
    instrument: Usage,
    player: Usage,
    played: String,
}

fn one(o: &Options, transport: &str, song: &Path) -> Result<Figures> {
    let name = label(transport);
    let topic = format!("bench-fp-{}-{name}", std::process::id());
    create_topic(&o.bootstrap, &topic)?;
    let common = |cmd: &str| -> Vec<String> {
        [
            cmd,
            "-b",
            &o.bootstrap,
            "-t",
            &topic,
            "--transport",
            transport,
            "-q",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let mut args = common("instrument");
    let rec = o.dir.join(format!("fp-{name}.mid"));
    args.extend([
        "--record".into(),
        rec.display().to_string(),
        "--idle-exit".into(),
        "3".into(),
    ]);
    args.extend(["-g".into(), format!("bench-fp-{name}")]);
    let log = o.dir.join(format!("fp-{name}-instrument.log"));
    let mut instrument = spawn(&o.kmidi, &args, &log)?;
    let pid = instrument.id();
    // The idle window doubles as the wait for the group to assign the partition.
    let idle = watch(pid, || true, o.idle);
    let mut args = common("player");
    args.extend(["-m".into(), song.display().to_string()]);
    let mut player = spawn(
        &o.kmidi,
        &args,
        &o.dir.join(format!("fp-{name}-player.log")),
    )?;
    let ppid = player.id();
    let limit = o.song + Duration::from_secs(60);
    let (instrument_usage, player_usage) = std::thread::scope(|s| {
        let p = s.spawn(|| watch(ppid, || true, limit));
        let i = watch(pid, || matches!(player.try_wait(), Ok(None)), limit);
        // The player's watch ends when its process is gone (sample() fails).
        (i, p.join().unwrap_or_default())
    });
    let _ = player.kill();
    let _ = player.wait();
    let until = Instant::now() + Duration::from_secs(30);
    while matches!(instrument.try_wait(), Ok(None)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = instrument.kill();
    let _ = instrument.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let played = text
        .lines()
        .find(|l| l.starts_with("played "))
        .unwrap_or("played ? (see the instrument's log)")
        .to_string();
    if instrument_usage.peak_kib == 0 {
        bail!(
            "no /proc figures for the instrument (did it start? {})",
            log.display()
        );
    }
    Ok(Figures {
        idle,
        instrument: instrument_usage,
        player: player_usage,
        played,
    })
}

pub struct Options {
    pub kmidi: PathBuf,
    pub bootstrap: String,
    pub transports: Vec<String>,
    pub song: Duration,
    /// How long the instrument is watched idle before the song (also the time the
    /// group has to assign it the partition).
    pub idle: Duration,
    pub dir: PathBuf,
    pub command: String,
}

pub fn run(o: &Options) -> Result<Section> {
    std::fs::create_dir_all(&o.dir)?;
    let song = o.dir.join("bench_song.mid");
    crate::song::write(&song, o.song)?;
    let events = crate::song::score(o.song)?.events.len();
    let mut s = Section::new(
        "6. Footprint of the real `kmidi instrument` (and player) while a song plays",
        &format!(
            "`kmidi instrument --record … --idle-exit 2` and `kmidi player -m` a generated \
             {:.0} s song of {events} messages ({:.0} messages/s) through each transport; \
             /proc sampled every 100 ms. Peak RSS = VmHWM; CPU = (utime + stime) / wall \
             time while the player runs, in % of one core.",
            o.song.as_secs_f64(),
            events as f64 / o.song.as_secs_f64()
        ),
        &format!(
            "the same instrument process idle ({:.0} s before the song, connected and \
             assigned), and the rdkafka transport's figures for the plugins",
            o.idle.as_secs_f64()
        ),
        &o.command,
    );
    let mut base: Option<Figures> = None;
    for t in &o.transports {
        let name = label(t);
        eprintln!("footprint: {name}");
        match one(o, t, &song) {
            Ok(f) => {
                let mib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
                let reference = match &base {
                    Some(b) => format!(
                        "rdkafka: {}, {:.1} %",
                        mib(b.instrument.peak_kib),
                        b.instrument.cpu_pct
                    ),
                    None => format!("idle: {:.1} % CPU", f.idle.cpu_pct),
                };
                s.rows.push(
                    Row::new(format!("{name} instrument peak RSS, CPU"), "")
                        .measured(format!(
                            "{}, {:.1} % ({})",
                            mib(f.instrument.peak_kib),
                            f.instrument.cpu_pct,
                            f.played
                        ))
                        .reference(reference)
                        .ratio(base.as_ref().map_or(String::new(), |b| {
                            format!(
                                "RSS {}",
                                ratio(f.instrument.peak_kib as f64, b.instrument.peak_kib as f64)
                            )
                        })),
                );
                s.rows.push(
                    Row::new(format!("{name} player peak RSS, CPU"), "")
                        .measured(format!(
                            "{}, {:.1} %",
                            mib(f.player.peak_kib),
                            f.player.cpu_pct
                        ))
                        .reference(base.as_ref().map_or("–".to_string(), |b| {
                            format!(
                                "rdkafka: {}, {:.1} %",
                                mib(b.player.peak_kib),
                                b.player.cpu_pct
                            )
                        })),
                );
                if base.is_none() && name == "rdkafka" {
                    base = Some(f);
                }
            }
            Err(err) => s.notes.push(format!("{name}: {err:#}")),
        }
    }
    s.notes.push(
        "The player's CPU includes its spin for the last 1.5 ms before each deadline \
         (sleep_until), by design: it buys the scheduling precision of section 1."
            .to_string(),
    );
    Ok(s)
}
