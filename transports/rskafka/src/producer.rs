//! The rskafka producer: `send` hands the record to a background task and returns;
//! one task per partition produces in order and batches whatever queued meanwhile.
//!
//! rskafka's `PartitionClient::produce` is one request per call with no queue or
//! partitioner of its own, so this module supplies them: a router task picks the
//! partition by key (Kafka's murmur2, see `partitioner`), and each partition's task
//! sends one request at a time, which keeps a song's notes in order. With nothing
//! queued a note goes out alone at once (linger 0); under load a batch is whatever
//! arrived while the previous request was in flight.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kmidi_transport::{ClientConfig, DeliveryFailure, Producer, ProducerStats, TransportError};
use rskafka::chrono::{DateTime, Utc};
use rskafka::client::partition::{Compression, UnknownTopicHandling};
use rskafka::client::Client;
use rskafka::record::Record as RsRecord;
use tokio::runtime::Runtime;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::client;
use crate::partitioner::partition_for;
use crate::props::Settings;

/// How long `send` waits for room while `queue.buffering.max.messages` records are
/// unacknowledged before it reports the cluster as too slow; bounded so the
/// scheduler thread never hangs (the same patience as the rdkafka transport).
const QUEUE_FULL_PATIENCE: Duration = Duration::from_secs(5);

/// Bytes of record data per produce request, at most: below the broker's default
/// `message.max.bytes` (1 MB) with room for the batch's own overhead.
const MAX_BATCH_BYTES: usize = 512 * 1024;

/// A record on its way to a partition task.
struct Pending {
    topic: String,
    key: Vec<u8>,
    value: Vec<u8>,
    at: DateTime<Utc>,
}

#[derive(Default)]
struct Counters {
    sent: u64,
    delivered: u64,
    failed: u64,
    failures: Vec<DeliveryFailure>,
}

impl Counters {
    fn pending(&self) -> u64 {
        self.sent.saturating_sub(self.delivered + self.failed)
    }
}

/// Counters shared with the tasks; the condvar wakes `flush` and a waiting `send`.
#[derive(Default)]
struct Shared {
    counters: Mutex<Counters>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Counters> {
        // A panic elsewhere while holding the lock leaves plain counters behind: still usable.
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn delivered(&self, n: usize) {
        self.lock().delivered += n as u64;
        self.changed.notify_all();
    }

    fn failed(&self, topic: &str, keys: impl IntoIterator<Item = Vec<u8>>, error: &str) {
        let mut c = self.lock();
        for key in keys {
            c.failed += 1;
            c.failures.push(DeliveryFailure {
                topic: topic.to_string(),
                key: Some(key),
                error: error.to_string(),
            });
        }
        drop(c);
        self.changed.notify_all();
    }
}

pub struct RsProducer {
    tx: UnboundedSender<Pending>,
    shared: Arc<Shared>,
    max_pending: u64,
    /// What it applies, by librdkafka's names (`Settings::producer_settings`).
    settings: Vec<(String, String)>,
    // Dropped last, in `Drop`, which stops the tasks and joins the worker thread.
    rt: Option<Runtime>,
}

impl RsProducer {
    pub fn new(config: &ClientConfig) -> Result<Self, TransportError> {
        let settings = Settings::parse(config)?;
        let rt = client::background_runtime("producer")?;
        let client = Arc::new(rt.block_on(client::connect(&settings, settings.connect_timeout))?);
        let shared = Arc::new(Shared::default());
        // Unbounded on purpose: the bound is the pending count checked in `send`,
        // which also covers records already handed to a partition task.
        let (tx, rx) = mpsc::unbounded_channel();
        rt.spawn(route(client, rx, Arc::clone(&shared), settings.clone()));
        Ok(Self {
            tx,
            shared,
            max_pending: settings.max_pending,
            settings: settings.producer_settings(),
            rt: Some(rt),
        })
    }
}

/// Routes each record to its partition's task, learning a topic's partition count
/// from the cluster's metadata the first time the topic is seen.
async fn route(
    client: Arc<Client>,
    mut rx: UnboundedReceiver<Pending>,
    shared: Arc<Shared>,
    settings: Settings,
) {
    let mut topics: HashMap<String, Vec<UnboundedSender<Pending>>> = HashMap::new();
    while let Some(rec) = rx.recv().await {
        if !topics.contains_key(&rec.topic) {
            match partition_count(&client, &rec.topic).await {
                Ok(n) => {
                    let senders = (0..n)
                        .map(|p| {
                            let (tx, rx) = mpsc::unbounded_channel();
                            tokio::spawn(partition_task(
                                Arc::clone(&client),
                                rec.topic.clone(),
                                p,
                                rx,
                                Arc::clone(&shared),
                                settings.compression,
                                settings.batch_max,
                            ));
                            tx
                        })
                        .collect();
                    topics.insert(rec.topic.clone(), senders);
                }
                Err(error) => {
                    shared.failed(&rec.topic, [rec.key], &error);
                    continue;
                }
            }
        }
        let Some(senders) = topics.get(&rec.topic) else {
            continue;
        };
        let p = partition_for(&rec.key, senders.len() as i32) as usize;
        if let Err(mpsc::error::SendError(rec)) = senders[p].send(rec) {
            shared.failed(&rec.topic, [rec.key], "the partition's sender task stopped");
        }
    }
}

async fn partition_count(client: &Client, topic: &str) -> Result<i32, String> {
    let topics = client
        .list_topics()
        .await
        .map_err(|e| format!("cannot read the cluster's metadata: {e}"))?;
    match topics.into_iter().find(|t| t.name == topic) {
        Some(t) if !t.partitions.is_empty() => Ok(t.partitions.len() as i32),
        _ => Err(format!("topic {topic:?} does not exist")),
    }
}

/// Produces one partition's records in order, one request at a time.
async fn partition_task(
    client: Arc<Client>,
    topic: String,
    partition: i32,
    mut rx: UnboundedReceiver<Pending>,
    shared: Arc<Shared>,
    compression: Compression,
    batch_max: usize,
) {
    let mut partition_client = None;
    let mut carry: Option<Pending> = None;
    loop {
        let first = match carry.take() {
            Some(r) => r,
            None => match rx.recv().await {
                Some(r) => r,
                None => return,
            },
        };
        let mut bytes = first.key.len() + first.value.len();
        let mut batch = vec![first];
        while batch.len() < batch_max {
            match rx.try_recv() {
                Ok(r) if bytes + r.key.len() + r.value.len() > MAX_BATCH_BYTES => {
                    carry = Some(r);
                    break;
                }
                Ok(r) => {
                    bytes += r.key.len() + r.value.len();
                    batch.push(r);
                }
                Err(_) => break,
            }
        }
        let pc = match &partition_client {
            Some(pc) => pc,
            None => match client
                .partition_client(topic.as_str(), partition, UnknownTopicHandling::Retry)
                .await
            {
                Ok(pc) => partition_client.insert(pc),
                Err(e) => {
                    let keys = batch.into_iter().map(|r| r.key);
                    shared.failed(
                        &topic,
                        keys,
                        &format!("no leader for partition {partition}: {e}"),
                    );
                    continue;
                }
            },
        };
        let n = batch.len();
        let mut keys = Vec::with_capacity(n);
        let records = batch
            .into_iter()
            .map(|r| {
                keys.push(r.key.clone());
                RsRecord {
                    key: Some(r.key),
                    value: Some(r.value),
                    headers: BTreeMap::new(),
                    timestamp: r.at,
                }
            })
            .collect();
        match pc.produce(records, compression).await {
            Ok(_) => shared.delivered(n),
            Err(e) => shared.failed(&topic, keys, &e.to_string()),
        }
    }
}

/// The record's CreateTime. rskafka's chrono is built without its clock feature.
fn now() -> DateTime<Utc> {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::UNIX_EPOCH)
}

