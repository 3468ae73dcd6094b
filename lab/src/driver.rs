//! What makes the load: a driver starts each load step at its time, outside kmidi's own
//! threads (separate processes, or a Trogdor coordinator's agents), follows it, and says
//! what it achieved beside what it was asked.
//!
//! Safety is the drivers' contract: everything a driver started stops when it is told
//! (`stop_all`) and when it is dropped, whatever happened before (an error, Ctrl-C):
//! nothing keeps loading someone's cluster behind their back.

use std::time::Duration;

use crate::scenario::{LoadStep, Rate};

/// A load step a driver started.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StepHandle {
    /// The step's index in `Scenario::load`.
    pub step: usize,
    /// The driver's own name for it: a Trogdor task id, a process id.
    pub id: String,
    /// When it was started, wall clock, µs since the Unix epoch.
    pub started_us: u64,
}

/// What one load step achieved, beside what it asked for.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LoadReport {
    /// The step's index in `Scenario::load`.
    pub step: usize,
    pub asked: Rate,
    pub achieved_records_per_sec: f64,
    pub achieved_bytes_per_sec: f64,
    /// The load producer's own ack latency, as its tool reports it; `None` when the
    /// tool says nothing.
    pub ack_latency_p50_ms: Option<f64>,
    pub ack_latency_p99_ms: Option<f64>,
    pub records_sent: u64,
    /// Records the load consumer group read (`None` without consumers).
    pub records_consumed: Option<u64>,
    /// Records or requests that failed.
    pub errors: u64,
}

impl LoadReport {
    /// Nothing achieved yet (a step that could not start, or has not reported).
    pub fn nothing(step: usize, asked: Rate) -> Self {
        LoadReport {
            step,
            asked,
            achieved_records_per_sec: 0.0,
            achieved_bytes_per_sec: 0.0,
            ack_latency_p50_ms: None,
            ack_latency_p99_ms: None,
            records_sent: 0,
            records_consumed: None,
            errors: 0,
        }
    }

    /// Sets the achieved rates from what was sent of `record_size` bytes over `elapsed`.
    pub fn with_sent(mut self, records_sent: u64, record_size: u64, elapsed: Duration) -> Self {
        self.records_sent = records_sent;
        let s = elapsed.as_secs_f64();
        if s > 0.0 {
            self.achieved_records_per_sec = records_sent as f64 / s;
            self.achieved_bytes_per_sec = records_sent as f64 * record_size as f64 / s;
        }
        self
    }

    /// Achieved over asked, in the asked unit (1.0: the load was made as asked).
    pub fn fraction_achieved(&self) -> Option<f64> {
        let (asked, achieved) = match self.asked {
            Rate::BytesPerSec(b) => (b, self.achieved_bytes_per_sec),
            Rate::RecordsPerSec(r) => (r, self.achieved_records_per_sec),
        };
        (asked > 0.0).then(|| achieved / asked)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error(
        "refusing to load '{bootstrap}': not on loopback; loading a real cluster \
         needs the explicit flag that says so"
    )]
    NotLoopback { bootstrap: String },
    #[error("load step {step}: could not start: {reason}")]
    Start { step: usize, reason: String },
    #[error("load step {step}: {reason}")]
    Step { step: usize, reason: String },
    #[error("no load step has the handle '{0}'")]
    UnknownHandle(String),
    /// What the load's backend (a coordinator, a tool) answered, e.g. an HTTP error.
    #[error("{what}: {reason}")]
    Remote { what: String, reason: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// Stopping left something running: the caller must say so loudly.
    #[error("could not stop all load: {0}")]
    Stop(String),
}

/// Makes the load of each step. Implementations stop everything they started on drop.
pub trait LoadDriver {
    /// Starts load step `step` (its index in `Scenario::load`) against `bootstrap`.
    fn start(
        &mut self,
        step: usize,
        load: &LoadStep,
        bootstrap: &str,
    ) -> Result<StepHandle, DriverError>;

    /// The step's report once it has finished, `None` while it runs.
    fn poll(&mut self, handle: &StepHandle) -> Result<Option<LoadReport>, DriverError>;

    /// Stops every step still running (and, for Trogdor, destroys the tasks created).
    fn stop_all(&mut self) -> Result<(), DriverError>;
}

/// Whether every `host:port` of a bootstrap list is on loopback (`127.0.0.0/8`, `::1`,
/// `localhost`): load elsewhere needs the user's explicit say-so.
pub fn bootstrap_is_loopback(bootstrap: &str) -> bool {
    let hosts: Vec<&str> = bootstrap
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(host_of)
        .collect();
    !hosts.is_empty() && hosts.iter().all(|h| is_loopback_host(h))
}

/// `host:port`, `[v6]:port`, `PLAINTEXT://host:port` → the host.
fn host_of(addr: &str) -> &str {
    let addr = addr.rsplit_once("://").map_or(addr, |(_, a)| a);
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    match addr.rsplit_once(':') {
        // A bare IPv6 address has several colons and no port.
        Some((h, _)) if !h.contains(':') => h,
        _ => addr,
    }
}

fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// What every driver checks before it starts step `step`: not started already, and a
/// cluster on loopback unless the user allowed another (`allow_remote`).
pub fn check_start(
    already: bool,
    allow_remote: bool,
    step: usize,
    bootstrap: &str,
) -> Result<(), DriverError> {
    if already {
        return Err(DriverError::Start {
            step,
            reason: "it was started already".to_string(),
        });
    }
    if !allow_remote && !bootstrap_is_loopback(bootstrap) {
        return Err(DriverError::NotLoopback {
            bootstrap: bootstrap.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_bootstraps_are_loopback() {
        for yes in [
            "127.0.0.1:9092",
            "localhost:9092",
            "127.0.0.1:9092, 127.0.0.2:9093",
            "[::1]:9092",
            "::1",
            "PLAINTEXT://127.0.0.1:9092",
            "LOCALHOST:1",
        ] {
            assert!(bootstrap_is_loopback(yes), "{yes}");
        }
        for no in [
            "",
            " , ",
            "10.0.0.1:9092",
            "127.0.0.1:9092,kafka.prod:9092",
            "kafka:9092",
            "localhost.evil.com:9092",
            "[2001:db8::1]:9092",
            "0.0.0.0:9092",
        ] {
            assert!(!bootstrap_is_loopback(no), "{no}");
        }
    }

    #[test]
    fn a_report_computes_its_achieved_rates() {
        let r = LoadReport::nothing(3, Rate::BytesPerSec(1e6)).with_sent(
            200,
            10_000,
            Duration::from_secs(4),
        );
        assert_eq!(r.step, 3);
        assert_eq!(r.achieved_records_per_sec, 50.0);
        assert_eq!(r.achieved_bytes_per_sec, 500_000.0);
        assert_eq!(r.fraction_achieved(), Some(0.5));
        let r =
            LoadReport::nothing(0, Rate::RecordsPerSec(100.0)).with_sent(100, 1000, Duration::ZERO);
        assert_eq!(r.achieved_records_per_sec, 0.0);
        assert_eq!(r.fraction_achieved(), Some(0.0));
    }
}
