//! Benchmark 11: the load at which the music breaks. Kafka's ProducerPerformance at full
//! speed gives the broker's saturation on this machine (the reference); then one
//! `kmidi compare` plays the song through two transports under the same ramp of load,
//! from a tenth of that saturation up to it, made by kmidi's local load workers, and
//! each side's knee (the lowest level at which its onset error p99 passed 6 ms, and
//! 20 ms) is reported beside the saturation. The player's own scheduling lateness at
//! the knee says whether the host (two cores shared with the load) or the cluster gave.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::java;
use crate::report::{Row, Section, Verdict};
use crate::transports::create_topic;

/// The load's record size, as benchmark 5's.
const RECORD_SIZE: usize = 10_000;
/// Bounds on what one run may ask for.
const MAX_LEVELS: u32 = 20;
const MAX_RECORDS: u64 = 1_000_000;

pub struct Options {
    pub bootstrap: String,
    /// The Kafka version whose jars run ProducerPerformance.
    pub version: String,
    pub repo: PathBuf,
    pub kmidi: PathBuf,
    /// Side B's transport (side A is rdkafka): a plugin path or a built-in name.
    pub other: String,
    pub song: PathBuf,
    pub levels: u32,
    pub every: Duration,
    /// Records ProducerPerformance sends for the saturation.
    pub records: u64,
    pub limit: Duration,
    pub dir: PathBuf,
    pub command: String,
}

/// ProducerPerformance at full speed: MB/s (decimal) and records/s.
fn saturation(o: &Options) -> Result<(f64, f64)> {
    let topic = format!("kmidi-bench-saturation-{}", std::process::id());
    create_topic(&o.bootstrap, &topic)?;
    let mut args = java::full_speed_args(&o.bootstrap, &topic, o.records, RECORD_SIZE);
    args.push("batch.size=1048576".into());
    eprintln!(
        "load: Java ProducerPerformance x{} at full speed",
        o.records
    );
    let out = java::run_tool(
        &o.repo,
        &o.version,
        java::PRODUCER_PERFORMANCE,
        &args,
        o.limit,
    )?;
    let (rate, _) = java::parse_perf(&out)?;
    Ok((rate * RECORD_SIZE as f64 / 1e6, rate))
}

/// The ramp: `levels` levels from `sat/levels` up to `sat`, each `every` long, from 2 s,
/// on a topic of one partition like the saturation's.
fn ramp(sat_mb: f64, levels: u32, every: Duration) -> String {
    let step = sat_mb / f64::from(levels);
    format!(
        "ramp@2s:from={step:.2}MB/s:to={:.2}MB/s:step={step:.2}MB/s:every={}ms:size=10KB:\
         topic=kmidi-bench-load-{}:partitions=1",
        step * f64::from(levels) + step / 2.0,
        every.as_millis(),
        std::process::id()
    )
}

/// One `kmidi compare` under the ramp; its `--report`.
fn compare(o: &Options, dir: &Path, scenario: &str) -> Result<Value> {
    let report = dir.join("load.json");
    let log = dir.join("load.log");
    let _ = std::fs::remove_file(&report);
    let mut cmd = Command::new(&o.kmidi);
    cmd.current_dir(dir)
        .args(["compare", "-q", "--no-port", "-b", &o.bootstrap])
        .args(["--transport-a", "rdkafka", "--transport-b", &o.other])
        .arg("--song")
        .arg(&o.song)
        .args(["--scenario", scenario, "--report"])
        .arg(&report)
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?,
        );
    eprintln!("load: kmidi compare rdkafka / {} under {scenario}", o.other);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", o.kmidi.display()))?;
    let status = java::wait_bounded(&mut child, o.limit)
        .with_context(|| format!("waiting for kmidi compare ({} s)", o.limit.as_secs()))?;
    let text = std::fs::read(&report).with_context(|| {
        format!(
            "kmidi compare ({status:?}) wrote no report; its output is in {}",
            log.display()
        )
    })?;
    serde_json::from_slice(&text).context("reading kmidi compare's report")
}

fn mb_of(rate: &Value) -> Option<f64> {
    rate.get("bytes_per_sec")?.as_f64().map(|b| b / 1e6)
}

