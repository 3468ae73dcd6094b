//! kmidi against a real three-node Kafka 4 cluster (`scripts/kafka.sh start-cluster`),
//! one cluster for the whole binary so the suite stays fast on two cores: the
//! per-broker probe topic and the leadership reading (`per_broker`), a voice and
//! figures per broker (`voices`), and broker steps scripted at song times (`steps`).

mod common;

#[path = "brokers/per_broker.rs"]
mod per_broker;
#[path = "brokers/steps.rs"]
mod steps;
#[path = "brokers/voices.rs"]
mod voices;

use std::sync::{Mutex, MutexGuard, OnceLock};

use kmidi_test_support::Cluster;

/// This binary's cluster: node.id 1..=3, named `{base}-{id}` by `scripts/kafka.sh`.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| Cluster::start(&kmidi_test_support::kafka_version("4"), 3))
}

/// One test at a time: tests take brokers down, and the others time what they hear.
/// Every test holds it for its whole run and leaves every broker up when it ends.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}
