//! What a load worker is handed (its job) and what it writes back (its lines).

use std::path::PathBuf;
use std::time::Duration;

use kmidi_transport::{ClientConfig, TransportError};

use crate::scenario::{MAX_RECORD_SIZE, MAX_STEP_DURATION};

/// What a worker is to do (its stdin's first line, as JSON).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkerJob {
    /// The transport's name, as `--transport` takes it (the binary resolves it).
    pub transport: String,
    #[serde(default)]
    pub plugin_dirs: Vec<PathBuf>,
    /// The client properties, `bootstrap.servers` included, in order.
    pub config: Vec<(String, String)>,
    pub topic: String,
    pub partitions: i32,
    pub replication_factor: i32,
    pub records_per_sec: f64,
    pub record_size: u64,
    pub duration_ms: u64,
}

impl WorkerJob {
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        for (k, v) in &self.config {
            config.set(k, v);
        }
        config
    }

    /// Records the step asks for: its rate over its duration, at least one.
    pub fn records(&self) -> u64 {
        (self.records_per_sec * self.duration().as_secs_f64())
            .ceil()
            .max(1.0) as u64
    }

    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.duration_ms)
    }

    /// Every load loop is bounded: refuses what the scenario grammar would have.
    pub fn check(&self) -> Result<(), WorkerError> {
        let bad = |what: String| Err(WorkerError::Job(what));
        if !(self.records_per_sec.is_finite() && self.records_per_sec > 0.0) {
            return bad(format!("rate {} records/s", self.records_per_sec));
        }
        if self.record_size == 0 || self.record_size > MAX_RECORD_SIZE {
            return bad(format!("record size {} bytes", self.record_size));
        }
        if self.duration_ms == 0 || self.duration() > MAX_STEP_DURATION {
            return bad(format!("duration {} ms", self.duration_ms));
        }
        if self.topic.is_empty() {
            return bad("no topic".to_string());
        }
        Ok(())
    }
}

/// How far the worker got.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkerProgress {
    /// Since the first record was due.
    pub elapsed_ms: u64,
    /// Records handed to the library.
    pub sent: u64,
    /// Records the broker acknowledged.
    pub delivered: u64,
    /// Records that failed for good, or that the library refused.
    pub failed: u64,
    /// The ack latency ESTIMATED by Little's law: records in flight (sent − delivered −
    /// failed) over the rate acks arrived at during the last interval. The transport
    /// API does not time each record, so this is an average over the interval, not a
    /// measured percentile; `None` when no ack arrived in it.
    pub ack_latency_estimate_ms: Option<f64>,
}

/// One line a worker writes.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "line", rename_all = "snake_case")]
pub enum WorkerLine {
    /// Every [`REPORT_EVERY`](super::REPORT_EVERY) while producing.
    Progress(WorkerProgress),
    /// Something went wrong that the load goes on despite (a failed record's reason).
    Warning { message: String },
    /// The worker could not produce; it exits.
    Fatal { message: String },
    /// The last line: what the step achieved.
    Done(WorkerProgress),
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("bad load job: {0}")]
    Job(String),
    #[error("{doing}: {source}")]
    Transport {
        doing: String,
        #[source]
        source: TransportError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> WorkerJob {
        WorkerJob {
            transport: "rdkafka".into(),
            plugin_dirs: Vec::new(),
            config: vec![("bootstrap.servers".into(), "127.0.0.1:9092".into())],
            topic: "kmidi_load".into(),
            partitions: 6,
            replication_factor: 1,
            records_per_sec: 500.0,
            record_size: 1000,
            duration_ms: 3000,
        }
    }

    #[test]
    fn a_job_round_trips_and_is_bounded() {
        let j = job();
        let text = serde_json::to_string(&j).unwrap();
        assert_eq!(serde_json::from_str::<WorkerJob>(&text).unwrap(), j);
        assert_eq!(j.records(), 1500);
        assert!(j.check().is_ok());
        for bad in [
            WorkerJob {
                records_per_sec: 0.0,
                ..job()
            },
            WorkerJob {
                records_per_sec: f64::NAN,
                ..job()
            },
            WorkerJob {
                record_size: 0,
                ..job()
            },
            WorkerJob {
                record_size: MAX_RECORD_SIZE + 1,
                ..job()
            },
            WorkerJob {
                duration_ms: 0,
                ..job()
            },
            WorkerJob {
                duration_ms: 3_600_001,
                ..job()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lines_are_tagged_json() {
        let line = WorkerLine::Progress(WorkerProgress {
            elapsed_ms: 500,
            sent: 250,
            delivered: 249,
            failed: 0,
            ack_latency_estimate_ms: Some(2.0),
        });
        let text = serde_json::to_string(&line).unwrap();
        assert!(
            text.starts_with(r#"{"line":"progress","elapsed_ms":500"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<WorkerLine>(&text).unwrap(), line);
    }
}
