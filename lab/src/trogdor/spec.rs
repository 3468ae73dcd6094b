//! The Trogdor task specs kmidi creates, as the coordinator's `/coordinator/task/create`
//! reads them: `{"id": ID, "spec": {"class": CLASS, ...}}`. The field names are the
//! `@JsonProperty` names of Kafka's `ProduceBenchSpec` and `ConsumeBenchSpec`, the same
//! in Trogdor 3.9 and 4.3.

use std::collections::BTreeMap;

use serde::Serialize;

pub const PRODUCE_BENCH_CLASS: &str = "org.apache.kafka.trogdor.workload.ProduceBenchSpec";
pub const CONSUME_BENCH_CLASS: &str = "org.apache.kafka.trogdor.workload.ConsumeBenchSpec";

/// The body of `POST /coordinator/task/create`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CreateTask<'a, S: Serialize> {
    pub id: &'a str,
    pub spec: &'a S,
}

/// How a record's key or value is made (Trogdor's `PayloadGenerator`, by its `type`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "lowercase",
    rename_all_fields = "camelCase"
)]
pub enum Payload {
    /// `size` zero bytes, the same every record.
    Constant { size: u64 },
    /// A little-endian counter of `size` bytes from `start_offset`: keys spread over
    /// the partitions.
    Sequential { size: u32, start_offset: u64 },
    /// No bytes at all (a null key).
    Null,
}

/// A topic Trogdor creates if it is missing (Trogdor's `PartitionsSpec`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionsSpec {
    pub num_partitions: i32,
    pub replication_factor: i16,
}

/// The load producer's settings beside Trogdor's defaults. `acks=all`: the ack
/// latency it reports is the full round trip. No idempotence: a load producer needs no
/// exactly-once, and an idempotent one whose first batch to a just-created topic failed
/// (NOT_LEADER_OR_FOLLOWER) was seen on Kafka 3.9.2 retrying OUT_OF_ORDER_SEQUENCE_NUMBER
/// for ever, which also hangs the worker's stop (its producer's close waits for the
/// batch). A record the cluster cannot take within 30 s fails the task instead of
/// holding its stop; Kafka wants `delivery.timeout.ms` >= `request.timeout.ms` +
/// `linger.ms` (whose default is 0 in 3.x, 5 ms in 4.x), hence the shorter request
/// timeout.
pub const PRODUCER_CONF: [(&str, &str); 4] = [
    ("acks", "all"),
    ("delivery.timeout.ms", "30000"),
    ("enable.idempotence", "false"),
    ("request.timeout.ms", "20000"),
];

/// `ProduceBenchSpec`: one producer on `producer_node` sending `max_messages` records
/// at `target_messages_per_sec` to the active topics, until done or `duration_ms`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProduceBench {
    pub class: &'static str,
    /// 0: as soon as the coordinator has the task. Not kmidi's clock: a coordinator
    /// whose clock is behind would hold a task stamped with it.
    pub start_ms: u64,
    /// From when the task starts, its setup (topic creation) included.
    pub duration_ms: u64,
    pub producer_node: String,
    pub bootstrap_servers: String,
    /// Java `int`; Trogdor throttles per 100 ms period.
    pub target_messages_per_sec: i32,
    pub max_messages: u64,
    pub key_generator: Payload,
    pub value_generator: Payload,
    pub producer_conf: BTreeMap<String, String>,
    pub active_topics: BTreeMap<String, PartitionsSpec>,
    pub inactive_topics: BTreeMap<String, PartitionsSpec>,
}

impl ProduceBench {
    /// A producer ([`PRODUCER_CONF`]) of `record_size`-byte values with 8-byte
    /// sequential keys, writing `topic`, which it creates if missing.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        node: &str,
        bootstrap: &str,
        rate: i32,
        max_messages: u64,
        duration_ms: u64,
        record_size: u64,
        topic: &str,
        partitions: PartitionsSpec,
    ) -> Self {
        ProduceBench {
            class: PRODUCE_BENCH_CLASS,
            start_ms: 0,
            duration_ms,
            producer_node: node.to_string(),
            bootstrap_servers: bootstrap.to_string(),
            target_messages_per_sec: rate,
            max_messages,
            key_generator: Payload::Sequential {
                size: 8,
                start_offset: 0,
            },
            value_generator: Payload::Constant { size: record_size },
            producer_conf: BTreeMap::from(
                PRODUCER_CONF.map(|(k, v)| (k.to_string(), v.to_string())),
            ),
            active_topics: BTreeMap::from([(topic.to_string(), partitions)]),
            inactive_topics: BTreeMap::new(),
        }
    }
}

