//! The broker and exec steps' drivers, kept out of the engine: `script` acts on the
//! nodes of a cluster `scripts/kafka.sh` started (SIGKILL, SIGSTOP/SIGCONT, restart),
//! `trogdor` pauses a broker through a Trogdor agent on its host (Kafka's own
//! `ProcessStopFaultSpec`), `exec` runs the user's own command, `isr` tells when every
//! partition has a leader and a full ISR again, and `charge` what a step cost the music
//! (silences per partition and per broker, and the notes before, during and after it).
//!
//! Nothing here outlives kmidi: every driver remembers what it paused or took down and
//! puts it back when released or dropped; an exec child is killed at exit.

pub mod charge;
pub mod exec;
pub mod isr;
pub mod script;
pub mod trogdor;

pub use charge::{charge, ChargeInput, Silence, StepCharge};
pub use exec::{ExecOutcome, ExecRun};
pub use isr::{full_isr, not_full};
pub use script::{ScriptCluster, ScriptNode};

/// What went wrong acting on a broker.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    #[error("{0}")]
    Cluster(String),
    #[error("broker {0} is not a node of this cluster ({1})")]
    NoSuchBroker(i32, String),
    #[error("{what}: {why}")]
    Command { what: String, why: String },
    #[error("{0} is not something this fault driver can do: {1}")]
    Unsupported(&'static str, String),
    #[error("the Trogdor coordinator: {0}")]
    Trogdor(String),
}

/// Acts on one broker by its node id. Every method says what it did, for the report.
pub trait BrokerDriver: Send + Sync {
    /// One line: who acts and how (`scripts/kafka.sh on cluster X`).
    fn describe(&self) -> String;
    /// The node ids it can act on, ascending.
    fn brokers(&self) -> Vec<i32>;
    /// How the broker is named to the user (`node kmidi-2, pid 1234`).
    fn name(&self, broker: i32) -> String;
    fn kill(&self, broker: i32) -> Result<String, FaultError>;
    /// Starts a killed broker again (same node, same data).
    fn start(&self, broker: i32) -> Result<String, FaultError>;
    /// Pauses it for at most `hold` (a driver that can bound it does).
    fn pause(&self, broker: i32, hold: std::time::Duration) -> Result<String, FaultError>;
    fn unpause(&self, broker: i32) -> Result<String, FaultError>;
    /// A clean stop and a start, waiting until it is up.
    fn restart(&self, broker: i32) -> Result<String, FaultError>;
    /// Puts back everything still paused or down (at exit, Ctrl-C included); what it did.
    fn release_all(&self) -> Vec<String>;
}
