//! `--fault-driver trogdor=URL,agents=ID:NODE+...`: `broker-pause` through Trogdor,
//! Kafka's own fault engine, on a real cluster. The pause is a `ProcessStopFaultSpec`
//! task on the agent of the broker's host: the agent runs `jcmd`, SIGSTOPs every Java
//! process whose `jcmd` line contains `javaProcessName`, and SIGCONTs them when the task
//! ends (its `durationMs`, or kmidi stopping and destroying it). Trogdor bounds the
//! pause itself, so even a kmidi that died does not leave a broker stopped for longer
//! than asked.
//!
//! `javaProcessName` is matched against the whole `jcmd` line (main class and
//! arguments), `kafka.Kafka` unless `process=` says: on a host with one broker, that is
//! the broker. On one machine running several brokers (the script's cluster) every
//! broker's line has `kafka.Kafka`: `process=` may hold `{id}`, replaced by the broker
//! id, e.g. `process=NAME-{id}/server.properties` names one node's config file.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use super::{BrokerDriver, FaultError};
use crate::trogdor::TrogdorClient;

pub const PROCESS_STOP_FAULT_CLASS: &str = "org.apache.kafka.trogdor.fault.ProcessStopFaultSpec";
/// What `javaProcessName` is unless told: a Kafka broker's main class.
pub const DEFAULT_PROCESS: &str = "kafka.Kafka";

/// `ProcessStopFaultSpec`, as the coordinator reads it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessStopFault {
    pub class: &'static str,
    /// 0: at once.
    pub start_ms: u64,
    pub duration_ms: u64,
    pub node_names: Vec<String>,
    pub java_process_name: String,
}

/// Pauses brokers through a Trogdor coordinator.
pub struct TrogdorPause {
    client: TrogdorClient,
    /// Broker id -> the agent's node name on its host.
    agents: BTreeMap<i32, String>,
    process: String,
    run_id: String,
    /// Broker id -> the task pausing it.
    tasks: Mutex<BTreeMap<i32, String>>,
}

impl TrogdorPause {
    pub fn new(
        url: &str,
        agents: BTreeMap<i32, String>,
        process: Option<&str>,
        run_id: &str,
    ) -> Result<Self, FaultError> {
        let client = TrogdorClient::new(url).map_err(|e| FaultError::Trogdor(e.to_string()))?;
        client
            .status()
            .map_err(|e| FaultError::Trogdor(e.to_string()))?;
        Ok(TrogdorPause {
            client,
            agents,
            process: process.unwrap_or(DEFAULT_PROCESS).to_string(),
            run_id: run_id.to_string(),
            tasks: Mutex::new(BTreeMap::new()),
        })
    }

    /// The spec pausing `broker` for `hold`.
    pub fn spec(&self, broker: i32, hold: Duration) -> Result<ProcessStopFault, FaultError> {
        let node = self.agents.get(&broker).ok_or_else(|| {
            FaultError::NoSuchBroker(
                broker,
                format!(
                    "--fault-driver trogdor names agents for brokers {:?}",
                    self.agents.keys().collect::<Vec<_>>()
                ),
            )
        })?;
        Ok(ProcessStopFault {
            class: PROCESS_STOP_FAULT_CLASS,
            start_ms: 0,
            duration_ms: hold.as_millis().max(1) as u64,
            node_names: vec![node.clone()],
            java_process_name: self.process.replace("{id}", &broker.to_string()),
        })
    }
}

impl BrokerDriver for TrogdorPause {
    fn describe(&self) -> String {
        format!(
            "ProcessStopFaultSpec tasks on the Trogdor coordinator {} (agents {}; Java \
             processes matching '{}')",
            self.client.url(),
            self.agents
                .iter()
                .map(|(b, a)| format!("broker {b}: {a}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.process
        )
    }

    fn brokers(&self) -> Vec<i32> {
        self.agents.keys().copied().collect()
    }

    fn name(&self, broker: i32) -> String {
        match self.agents.get(&broker) {
            Some(a) => format!("broker {broker} (agent {a})"),
            None => format!("broker {broker}"),
        }
    }

    fn kill(&self, _: i32) -> Result<String, FaultError> {
        Err(unsupported("broker-kill"))
    }

    fn start(&self, _: i32) -> Result<String, FaultError> {
        Err(unsupported("starting a broker"))
    }

    fn pause(&self, broker: i32, hold: Duration) -> Result<String, FaultError> {
        let spec = self.spec(broker, hold)?;
        let id = format!("kmidi-{}-pause-{broker}-{}", self.run_id, crate_unique());
        if let Ok(mut t) = self.tasks.lock() {
            t.insert(broker, id.clone());
        }
        self.client
            .create_task(&id, &spec)
            .map_err(|e| FaultError::Trogdor(e.to_string()))?;
        Ok(format!(
            "ProcessStopFaultSpec task {id}: SIGSTOP '{}' on agent {} for {:.1} s",
            spec.java_process_name,
            spec.node_names.join(","),
            hold.as_secs_f64()
        ))
    }

    fn unpause(&self, broker: i32) -> Result<String, FaultError> {
        let Some(id) = self.tasks.lock().ok().and_then(|mut t| t.remove(&broker)) else {
            return Ok(format!("broker {broker} was not paused by kmidi"));
        };
        // Destroying stops the task first: its worker SIGCONTs what it stopped.
        self.client
            .destroy_task(&id)
            .map_err(|e| FaultError::Trogdor(e.to_string()))?;
        Ok(format!(
            "task {id} destroyed: SIGCONT {}",
            self.name(broker)
        ))
    }

    fn restart(&self, _: i32) -> Result<String, FaultError> {
        Err(unsupported("broker-restart"))
    }

    fn release_all(&self) -> Vec<String> {
        let brokers: Vec<i32> = self
            .tasks
            .lock()
            .map(|t| t.keys().copied().collect())
            .unwrap_or_default();
        brokers
            .into_iter()
            .map(|b| match self.unpause(b) {
                Ok(what) => format!("at exit: {what}"),
                Err(e) => format!("at exit, broker {b}: {e}"),
            })
            .collect()
    }
}

impl Drop for TrogdorPause {
    fn drop(&mut self) {
        for line in self.release_all() {
            eprintln!("kmidi: faults: {line}");
        }
    }
}

fn unsupported(what: &'static str) -> FaultError {
    FaultError::Unsupported(
        what,
        "Trogdor's process-stop fault only pauses (broker-pause); kill and restart need \
         --fault-driver script on a cluster scripts/kafka.sh started, or an exec step"
            .into(),
    )
}

/// Distinct task ids within one run.
fn crate_unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_is_what_trogdor_reads() {
        let spec = ProcessStopFault {
            class: PROCESS_STOP_FAULT_CLASS,
            start_ms: 0,
            duration_ms: 5000,
            node_names: vec!["agent-2".into()],
            java_process_name: "base-2/server.properties".into(),
        };
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "class": "org.apache.kafka.trogdor.fault.ProcessStopFaultSpec",
                "startMs": 0,
                "durationMs": 5000,
                "nodeNames": ["agent-2"],
                "javaProcessName": "base-2/server.properties",
            })
        );
    }
}
