//! `--metrics ADDR:PORT`: what a run measures, served live in Prometheus's text format
//! on `/metrics` (prometheus-client's registry and encoder; `server` is the HTTP side),
//! for dashboards and alerts on a probe that runs for days.
//!
//! Latencies are histograms in seconds with buckets from 100 µs to 30 s whose edges
//! include the ear's thresholds (6 ms heard as out of time, 20 ms as a wrong melody),
//! which kminion's end-to-end histograms (from 5 ms) cannot resolve. Where kminion has
//! the same measurement, the same name is exported too (`kminion_end_to_end_*`, label
//! `partition_id`), so its dashboards work on kmidi; README's metrics section has the
//! list and the mapping.

mod brokers;
mod families;
mod load;
mod observer;
mod server;

use std::sync::Arc;
use std::time::Duration;

use kmidi_engine::observe::Observer;

use crate::cli::MetricsArgs;
pub use families::Metrics;
pub use load::LoadSeries;
use observer::SideObserver;
pub use server::{bind, scrape};

/// What a process does, which decides the series it exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Plays only (`player`): producer series.
    Player,
    /// Listens only (`instrument`): listener series.
    Instrument,
    /// Both in one process (`compare`, `demo`).
    Both,
}

impl Role {
    pub fn produces(self) -> bool {
        matches!(self, Role::Player | Role::Both)
    }

    pub fn listens(self) -> bool {
        matches!(self, Role::Instrument | Role::Both)
    }
}

/// The metrics `--metrics` asks for, already served; `None` without the flag.
pub fn start(args: &MetricsArgs, role: Role) -> anyhow::Result<Option<Arc<Metrics>>> {
    let Some(addr) = &args.metrics else {
        return Ok(None);
    };
    let metrics = Arc::new(Metrics::new(role));
    server::serve(addr, Arc::clone(&metrics))?;
    Ok(Some(metrics))
}

/// How long a command that ended by itself waits for a last scrape.
pub const LINGER: Duration = Duration::from_secs(15);

/// Before exiting: the last scrape, unless a signal ended the run (the user wants out).
pub fn finish(metrics: &Option<Arc<Metrics>>, interrupted: bool) {
    if let (Some(m), false) = (metrics, interrupted) {
        m.linger(LINGER);
    }
}

/// The observer feeding `metrics` for one transport's clients on `topic`.
pub fn observer(
    metrics: &Option<Arc<Metrics>>,
    transport: &str,
    topic: &str,
) -> Option<Arc<dyn Observer>> {
    metrics
        .as_ref()
        .map(|m| SideObserver::shared(m, transport, topic))
}

/// The observer feeding the `kmidi_broker_*` series of one transport's instrument on
/// `topic`, charging each note to its partition's leader as `live` knows it.
pub fn broker_observer(
    metrics: &Option<Arc<Metrics>>,
    transport: &str,
    topic: &str,
    live: &Arc<crate::leaders::LiveLeaders>,
) -> Option<Arc<dyn Observer>> {
    metrics
        .as_ref()
        .map(|m| brokers::BrokerObserver::shared(m, transport, topic, live))
}

#[cfg(test)]
mod tests;