pub fn run(o: &Options) -> Result<Section> {
    if o.levels == 0 || o.levels > MAX_LEVELS {
        bail!("--levels: 1 to {MAX_LEVELS}");
    }
    if o.records == 0 || o.records > MAX_RECORDS {
        bail!("--records: 1 to {MAX_RECORDS}");
    }
    std::fs::create_dir_all(&o.dir).with_context(|| format!("creating {}", o.dir.display()))?;
    let dir =
        std::fs::canonicalize(&o.dir).with_context(|| format!("finding {}", o.dir.display()))?;
    let mut s = Section::new(
        "11. The load at which the music breaks (Kafka 4.3.1)",
        "One `kmidi compare` (rdkafka against the other transport, same song, same broker) \
         under a `--scenario` ramp of 10 KB records made by kmidi's local load workers \
         (rdkafka, separate processes on the same 2 cores), from a tenth of the broker's \
         saturation up to it; each side's knee is the lowest level whose onset error p99 \
         passed 6 ms (heard out of time) and 20 ms (a wrong melody). Ratios are knee over \
         saturation.",
        "Kafka's ProducerPerformance at full speed on the same broker just before: 10 KB \
         records to a topic of one partition (as the ramp's), acks=all, linger.ms=0, \
         batch.size=1 MB",
        &o.command,
    );
    let (sat_mb, sat_rate) = saturation(o)?;
    let sat = format!("{sat_mb:.1} MB/s ({sat_rate:.0} rec/s)");
    s.rows.push(
        Row::new("broker saturation (ProducerPerformance)", "reference")
            .measured(sat.clone())
            .reference(sat.clone()),
    );
    let scenario = ramp(sat_mb, o.levels, o.every);
    let doc = compare(o, &dir, &scenario)?;
    let steps = doc["load"]["steps"].as_array().cloned().unwrap_or_default();
    let top = steps
        .iter()
        .filter_map(|st| st["achieved"]["achieved_bytes_per_sec"].as_f64())
        .fold(0.0, f64::max)
        / 1e6;
    s.rows.push(
        Row::new("highest load achieved by a level", "context")
            .measured(format!("{top:.1} MB/s"))
            .reference(sat.clone())
            .ratio(format!("{:.2}", top / sat_mb)),
    );
    for side in doc["sides"].as_array().cloned().unwrap_or_default() {
        let label = side["label"].as_str().unwrap_or("?").to_string();
        let Some(k) = side["load"]["knees"].get(0) else {
            s.notes
                .push(format!("{label}: no ramp figures in the report"));
            continue;
        };
        let run = format!("{} of {} levels run", k["levels_run"], k["levels"]);
        for (what, key, step_key) in [
            (
                "out of time (onset p99 > 6 ms)",
                "out_of_time",
                "out_of_time_step",
            ),
            (
                "wrong melody (> 20 ms)",
                "wrong_melody",
                "wrong_melody_step",
            ),
        ] {
            let row = Row::new(format!("{label}: knee, {what}"), "context");
            let row = match mb_of(&k["knee"][key]) {
                Some(mb) => {
                    let lateness = k[step_key]
                        .as_u64()
                        .and_then(|i| {
                            side["load"]["steps"]
                                .as_array()?
                                .iter()
                                .find(|f| f["step"].as_u64() == Some(i))
                        })
                        .and_then(|f| f["during"]["player_lateness_p99_us"].as_u64());
                    row.measured(format!(
                        "{mb:.1} MB/s ({run}; player lateness p99 there {})",
                        lateness.map_or("-".into(), |l| format!("{:.1} ms", l as f64 / 1e3))
                    ))
                    .ratio(format!("{:.2}", mb / sat_mb))
                }
                None => row.measured(format!("not reached ({run})")),
            };
            s.rows
                .push(row.reference(sat.clone()).verdict(Verdict::Info));
        }
    }
    s.notes.push(format!("The scenario: `{scenario}`."));
    s.notes.push(
        "The load workers, the player, the instrument and the broker share two cores: a \
         knee with a player lateness of milliseconds is this host giving before the \
         cluster does; on a real cluster, make the load with `--load-driver trogdor=URL` \
         from other hosts."
            .into(),
    );
    Ok(s)
}

/// The franz-go plugin beside the others, or rdkafka when it is not built.
pub fn other_transport(plugins: &Path) -> String {
    let franz = plugins.join("libkmidi_franz_go.so");
    if franz.is_file() {
        franz.display().to_string()
    } else {
        "rdkafka".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ramp_rises_in_tenths_of_the_saturation_up_to_it() {
        let r: kmidi_lab::Scenario = ramp(50.0, 10, Duration::from_secs(2)).parse().unwrap();
        assert_eq!(r.load.len(), 10);
        assert!((r.load[0].bytes_per_sec() - 5e6).abs() < 1e3);
        assert!((r.load[9].bytes_per_sec() - 50e6).abs() < 1e3);
    }
}