impl Producer for RsProducer {
    fn send(&mut self, topic: &str, key: &[u8], value: &[u8]) -> Result<(), TransportError> {
        {
            let started = Instant::now();
            let mut c = self.shared.lock();
            while c.pending() >= self.max_pending {
                let Some(left) = QUEUE_FULL_PATIENCE.checked_sub(started.elapsed()) else {
                    return Err(TransportError::Client(format!(
                        "{} records have waited for the broker for {}s \
                         (queue.buffering.max.messages={}); the cluster is too slow",
                        c.pending(),
                        QUEUE_FULL_PATIENCE.as_secs(),
                        self.max_pending
                    )));
                };
                c = self
                    .shared
                    .changed
                    .wait_timeout(c, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            c.sent += 1;
        }
        let rec = Pending {
            topic: topic.to_string(),
            key: key.to_vec(),
            value: value.to_vec(),
            at: now(),
        };
        self.tx.send(rec).map_err(|_| {
            self.shared.lock().sent -= 1;
            TransportError::Client("the rskafka producer's background task has stopped".into())
        })
    }

    fn flush(&mut self, timeout: Duration) -> Result<(), TransportError> {
        let started = Instant::now();
        let mut c = self.shared.lock();
        while c.pending() > 0 {
            let Some(left) = timeout.checked_sub(started.elapsed()) else {
                return Err(TransportError::Timeout {
                    doing: format!("flushing {} undelivered records", c.pending()),
                    timeout,
                });
            };
            c = self
                .shared
                .changed
                .wait_timeout(c, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        Ok(())
    }

    fn take_failures(&mut self) -> Vec<DeliveryFailure> {
        std::mem::take(&mut self.shared.lock().failures)
    }

    fn stats(&self) -> ProducerStats {
        let c = self.shared.lock();
        ProducerStats {
            sent: c.sent,
            delivered: c.delivered,
            failed: c.failed,
        }
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.settings.clone()
    }
}

impl Drop for RsProducer {
    fn drop(&mut self) {
        // Records still queued are abandoned, as librdkafka does without a flush; the
        // bound keeps a dead broker from holding the caller here.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}
