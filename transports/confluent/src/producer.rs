//! The confluent-kafka producer behind kmidi's non-blocking `send`.
//!
//! The Java client's `send` waits for the topic's metadata (up to `max.block.ms`) before
//! it appends a record, which the player's scheduling thread must never do. So a record
//! for a topic whose metadata is known, with nothing queued before it, is appended right
//! there (an append is a memory copy); any other goes to one task that appends in order,
//! and every later record of that topic follows it there until it is appended, so
//! records of one topic are never reordered. Delivery is counted by the library's
//! completion callbacks.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confluent_kafka::common::serialization::ByteArraySerializer;
use confluent_kafka::producer::{
    Callback, KafkaProducer, Producer as _, ProducerConfig, ProducerRecord,
};
use kmidi_transport::{ClientConfig, DeliveryFailure, Producer, ProducerStats, TransportError};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

use crate::{describe, props};

type Inner = KafkaProducer<Vec<u8>, Vec<u8>>;

/// How long `send` waits for room in the library's buffer before it reports the
/// cluster as too slow; bounded so the scheduler thread never hangs.
const QUEUE_FULL_PATIENCE: Duration = Duration::from_secs(5);
/// How long dropping the producer waits for what it still holds.
const CLOSE_PATIENCE: Duration = Duration::from_secs(2);

/// What the scheduler thread and the library's callbacks share.
#[derive(Default)]
struct Shared {
    delivered: AtomicU64,
    failed: AtomicU64,
    failures: Mutex<Vec<DeliveryFailure>>,
    /// Topics whose metadata the library has: a send there appends at once.
    ready: Mutex<HashSet<String>>,
    /// Records per topic handed to the ordering task and not yet appended.
    queued: Mutex<HashMap<String, usize>>,
}

impl Shared {
    fn fail(&self, topic: &str, key: &[u8], error: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut list) = self.failures.lock() {
            list.push(DeliveryFailure {
                topic: topic.to_string(),
                key: Some(key.to_vec()),
                error,
            });
        }
    }

    fn queued_for(&self, topic: &str) -> usize {
        self.queued
            .lock()
            .map_or(0, |q| q.get(topic).copied().unwrap_or(0))
    }

    fn queued_total(&self) -> usize {
        self.queued.lock().map_or(0, |q| q.values().sum())
    }
}

/// One record for the ordering task.
struct Job {
    topic: String,
    key: Vec<u8>,
    value: Vec<u8>,
}

pub struct CfProducer {
    // Dropped after `inner` is closed (see Drop): the library's tasks live on it.
    rt: Runtime,
    inner: Arc<Inner>,
    shared: Arc<Shared>,
    slow: mpsc::UnboundedSender<Job>,
    sent: u64,
    settings: Vec<(String, String)>,
}

impl CfProducer {
    pub fn new(config: &ClientConfig) -> Result<Self, TransportError> {
        let java = props::producer(config)?;
        let parsed = ProducerConfig::new(&java).map_err(|e| props::refused(config, &e))?;
        let settings = props::producer_settings(&parsed);
        let rt = crate::runtime("producer")?;
        let inner = {
            let _in_runtime = rt.enter();
            KafkaProducer::new(
                parsed,
                ByteArraySerializer::default(),
                ByteArraySerializer::default(),
            )
            .map_err(|e| props::refused(config, &e))?
        };
        let inner = Arc::new(inner);
        let shared = Arc::new(Shared::default());
        let (slow, jobs) = mpsc::unbounded_channel();
        rt.spawn(append_in_order(
            Arc::clone(&inner),
            Arc::clone(&shared),
            jobs,
        ));
        Ok(Self {
            rt,
            inner,
            shared,
            slow,
            sent: 0,
            settings,
        })
    }
}

