//! The confluent-kafka consumer: a KIP-848 group member (or, with no group, a reader
//! of every partition), polled with a timeout.
//!
//! The constructor waits, bounded, until the group has given it partitions and their
//! start positions are resolved: a consumer from `Latest` created before the first
//! record is produced must see that record, and the Java client resolves positions
//! only once it owns the partitions. Records polled meanwhile are kept for `poll`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use confluent_kafka::common::record::TimestampType;
use confluent_kafka::common::serialization::ByteArrayDeserializer;
use confluent_kafka::common::{Error, TopicPartition};
use confluent_kafka::consumer::{
    CloseOptions, Consumer as _, ConsumerConfig, ConsumerHandle, KafkaConsumer,
};
use kmidi_transport::{ClientConfig, Consumer, Record, Subscription, TransportError};
use tokio::runtime::Runtime;

use crate::{describe, props};

type Inner = KafkaConsumer<Vec<u8>, Vec<u8>>;

/// How long the constructor waits for the group to assign partitions. A member left
/// without any (more members than partitions) returns after it, empty-handed.
const ASSIGNMENT_PATIENCE: Duration = Duration::from_secs(10);
/// The bound on finding the topics when no connection timeout is given.
const METADATA_PATIENCE: Duration = Duration::from_secs(10);
const COMMIT_PATIENCE: Duration = Duration::from_secs(5);
/// Leaving the group on drop, so the partitions move to the others at once.
const CLOSE_PATIENCE: Duration = Duration::from_secs(5);

pub struct CfConsumer {
    // The library's tasks live on it; closed in Drop before it goes.
    rt: Runtime,
    inner: Inner,
    handle: ConsumerHandle,
    grouped: bool,
    polled: VecDeque<Record>,
    settings: Vec<(String, String)>,
    /// How long dropping waits to leave the group: nothing, until it has joined one.
    close_patience: Duration,
}

/// The broker has no ConsumerGroupHeartbeat API: Kafka before 4.0, or 3.x without the
/// KIP-848 early access enabled.
fn no_kip848(e: &Error) -> bool {
    let text = describe(e);
    e.is_unsupported_version_error()
        || text.contains("ConsumerGroupHeartbeat")
        || text.contains("UnsupportedVersion")
}

fn kip848_refusal(e: &Error) -> TransportError {
    TransportError::Client(format!(
        "{}'s consumer groups need the KIP-848 consumer group protocol \
         (group.protocol=consumer), which this cluster does not offer (Apache Kafka 4.0 or \
         newer has it): use --transport rdkafka, which also speaks the classic protocol \
         (confluent-kafka: {})",
        crate::library(),
        // Its own advice, the classic protocol, is what this library lacks.
        describe(e)
            .split(" Set group.protocol=classic")
            .next()
            .unwrap_or_default()
    ))
}

/// Errors the library recovers from by itself: a broker away, a coordinator moving.
fn is_transient(e: &Error) -> bool {
    e.is_retriable_error()
        || e.is_disconnect_error()
        || e.is_network_error()
        || e.is_coordinator_load_in_progress_error()
        || e.is_rebalance_in_progress_error()
        || e.is_fenced_member_epoch_error()
        || e.is_unknown_member_id_error()
}

fn record(r: &confluent_kafka::consumer::ConsumerRecord<Vec<u8>, Vec<u8>>) -> Record {
    Record {
        topic: r.topic().to_string(),
        partition: r.partition(),
        offset: r.offset(),
        key: r.key().cloned(),
        value: r.value().cloned(),
        timestamp_ms: (r.timestamp_type() != TimestampType::NoTimestampType).then(|| r.timestamp()),
    }
}

impl CfConsumer {
    pub fn new(config: &ClientConfig, sub: &Subscription) -> Result<Self, TransportError> {
        let java = props::consumer(config, &sub.group, sub.offset_reset.as_str())?;
        let parsed = ConsumerConfig::new(&java).map_err(|e| props::refused(config, &e))?;
        let settings = props::consumer_settings(&parsed);
        let rt = crate::runtime("consumer")?;
        let inner: Inner = {
            let _in_runtime = rt.enter();
            KafkaConsumer::new(
                parsed,
                ByteArrayDeserializer::default(),
                ByteArrayDeserializer::default(),
            )
            .map_err(|e| props::refused(config, &e))?
        };
        let handle = inner.handle();
        let mut me = Self {
            rt,
            inner,
            handle,
            grouped: !sub.group.is_empty(),
            polled: VecDeque::new(),
            settings,
            close_patience: Duration::ZERO,
        };
        let patience = config
            .get("socket.connection.setup.timeout.ms")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(METADATA_PATIENCE, |ms| {
                Duration::from_millis(ms.saturating_mul(2))
            });
        let partitions = me.find_topics(config, &sub.topics, patience)?;
        if me.grouped {
            me.rt
                .block_on(me.inner.subscribe_with_topics(sub.topics.clone()))
                .map_err(|e| TransportError::Client(format!("subscribe: {}", describe(&e))))?;
        } else {
            me.rt
                .block_on(me.inner.assign(partitions))
                .map_err(|e| TransportError::Client(format!("assign: {}", describe(&e))))?;
        }
        me.wait_for_positions()?;
        me.close_patience = CLOSE_PATIENCE;
        Ok(me)
    }

