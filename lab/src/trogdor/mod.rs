//! The `trogdor=URL` load driver: load made by Apache Kafka's own distributed workload
//! engine. A Trogdor coordinator (`scripts/kafka.sh trogdor-start` runs one with its
//! agents on loopback; a real fleet runs Kafka's `bin/trogdor.sh` on its own hosts)
//! takes tasks on its REST API and runs them on its agents: each load step becomes
//! `ProduceBenchSpec` tasks (and `ConsumeBenchSpec` tasks for its consumer group) created
//! when the step starts, followed until done, and stopped and destroyed when kmidi
//! stops.
//!
//! - `client`: the coordinator's REST API (create, follow, stop, destroy),
//! - `spec`: the task specs as Trogdor reads them, `state`: what it answers,
//! - `plan`: how a step is spread over the agents, `report`: what its tasks achieved,
//! - `driver`: [`TrogdorDriver`], the [`crate::LoadDriver`] tying them together.

mod client;
mod driver;
mod plan;
mod report;
mod spec;
mod state;

pub use client::{TrogdorClient, TrogdorError, REQUEST_TIMEOUT};
pub use driver::{TrogdorDriver, SETUP_GRACE, STOP_WAIT};
pub use plan::{consumer_shares, producer_shares, ProducerShare};
pub use spec::{
    ConsumeBench, CreateTask, PartitionsSpec, Payload, ProduceBench, CONSUME_BENCH_CLASS,
    PRODUCER_CONF, PRODUCE_BENCH_CLASS,
};
pub use state::{
    ConsumeStatus, CoordinatorStatus, ProduceStatus, TaskState, TaskStateType, TasksResponse,
};
