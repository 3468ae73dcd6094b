//! The `transport` load client, the driver's side: how a worker process is started
//! (`kmidi load-worker`, or whatever program the caller names), the job it is handed,
//! and what its lines amount to.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::driver::LoadReport;
use crate::scenario::LoadStep;

use super::process::Spawn;
use super::worker::{WorkerJob, WorkerLine, WorkerProgress};

/// How a load worker is started: `program args...`, the job as the first line of its
/// stdin, built from `transport`, `plugin_dirs` and the client `config` (the step's
/// bootstrap is set in it).
#[derive(Clone, Debug)]
pub struct WorkerCommand {
    pub program: PathBuf,
    /// E.g. `["load-worker"]` for the kmidi binary.
    pub args: Vec<OsString>,
    pub transport: String,
    pub plugin_dirs: Vec<PathBuf>,
    /// Client properties (security settings and the like); `bootstrap.servers` is the
    /// step's.
    pub config: Vec<(String, String)>,
}

impl WorkerCommand {
    /// The kmidi binary at `program` producing through `transport`.
    pub fn kmidi(program: impl Into<PathBuf>, transport: &str) -> Self {
        WorkerCommand {
            program: program.into(),
            args: vec!["load-worker".into()],
            transport: transport.to_string(),
            plugin_dirs: Vec::new(),
            config: Vec::new(),
        }
    }

    pub fn job(&self, load: &LoadStep, bootstrap: &str) -> WorkerJob {
        let mut config: Vec<(String, String)> = self
            .config
            .iter()
            .filter(|(k, _)| k != "bootstrap.servers")
            .cloned()
            .collect();
        config.insert(0, ("bootstrap.servers".to_string(), bootstrap.to_string()));
        WorkerJob {
            transport: self.transport.clone(),
            plugin_dirs: self.plugin_dirs.clone(),
            config,
            topic: load.topic.name.clone(),
            partitions: load.topic.partitions,
            replication_factor: load.topic.replication_factor,
            records_per_sec: load.records_per_sec(),
            record_size: load.record_size,
            duration_ms: load.duration.as_millis() as u64,
        }
    }

    pub fn spawn(&self, job: &WorkerJob, limit: Duration) -> Result<Spawn, String> {
        let line = serde_json::to_string(job).map_err(|e| format!("encoding the job: {e}"))?;
        Ok(Spawn {
            program: self.program.clone(),
            args: self.args.clone(),
            stdin_line: Some(line),
            limit,
        })
    }
}

/// What the step achieved, from the worker's lines; `Err` with the worker's own words
/// when it could not produce at all.
///
/// The ack latency percentiles are those of the worker's per-interval ESTIMATES (see
/// [`WorkerProgress::ack_latency_estimate_ms`]): the median and the 99th percentile of
/// the intervals' averages, not of single records.
pub fn worker_report(step: usize, load: &LoadStep, lines: &[String]) -> Result<LoadReport, String> {
    let parsed: Vec<WorkerLine> = lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    if let Some(message) = parsed.iter().find_map(|l| match l {
        WorkerLine::Fatal { message } => Some(message.clone()),
        _ => None,
    }) {
        return Err(message);
    }
    let progress: Vec<WorkerProgress> = parsed
        .iter()
        .filter_map(|l| match l {
            WorkerLine::Progress(p) | WorkerLine::Done(p) => Some(*p),
            _ => None,
        })
        .collect();
    let mut report = LoadReport::nothing(step, load.rate);
    let Some(last) = progress.last() else {
        return Ok(report);
    };
    report = report.with_sent(
        last.delivered,
        load.record_size,
        Duration::from_millis(last.elapsed_ms),
    );
    report.errors = last.failed;
    let mut estimates: Vec<f64> = progress
        .iter()
        .filter_map(|p| p.ack_latency_estimate_ms)
        .collect();
    estimates.sort_by(f64::total_cmp);
    report.ack_latency_p50_ms = nearest_rank(&estimates, 0.50);
    report.ack_latency_p99_ms = nearest_rank(&estimates, 0.99);
    Ok(report)
}

/// The nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadTopic, Rate};

    fn step() -> LoadStep {
        LoadStep {
            at: Duration::ZERO,
            rate: Rate::RecordsPerSec(200.0),
            record_size: 1000,
            duration: Duration::from_secs(2),
            topic: LoadTopic::default(),
            consumers: 0,
            ramp: None,
        }
    }

    fn line(l: &WorkerLine) -> String {
        serde_json::to_string(l).unwrap()
    }

    fn progress(elapsed_ms: u64, delivered: u64, estimate: Option<f64>) -> WorkerProgress {
        WorkerProgress {
            elapsed_ms,
            sent: delivered,
            delivered,
            failed: 0,
            ack_latency_estimate_ms: estimate,
        }
    }

    #[test]
    fn the_job_carries_the_step_and_the_steps_bootstrap() {
        let mut c = WorkerCommand::kmidi("/bin/kmidi", "rdkafka");
        c.config = vec![
            ("bootstrap.servers".into(), "elsewhere:1".into()),
            ("security.protocol".into(), "PLAINTEXT".into()),
        ];
        let job = c.job(&step(), "127.0.0.1:9092");
        assert_eq!(
            job.config,
            [
                (
                    "bootstrap.servers".to_string(),
                    "127.0.0.1:9092".to_string()
                ),
                ("security.protocol".to_string(), "PLAINTEXT".to_string())
            ]
        );
        assert_eq!(job.records(), 400);
        assert_eq!((job.topic.as_str(), job.partitions), ("kmidi_load", 6));
        let spawn = c.spawn(&job, Duration::from_secs(9)).unwrap();
        assert_eq!(spawn.args, [OsString::from("load-worker")]);
        let back: WorkerJob = serde_json::from_str(spawn.stdin_line.as_deref().unwrap()).unwrap();
        assert_eq!(back, job);
    }

    #[test]
    fn the_last_count_and_the_estimates_make_the_report() {
        let lines = vec![
            line(&WorkerLine::Progress(progress(500, 100, Some(2.0)))),
            "not json".to_string(),
            line(&WorkerLine::Warning {
                message: "w".into(),
            }),
            line(&WorkerLine::Progress(progress(1000, 200, Some(4.0)))),
            line(&WorkerLine::Progress(progress(1500, 300, None))),
            line(&WorkerLine::Done(progress(2000, 400, Some(3.0)))),
        ];
        let r = worker_report(1, &step(), &lines).unwrap();
        assert_eq!(r.records_sent, 400);
        assert_eq!(r.achieved_records_per_sec, 200.0);
        assert_eq!(r.achieved_bytes_per_sec, 200_000.0);
        assert_eq!(r.ack_latency_p50_ms, Some(3.0));
        assert_eq!(r.ack_latency_p99_ms, Some(4.0));
        let fatal = vec![line(&WorkerLine::Fatal {
            message: "no broker".into(),
        })];
        assert_eq!(worker_report(1, &step(), &fatal).unwrap_err(), "no broker");
        let none = worker_report(1, &step(), &[]).unwrap();
        assert_eq!(none.records_sent, 0);
    }
}