/// The completion callback of one record: counts it delivered or failed.
fn on_completion(shared: &Arc<Shared>, topic: &str, key: &[u8]) -> Box<dyn Callback> {
    let (shared, topic, key) = (Arc::clone(shared), topic.to_string(), key.to_vec());
    Box::new(confluent_kafka::producer::callback::new(
        move |_, error| match error {
            None => {
                shared.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Some(e) => shared.fail(&topic, &key, failure(&topic, e)),
        },
    ))
}

/// Appends one record: waits for the topic's metadata as the library does. A refusal
/// the library did not report through the callback is reported here.
async fn append(
    inner: &Inner,
    shared: &Arc<Shared>,
    topic: &str,
    key: &[u8],
    value: &[u8],
) -> Result<(), String> {
    let reported = Arc::new(AtomicBool::new(false));
    let callback = on_completion(shared, topic, key);
    let seen = Arc::clone(&reported);
    let callback: Box<dyn Callback> = Box::new(confluent_kafka::producer::callback::new(
        move |metadata, error| {
            seen.store(true, Ordering::Relaxed);
            callback.on_completion(metadata, error);
        },
    ));
    let record = ProducerRecord::with_key(topic.to_string(), Some(key), Some(value));
    match inner.send(record, Some(callback)).await {
        Ok(_) => Ok(()),
        Err(e) => {
            let text = failure(topic, &e);
            if !reported.load(Ordering::Relaxed) {
                shared.fail(topic, key, text.clone());
            }
            Err(text)
        }
    }
}

/// Why a record failed, as the user should read it.
fn failure(topic: &str, e: &confluent_kafka::common::Error) -> String {
    missing_topic(topic, e).unwrap_or_else(|| describe(e))
}

/// A topic the broker does not know times out waiting for metadata, with the broker's
/// UNKNOWN_TOPIC_OR_PARTITION as the cause: said plainly.
fn missing_topic(topic: &str, e: &confluent_kafka::common::Error) -> Option<String> {
    let unknown = e.is_unknown_topic_or_partition_error()
        || e.source()
            .is_some_and(|c| c.is_unknown_topic_or_partition_error());
    unknown.then(|| format!("topic {topic:?} does not exist ({})", describe(e)))
}

/// The ordering task: appends each queued record in turn; once one is appended its
/// topic's metadata is known, so later records of it can be appended directly.
async fn append_in_order(
    inner: Arc<Inner>,
    shared: Arc<Shared>,
    mut jobs: mpsc::UnboundedReceiver<Job>,
) {
    while let Some(job) = jobs.recv().await {
        if append(&inner, &shared, &job.topic, &job.key, &job.value)
            .await
            .is_ok()
        {
            if let Ok(mut ready) = shared.ready.lock() {
                ready.insert(job.topic.clone());
            }
        }
        if let Ok(mut q) = shared.queued.lock() {
            if let Some(n) = q.get_mut(&job.topic) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

impl Producer for CfProducer {
    fn send(&mut self, topic: &str, key: &[u8], value: &[u8]) -> Result<(), TransportError> {
        let ready = self.shared.ready.lock().is_ok_and(|r| r.contains(topic));
        if ready && self.shared.queued_for(topic) == 0 {
            let append = append(&self.inner, &self.shared, topic, key, value);
            return match crate::bounded(&self.rt, QUEUE_FULL_PATIENCE, append) {
                Some(_) => {
                    // Refused records are counted as failed by `append`, as librdkafka's
                    // are through its delivery reports.
                    self.sent += 1;
                    Ok(())
                }
                None => Err(TransportError::Client(format!(
                    "confluent-kafka could not take a record for {topic:?} within {}s (its \
                     buffer full, or the topic's metadata gone): the cluster is slower than \
                     the song",
                    QUEUE_FULL_PATIENCE.as_secs()
                ))),
            };
        }
        if let Ok(mut q) = self.shared.queued.lock() {
            *q.entry(topic.to_string()).or_default() += 1;
        }
        let job = Job {
            topic: topic.to_string(),
            key: key.to_vec(),
            value: value.to_vec(),
        };
        self.slow.send(job).map_err(|_| {
            TransportError::Client("the producer's ordering task has stopped".into())
        })?;
        self.sent += 1;
        Ok(())
    }

    fn flush(&mut self, timeout: Duration) -> Result<(), TransportError> {
        let (inner, shared) = (&self.inner, &self.shared);
        let done = crate::bounded(&self.rt, timeout, async {
            while shared.queued_total() > 0 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            inner.flush().await
        });
        match done {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(TransportError::Client(format!("flush: {}", describe(&e)))),
            None => Err(TransportError::Timeout {
                doing: format!("flushing {} undelivered records", self.in_flight()),
                timeout,
            }),
        }
    }

    fn take_failures(&mut self) -> Vec<DeliveryFailure> {
        match self.shared.failures.lock() {
            Ok(mut list) => std::mem::take(&mut *list),
            Err(_) => Vec::new(),
        }
    }

    fn stats(&self) -> ProducerStats {
        ProducerStats {
            sent: self.sent,
            delivered: self.shared.delivered.load(Ordering::Relaxed),
            failed: self.shared.failed.load(Ordering::Relaxed),
        }
    }

    fn warm_up(&mut self, topic: &str, timeout: Duration) -> Result<(), TransportError> {
        match crate::bounded(&self.rt, timeout, self.inner.partitions_for(topic)) {
            Some(Ok(_)) => {
                if let Ok(mut ready) = self.shared.ready.lock() {
                    ready.insert(topic.to_string());
                }
                Ok(())
            }
            Some(Err(e)) => Err(TransportError::Client(format!(
                "loading topic metadata: {}",
                failure(topic, &e)
            ))),
            None => Err(TransportError::Timeout {
                doing: format!("loading the metadata of {topic:?}"),
                timeout,
            }),
        }
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.settings.clone()
    }
}

impl CfProducer {
    fn in_flight(&self) -> u64 {
        let s = self.stats();
        s.sent.saturating_sub(s.delivered + s.failed)
    }
}

impl Drop for CfProducer {
    fn drop(&mut self) {
        // Bounded: what the broker has not acknowledged by then is given up, as
        // librdkafka-based transports purge after their close wait.
        let _ = self
            .rt
            .block_on(self.inner.close_with_timeout(CLOSE_PATIENCE));
    }
}