    /// Every partition of `topics`; a missing topic or a silent cluster is an error
    /// within `patience`.
    fn find_topics(
        &mut self,
        config: &ClientConfig,
        topics: &[String],
        patience: Duration,
    ) -> Result<Vec<TopicPartition>, TransportError> {
        let unreachable = |detail: String| TransportError::Unreachable {
            bootstrap: config.bootstrap().to_string(),
            timeout: patience,
            detail,
        };
        let missing = |topic: &str| TransportError::TopicMissing {
            topic: topic.to_string(),
            bootstrap: config.bootstrap().to_string(),
        };
        let mut all = Vec::new();
        for topic in topics {
            let found = crate::bounded(
                &self.rt,
                patience,
                self.inner.partitions_for_with_timeout(topic, patience),
            );
            match found {
                Some(Ok(p)) if p.is_empty() => return Err(missing(topic)),
                Some(Ok(p)) => all.extend(
                    p.iter()
                        .map(|i| TopicPartition::new(topic.as_str(), i.partition())),
                ),
                Some(Err(e)) if e.is_unknown_topic_or_partition_error() => {
                    return Err(missing(topic))
                }
                Some(Err(e)) if e.is_timeout_error() => return Err(unreachable(describe(&e))),
                Some(Err(e)) => {
                    return Err(TransportError::Client(format!(
                        "finding topic {topic:?}: {}",
                        config.redact(&describe(&e))
                    )))
                }
                None => return Err(unreachable("no metadata answer".to_string())),
            }
        }
        Ok(all)
    }

    /// Polls until partitions are assigned and their positions resolved, keeping what
    /// arrives meanwhile; gives up quietly after [`ASSIGNMENT_PATIENCE`].
    fn wait_for_positions(&mut self) -> Result<(), TransportError> {
        let deadline = Instant::now() + ASSIGNMENT_PATIENCE;
        while Instant::now() < deadline {
            let assigned = self.handle.assignment();
            if !assigned.is_empty() {
                for tp in assigned {
                    let left = deadline.saturating_duration_since(Instant::now());
                    // A position not resolved in time is resolved by the next poll.
                    let _ = self
                        .rt
                        .block_on(self.inner.position_with_timeout(&tp, left));
                }
                return Ok(());
            }
            match self
                .rt
                .block_on(self.inner.poll(Duration::from_millis(100)))
            {
                Ok(records) => self.polled.extend(records.into_iter().map(|r| record(&r))),
                Err(e) if no_kip848(&e) => return Err(kip848_refusal(&e)),
                Err(e) if is_transient(&e) => {}
                Err(e) => {
                    return Err(TransportError::Client(format!(
                        "joining the group: {}",
                        describe(&e)
                    )))
                }
            }
        }
        Ok(())
    }
}

impl Consumer for CfConsumer {
    fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, TransportError> {
        if let Some(r) = self.polled.pop_front() {
            return Ok(Some(r));
        }
        match self.rt.block_on(self.inner.poll(timeout)) {
            Ok(records) => {
                self.polled.extend(records.into_iter().map(|r| record(&r)));
                Ok(self.polled.pop_front())
            }
            Err(e) if no_kip848(&e) => Err(kip848_refusal(&e)),
            Err(e) if is_transient(&e) => Err(TransportError::Transient(describe(&e))),
            Err(e) => Err(TransportError::Client(format!("consume: {}", describe(&e)))),
        }
    }

    fn commit(&mut self) -> Result<(), TransportError> {
        if !self.grouped {
            return Ok(());
        }
        // Bounded: a synchronous commit to a broker that is gone would otherwise wait
        // for as long as the library retries.
        self.rt
            .block_on(self.inner.commit_sync_with_timeout(COMMIT_PATIENCE))
            .map_err(|e| TransportError::Client(format!("commit: {}", describe(&e))))
    }

    fn reports_assignment(&self) -> bool {
        true
    }

    fn assignment(&self) -> Vec<(String, i32)> {
        let mut v: Vec<(String, i32)> = self
            .handle
            .assignment()
            .into_iter()
            .map(|tp| (tp.topic().to_string(), tp.partition()))
            .collect();
        v.sort();
        v
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.settings.clone()
    }
}

impl Drop for CfConsumer {
    fn drop(&mut self) {
        let close = CloseOptions::new_with_timeout(self.close_patience);
        let _ = self.rt.block_on(self.inner.close_with_options(close));
    }
}
