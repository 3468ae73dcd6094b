//! The `local` load driver: load made on this machine by processes of their own, so
//! the music's own producer and consumer keep their threads. Two load clients:
//!
//! - `java`: Kafka's own ProducerPerformance (and ConsumerPerformance for a step's
//!   consumer group) from the project's Kafka jars, via `scripts/kafka.sh run-tool`;
//! - `transport`: kmidi's load worker (`kmidi load-worker`, [`worker::run`]) producing
//!   through one of kmidi's transports.
//!
//! Every step is a process group with a watchdog: killed by `stop_all` and on drop,
//! and by the watchdog when kmidi dies or the step overstays its duration plus a grace.
//! A cluster that is not on loopback is refused unless the driver is built with
//! `allow_remote(true)` (the user's `--load-remote`).
//!
//! - `process`: one process group, its output and its watchdog;
//! - `java` and `perf`: the java client's step script and what its tools print;
//! - `worker`: the transport worker's loop; `transport`: the driver's side of it;
//! - `driver`: [`LocalDriver`], the [`crate::LoadDriver`] tying them together.

mod driver;
mod java;
mod perf;
mod process;
mod transport;
pub mod worker;

pub use driver::{LoadClient, LocalDriver, STEP_GRACE, WORKER_STOP_WAIT};
pub use java::{step_records, JavaTools, CONSUMER_IDLE_TIMEOUT};
pub use perf::{parse_producer_line, ProducerLine};
pub use transport::WorkerCommand;
pub use worker::{WorkerError, WorkerJob, WorkerLine, WorkerProgress};
