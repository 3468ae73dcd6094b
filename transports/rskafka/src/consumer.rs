//! The rskafka consumer: every partition of the subscribed topics, each fetched by its
//! own background task, merged in arrival order and handed out one record per poll.
//!
//! rskafka has no consumer groups, so there is no assignment to wait for and nothing
//! to commit: the consumer reads all partitions from the latest (or earliest) offset,
//! as `OffsetReset` says, every time it starts. Each partition's task long-polls the
//! broker (`fetch.wait.max.ms`, 10 ms by default, min bytes 1, so the broker answers
//! as soon as one record is there); every partition client has its own connection, so
//! one partition's wait never delays another's records.

use std::sync::Arc;
use std::time::Duration;

use kmidi_transport::{
    ClientConfig, Consumer, GroupType, OffsetReset, Record, Subscription, TransportError,
};
use rskafka::client::error::ProtocolError;
use rskafka::client::partition::{OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::client::Client;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::client::{self, protocol_error};
use crate::props::Settings;

/// Records fetched ahead of the caller, at most, before the fetchers wait.
const PREFETCH: usize = 4096;

/// Pause after a failed fetch (rskafka has already retried it until its deadline).
const FETCH_ERROR_PAUSE: Duration = Duration::from_millis(500);

type Item = Result<Record, TransportError>;

pub struct RsConsumer {
    rx: mpsc::Receiver<Item>,
    assignment: Vec<(String, i32)>,
    /// What it applies, by librdkafka's names (`Settings::consumer_settings`).
    settings: Vec<(String, String)>,
    // Dropped in `Drop`, which stops the fetchers and joins the worker thread.
    rt: Option<Runtime>,
}

impl RsConsumer {
    pub fn new(config: &ClientConfig, sub: &Subscription) -> Result<Self, TransportError> {
        GroupType::require_consumer_group(config, &format!("rskafka {}", crate::RSKAFKA_VERSION))?;
        let settings = Settings::parse(config)?;
        // An explicit -X auto.offset.reset wins, as with the rdkafka transport.
        let reset = settings.offset_reset.unwrap_or(sub.offset_reset);
        let rt = client::background_runtime("consumer")?;
        let timeout = settings.connect_timeout;
        // Connecting has its own bound, which names the address: under one shared
        // bound a slow machine could let the outer timer fire first and hide which
        // broker never answered.
        let client = Arc::new(rt.block_on(client::connect(&settings, timeout))?);
        let partitions = client::block_on_bounded(
            &rt,
            timeout,
            "assigning partitions",
            assign(client, &settings, sub, reset),
        )?;
        let (tx, rx) = mpsc::channel(PREFETCH);
        let mut assignment = Vec::new();
        for (pc, offset) in partitions {
            assignment.push((pc.topic().to_string(), pc.partition()));
            rt.spawn(fetch(pc, offset, reset, tx.clone(), settings.clone()));
        }
        assignment.sort();
        Ok(Self {
            rx,
            assignment,
            settings: settings.consumer_settings(),
            rt: Some(rt),
        })
    }
}

/// A client and start offset for every partition of every subscribed topic, resolved
/// before the constructor returns so that with `latest` nothing produced after it is
/// missed.
async fn assign(
    client: Arc<Client>,
    settings: &Settings,
    sub: &Subscription,
    reset: OffsetReset,
) -> Result<Vec<(PartitionClient, i64)>, TransportError> {
    let cluster = client
        .list_topics()
        .await
        .map_err(|e| TransportError::Unreachable {
            bootstrap: settings.bootstrap.clone(),
            timeout: settings.connect_timeout,
            detail: e.to_string(),
        })?;
    let mut jobs = JoinSet::new();
    for topic in &sub.topics {
        let Some(found) = cluster.iter().find(|t| &t.name == topic) else {
            return Err(TransportError::TopicMissing {
                topic: topic.clone(),
                bootstrap: settings.bootstrap.clone(),
            });
        };
        for &p in &found.partitions {
            let (client, topic) = (Arc::clone(&client), topic.clone());
            jobs.spawn(async move {
                let pc = client
                    .partition_client(topic, p, UnknownTopicHandling::Retry)
                    .await
                    .map_err(|e| format!("partition {p}: {e}"))?;
                let offset = pc
                    .get_offset(offset_at(reset))
                    .await
                    .map_err(|e| format!("offset of partition {p}: {e}"))?;
                Ok::<_, String>((pc, offset))
            });
        }
    }
    let mut out = Vec::new();
    while let Some(joined) = jobs.join_next().await {
        match joined {
            Ok(Ok(pair)) => out.push(pair),
            Ok(Err(e)) => return Err(TransportError::Client(format!("cannot assign {e}"))),
            Err(e) => {
                return Err(TransportError::Client(format!(
                    "assignment task failed: {e}"
                )))
            }
        }
    }
    Ok(out)
}

fn offset_at(reset: OffsetReset) -> OffsetAt {
    match reset {
        OffsetReset::Earliest => OffsetAt::Earliest,
        OffsetReset::Latest => OffsetAt::Latest,
    }
}

/// Fetches one partition for ever, in order, until the consumer is dropped.
async fn fetch(
    pc: PartitionClient,
    mut offset: i64,
    reset: OffsetReset,
    tx: mpsc::Sender<Item>,
    settings: Settings,
) {
    let (topic, partition) = (pc.topic().to_string(), pc.partition());
    loop {
        let result = pc
            .fetch_records(
                offset,
                settings.fetch_min_bytes..settings.fetch_max_bytes,
                settings.fetch_wait_ms,
            )
            .await;
        let problem = match result {
            Ok((records, _high_watermark)) => {
                for r in records {
                    // A compressed batch can start before the offset asked for.
                    if r.offset < offset {
                        continue;
                    }
                    offset = r.offset + 1;
                    let record = Record {
                        topic: topic.clone(),
                        partition,
                        offset: r.offset,
                        key: r.record.key,
                        value: r.record.value,
                        timestamp_ms: Some(r.record.timestamp.timestamp_millis()),
                    };
                    if tx.send(Ok(record)).await.is_err() {
                        return;
                    }
                }
                continue;
            }
            Err(e) if protocol_error(&e) == Some(ProtocolError::OffsetOutOfRange) => {
                // Retention removed what we were about to read: restart where the
                // reset policy says, and tell the caller records may be missing.
                match pc.get_offset(offset_at(reset)).await {
                    Ok(next) => {
                        let note = format!(
                            "{topic}[{partition}]: offset {offset} is gone, continuing at {next} ({})",
                            reset.as_str()
                        );
                        offset = next;
                        note
                    }
                    Err(e) => format!("{topic}[{partition}]: cannot reset the offset: {e}"),
                }
            }
            Err(e) => format!("fetching {topic}[{partition}] at offset {offset}: {e}"),
        };
        if tx
            .send(Err(TransportError::Transient(problem)))
            .await
            .is_err()
        {
            return;
        }
        tokio::time::sleep(FETCH_ERROR_PAUSE).await;
    }
}

impl Consumer for RsConsumer {
    fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, TransportError> {
        // Already fetched: no need to enter the runtime.
        let item = match self.rx.try_recv() {
            Ok(item) => Some(item),
            Err(mpsc::error::TryRecvError::Empty) => {
                let Some(rt) = &self.rt else {
                    return Ok(None);
                };
                let rx = &mut self.rx;
                match rt.block_on(async { tokio::time::timeout(timeout, rx.recv()).await }) {
                    Ok(item) => item,
                    Err(_) => return Ok(None),
                }
            }
            Err(mpsc::error::TryRecvError::Disconnected) => None,
        };
        match item {
            Some(Ok(record)) => Ok(Some(record)),
            Some(Err(e)) => Err(e),
            None if self.assignment.is_empty() => Ok(None),
            None => Err(TransportError::Client(
                "every partition fetcher of the rskafka consumer has stopped".into(),
            )),
        }
    }

    /// rskafka has no consumer groups, so there is nothing to commit to.
    fn commit(&mut self) -> Result<(), TransportError> {
        Ok(())
    }

    fn reports_assignment(&self) -> bool {
        true
    }

    fn assignment(&self) -> Vec<(String, i32)> {
        self.assignment.clone()
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.settings.clone()
    }
}

impl Drop for RsConsumer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}
