//! What the coordinator says about a task (`GET /coordinator/tasks?taskId=...`), and
//! the workers' statuses inside it.
//!
//! A task's `status` is what its worker last reported: a progress string while it sets
//! up ("receiving", "Creating 1 topic(s)", "Created 1 topic(s)"), then the workload's
//! own JSON. ProduceBench reports `{"totalSent", "averageLatencyMs", "p50LatencyMs",
//! "p95LatencyMs", "p99LatencyMs", "transactionsCommitted"}` when it ends (and every
//! 30 s while it runs); ConsumeBench a map of consumer client id to `{"assignedPartitions",
//! "totalMessagesReceived", "totalBytesReceived", "averageMessageSizeBytes",
//! "averageLatencyMs", "p50LatencyMs", ...}`, but only once a minute or when all its
//! consumers read `maxMessages`: a consume task stopped by its duration sooner says
//! nothing (`null`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TaskStateType {
    Pending,
    Running,
    Stopping,
    Done,
    /// A state newer Trogdors may add.
    #[serde(other)]
    Unknown,
}

/// One task, as `/coordinator/tasks` lists it (its `spec` left out).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskState {
    pub state: TaskStateType,
    /// Coordinator clock, ms since the epoch; -1 for a task that never started.
    #[serde(default)]
    pub started_ms: Option<i64>,
    #[serde(default)]
    pub done_ms: Option<i64>,
    /// Stopped before it finished by itself (`/coordinator/task/stop`).
    #[serde(default)]
    pub cancelled: bool,
    /// Why it failed (absent or empty when it did not).
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub status: Value,
}

impl TaskState {
    pub fn is_done(&self) -> bool {
        self.state == TaskStateType::Done
    }

    /// The error, if the task failed.
    pub fn failure(&self) -> Option<&str> {
        self.error.as_deref().filter(|e| !e.is_empty())
    }

    /// Whether its worker is past setup: a status other than a setup string.
    pub fn past_setup(&self) -> bool {
        match &self.status {
            Value::String(s) => s.starts_with("Created"),
            Value::Null => false,
            _ => true,
        }
    }

    /// Its status as a ProduceBench's, once it has reported one.
    pub fn produce_status(&self) -> Option<ProduceStatus> {
        ProduceStatus::deserialize(&self.status).ok()
    }

    /// Its status as a ConsumeBench's, once it has reported one: its consumers' sums.
    pub fn consume_status(&self) -> Option<ConsumeStatus> {
        let map = BTreeMap::<String, ConsumerStatus>::deserialize(&self.status).ok()?;
        (!map.is_empty()).then(|| ConsumeStatus {
            consumers: map.len(),
            messages: map.values().map(|c| c.total_messages_received).sum(),
            bytes: map.values().map(|c| c.total_bytes_received).sum(),
            p99_latency_ms: map.values().map(|c| c.p99_latency_ms).reduce(f64::max),
        })
    }
}

/// `GET /coordinator/tasks`: `{"tasks": {ID: STATE}}`, `{}` when none matched.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TasksResponse {
    #[serde(default)]
    pub tasks: BTreeMap<String, TaskState>,
}

/// `GET /coordinator/status`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoordinatorStatus {
    pub server_start_ms: i64,
}

/// A ProduceBench worker's status: its producer's records and ack latency.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProduceStatus {
    pub total_sent: u64,
    pub average_latency_ms: f64,
    pub p50_latency_ms: f64,
    pub p95_latency_ms: f64,
    pub p99_latency_ms: f64,
}

/// One consumer of a ConsumeBench worker. Its "latency" is Trogdor's time between
/// polls that returned records, not an end-to-end latency.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsumerStatus {
    total_messages_received: u64,
    total_bytes_received: u64,
    p99_latency_ms: f64,
}

/// A ConsumeBench worker's consumers, summed.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsumeStatus {
    pub consumers: usize,
    pub messages: u64,
    pub bytes: u64,
    pub p99_latency_ms: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> TasksResponse {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_finished_produce_task_reads_as_its_status() {
        // As Trogdor 4.3.1 answered (spec cut short: it is ignored).
        let r = parse(
            r#"{"tasks":{"p2":{"state":"DONE","spec":{"class":"x","durationMs":10000},
            "startedMs":1796290483211,"doneMs":1796290489361,"cancelled":false,
            "status":{"totalSent":600,"averageLatencyMs":38.286667,"p50LatencyMs":27,
            "p95LatencyMs":67,"p99LatencyMs":299,"transactionsCommitted":0}}}}"#,
        );
        let t = &r.tasks["p2"];
        assert!(t.is_done() && t.past_setup() && !t.cancelled);
        assert_eq!(t.failure(), None);
        assert_eq!(t.done_ms.unwrap() - t.started_ms.unwrap(), 6150);
        let s = t.produce_status().unwrap();
        assert_eq!(s.total_sent, 600);
        assert_eq!((s.p50_latency_ms, s.p99_latency_ms), (27.0, 299.0));
        assert_eq!(t.consume_status(), None);
    }

    #[test]
    fn setup_strings_failures_and_unknown_tasks() {
        let r = parse(
            r#"{"tasks":{
            "a":{"state":"RUNNING","startedMs":1,"status":"receiving"},
            "b":{"state":"RUNNING","startedMs":1,"status":"Creating 1 topic(s)"},
            "c":{"state":"STOPPING","startedMs":1,"status":"Created 1 topic(s)"},
            "d":{"state":"DONE","startedMs":-1,"doneMs":5,"cancelled":false,
                 "error":"Unable to find nodes for task: Unknown node names: agent-9"},
            "e":{"state":"PENDING"},
            "f":{"state":"SOMETHING_NEW"}}}"#,
        );
        let t = &r.tasks;
        assert!(!t["a"].past_setup() && !t["b"].past_setup() && t["c"].past_setup());
        assert_eq!(t["c"].state, TaskStateType::Stopping);
        assert!(t["d"].is_done());
        assert!(t["d"].failure().unwrap().contains("agent-9"));
        assert_eq!(t["d"].produce_status(), None);
        assert_eq!(t["e"].state, TaskStateType::Pending);
        assert_eq!(t["f"].state, TaskStateType::Unknown);
        // Destroyed or never created: no "tasks" at all.
        assert!(parse("{}").tasks.is_empty());
    }

    #[test]
    fn a_consume_status_sums_its_consumers() {
        let r = parse(
            r#"{"tasks":{"c":{"state":"DONE","status":{
            "consumer.c-0":{"assignedPartitions":["t-0"],"totalMessagesReceived":10,
              "totalBytesReceived":1000,"averageMessageSizeBytes":100,"averageLatencyMs":1.5,
              "p50LatencyMs":1,"p95LatencyMs":2,"p99LatencyMs":3,"recordProcessorStatus":null},
            "consumer.c-1":{"assignedPartitions":["t-1"],"totalMessagesReceived":5,
              "totalBytesReceived":500,"averageMessageSizeBytes":100,"averageLatencyMs":1.0,
              "p50LatencyMs":1,"p95LatencyMs":4,"p99LatencyMs":7}}},
            "n":{"state":"DONE","status":null}}}"#,
        );
        let c = r.tasks["c"].consume_status().unwrap();
        assert_eq!((c.consumers, c.messages, c.bytes), (2, 15, 1500));
        assert_eq!(c.p99_latency_ms, Some(7.0));
        assert_eq!(r.tasks["n"].consume_status(), None);
        assert_eq!(r.tasks["c"].produce_status(), None);
    }
}