/// `ConsumeBenchSpec`: `threads_per_worker` consumers on `consumer_node`, members of
/// `consumer_group`, subscribed to the active topics (no partition given: the group
/// assigns them), each reading up to `max_messages`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumeBench {
    pub class: &'static str,
    pub start_ms: u64,
    pub duration_ms: u64,
    pub consumer_node: String,
    pub bootstrap_servers: String,
    /// 0: unthrottled.
    pub target_messages_per_sec: i32,
    pub max_messages: u64,
    pub consumer_group: String,
    pub consumer_conf: BTreeMap<String, String>,
    pub threads_per_worker: u32,
    pub active_topics: Vec<String>,
}

impl ConsumeBench {
    /// `threads` members of `group` reading `topic` from its end (the load being made
    /// now, not what earlier runs left), unthrottled, up to `max_messages` each.
    pub fn new(
        node: &str,
        bootstrap: &str,
        group: &str,
        threads: u32,
        max_messages: u64,
        duration_ms: u64,
        topic: &str,
    ) -> Self {
        ConsumeBench {
            class: CONSUME_BENCH_CLASS,
            start_ms: 0,
            duration_ms,
            consumer_node: node.to_string(),
            bootstrap_servers: bootstrap.to_string(),
            target_messages_per_sec: 0,
            max_messages,
            consumer_group: group.to_string(),
            consumer_conf: BTreeMap::from([(
                "auto.offset.reset".to_string(),
                "latest".to_string(),
            )]),
            threads_per_worker: threads,
            active_topics: vec![topic.to_string()],
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_produce_bench_is_the_json_trogdor_reads() {
        let spec = ProduceBench::new(
            "agent-1",
            "127.0.0.1:9092",
            200,
            600,
            8000,
            1000,
            "kmidi_load",
            PartitionsSpec {
                num_partitions: 6,
                replication_factor: 1,
            },
        );
        let task = serde_json::to_value(CreateTask {
            id: "kmidi-r-0-produce-1",
            spec: &spec,
        })
        .unwrap();
        assert_eq!(
            task,
            json!({"id": "kmidi-r-0-produce-1", "spec": {
                "class": "org.apache.kafka.trogdor.workload.ProduceBenchSpec",
                "startMs": 0, "durationMs": 8000,
                "producerNode": "agent-1", "bootstrapServers": "127.0.0.1:9092",
                "targetMessagesPerSec": 200, "maxMessages": 600,
                "keyGenerator": {"type": "sequential", "size": 8, "startOffset": 0},
                "valueGenerator": {"type": "constant", "size": 1000},
                "producerConf": {"acks": "all", "delivery.timeout.ms": "30000",
                    "enable.idempotence": "false", "request.timeout.ms": "20000"},
                "activeTopics": {"kmidi_load": {"numPartitions": 6, "replicationFactor": 1}},
                "inactiveTopics": {}
            }})
        );
        assert_eq!(
            serde_json::to_value(Payload::Null).unwrap(),
            json!({"type": "null"})
        );
    }

    #[test]
    fn a_consume_bench_is_the_json_trogdor_reads() {
        let spec = ConsumeBench::new(
            "agent-2",
            "127.0.0.1:9092",
            "kmidi-r-0",
            3,
            600,
            8000,
            "kmidi_load",
        );
        assert_eq!(
            serde_json::to_value(&spec).unwrap(),
            json!({
                "class": "org.apache.kafka.trogdor.workload.ConsumeBenchSpec",
                "startMs": 0, "durationMs": 8000,
                "consumerNode": "agent-2", "bootstrapServers": "127.0.0.1:9092",
                "targetMessagesPerSec": 0, "maxMessages": 600,
                "consumerGroup": "kmidi-r-0",
                "consumerConf": {"auto.offset.reset": "latest"},
                "threadsPerWorker": 3,
                "activeTopics": ["kmidi_load"]
            })
        );
    }
}
