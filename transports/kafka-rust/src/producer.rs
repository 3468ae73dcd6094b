//! The kafka-rust producer: kafka-rust sends synchronously, so a dedicated thread owns
//! the client and `send` only enqueues on a bounded channel. The player's scheduler
//! thread therefore never waits on the network; the thread sends whatever has queued
//! up as one Produce request, counts acknowledgements and failures, and retries
//! connection losses (rebuilding the client) until `message.timeout.ms`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka::client::ProduceMessage;
use kafka::error::KafkaCode;
use kmidi_transport::{DeliveryFailure, Producer, ProducerStats, TransportError};

use crate::client::{self, Session};
use crate::probe;

/// Records queued between `send` and the producer thread.
const QUEUE_CAPACITY: usize = 10_000;
/// Records sent in one Produce request at most.
const MAX_BATCH: usize = 500;
/// Bytes (keys and values) sent in one Produce request at most: the broker refuses a
/// request over its `message.max.bytes` (1 MiB by default) whole, so back-to-back large
/// notes must be split well below it.
const MAX_BATCH_BYTES: usize = 512 * 1024;
/// How long `send` waits for room in a full queue before reporting the cluster as too
/// slow; bounded so the scheduler thread never hangs.
const QUEUE_FULL_PATIENCE: Duration = Duration::from_secs(5);

struct Job {
    topic: String,
    key: Vec<u8>,
    value: Vec<u8>,
    queued: Instant,
}

#[derive(Default)]
struct DeliveryLog {
    delivered: AtomicU64,
    failed: AtomicU64,
    failures: Mutex<Vec<DeliveryFailure>>,
}

impl DeliveryLog {
    fn fail(&self, job: &Job, error: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut list) = self.failures.lock() {
            list.push(DeliveryFailure {
                topic: job.topic.clone(),
                key: Some(job.key.clone()),
                error,
            });
        }
    }
}

pub struct KrProducer {
    jobs: Option<SyncSender<Job>>,
    log: Arc<DeliveryLog>,
    sent: u64,
    /// What it applies, by librdkafka's names (`Settings::producer_settings`).
    settings: Vec<(String, String)>,
}

impl KrProducer {
    pub(crate) fn new(session: Session) -> Self {
        let settings = session.settings.producer_settings();
        let (tx, rx) = mpsc::sync_channel(QUEUE_CAPACITY);
        let log = Arc::new(DeliveryLog::default());
        let thread_log = Arc::clone(&log);
        // Detached on purpose: it ends when the channel closes (producer dropped)
        // after sending what was queued, and a hung broker must not hang the drop.
        let _ = std::thread::Builder::new()
            .name("kafka-rust-producer".to_string())
            .spawn(move || run(session, rx, &thread_log));
        Self {
            jobs: Some(tx),
            log,
            sent: 0,
            settings,
        }
    }

    fn in_flight(&self) -> u64 {
        let done =
            self.log.delivered.load(Ordering::Relaxed) + self.log.failed.load(Ordering::Relaxed);
        self.sent.saturating_sub(done)
    }
}

impl Producer for KrProducer {
    fn send(&mut self, topic: &str, key: &[u8], value: &[u8]) -> Result<(), TransportError> {
        let Some(jobs) = &self.jobs else {
            return Err(TransportError::Client(
                "the kafka-rust producer is closed".into(),
            ));
        };
        let started = Instant::now();
        let mut job = Job {
            topic: topic.to_string(),
            key: key.to_vec(),
            value: value.to_vec(),
            queued: started,
        };
        loop {
            match jobs.try_send(job) {
                Ok(()) => {
                    self.sent += 1;
                    return Ok(());
                }
                Err(TrySendError::Full(back)) if started.elapsed() < QUEUE_FULL_PATIENCE => {
                    job = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(TrySendError::Full(_)) => {
                    return Err(TransportError::Client(format!(
                        "the kafka-rust producer queue stayed full ({QUEUE_CAPACITY} records) for {}s: the cluster is too slow",
                        QUEUE_FULL_PATIENCE.as_secs()
                    )))
                }
                Err(TrySendError::Disconnected(_)) => {
                    return Err(TransportError::Client(
                        "the kafka-rust producer thread has stopped".into(),
                    ))
                }
            }
        }
    }

    fn flush(&mut self, timeout: Duration) -> Result<(), TransportError> {
        let deadline = Instant::now() + timeout;
        while self.in_flight() > 0 {
            if Instant::now() >= deadline {
                return Err(TransportError::Timeout {
                    doing: format!("flushing {} undelivered records", self.in_flight()),
                    timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    fn take_failures(&mut self) -> Vec<DeliveryFailure> {
        match self.log.failures.lock() {
            Ok(mut list) => std::mem::take(&mut *list),
            Err(_) => Vec::new(),
        }
    }

    fn stats(&self) -> ProducerStats {
        ProducerStats {
            sent: self.sent,
            delivered: self.log.delivered.load(Ordering::Relaxed),
            failed: self.log.failed.load(Ordering::Relaxed),
        }
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.settings.clone()
    }
}

impl Drop for KrProducer {
    fn drop(&mut self) {
        // Closing the channel tells the thread to finish what is queued and stop.
        self.jobs.take();
    }
}

/// CRC-32 (IEEE) of the key, as librdkafka's default `consistent_random`
/// partitioner uses, so a song lands on the same partition with either transport.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn partition_for(key: &[u8], partitions: i32, round_robin: &mut u32) -> i32 {
    let n = partitions.max(1) as u32;
    if key.is_empty() {
        *round_robin = round_robin.wrapping_add(1);
        (*round_robin % n) as i32
    } else {
        (crc32(key) % n) as i32
    }
}

fn run(mut session: Session, rx: Receiver<Job>, log: &DeliveryLog) {
    let mut round_robin = 0u32;
    // A record that did not fit the last batch opens the next one.
    let mut carried: Option<Job> = None;
    loop {
        // Blocks until the first record or until the producer is dropped.
        let first = match carried.take() {
            Some(job) => job,
            None => match rx.recv() {
                Ok(job) => job,
                Err(_) => break,
            },
        };
        let mut bytes = first.key.len() + first.value.len();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => {
                    let size = job.key.len() + job.value.len();
                    if bytes + size > MAX_BATCH_BYTES {
                        carried = Some(job);
                        break;
                    }
                    bytes += size;
                    batch.push(job);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        send_batch(&mut session, batch, log, &mut round_robin);
    }
}

/// Sends one batch, retrying what may succeed later until each record's deadline.
fn send_batch(session: &mut Session, mut batch: Vec<Job>, log: &DeliveryLog, rr: &mut u32) {
    let acks = session.settings.acks;
    let ack_timeout = session.settings.request_timeout;
    let message_timeout = session.settings.message_timeout;
    while !batch.is_empty() {
        // After a lost connection the client may be gone: rebuild it before placing.
        if let Err(err) = session.run("reconnecting", |_| Ok(())) {
            batch = keep_or_fail(batch, &err, message_timeout, log);
            if !batch.is_empty() {
                std::thread::sleep(Duration::from_millis(100));
            }
            continue;
        }
        // Partition counts from the client's metadata; unknown topics fail for good.
        let mut placed: Vec<(Job, i32)> = Vec::with_capacity(batch.len());
        for job in batch.drain(..) {
            let count = session
                .client()
                .and_then(|c| c.topics().partitions(&job.topic).map(|p| p.len() as i32));
            match count {
                Some(n) if n > 0 => {
                    let p = partition_for(&job.key, n, rr);
                    placed.push((job, p));
                }
                _ => log.fail(&job, format!("topic {:?} does not exist", job.topic)),
            }
        }
        if placed.is_empty() {
            return;
        }
        let result = session.run("producing", |c| {
            let msgs: Vec<ProduceMessage<'_, '_>> = placed
                .iter()
                .map(|(j, p)| ProduceMessage::new(&j.topic, *p, Some(&j.key), Some(&j.value)))
                .collect();
            c.produce_messages(acks, ack_timeout, msgs)
        });
        let mut retry = Vec::new();
        match result {
            Ok(confirms) => {
                let mut errors: HashMap<(String, i32), KafkaCode> = HashMap::new();
                for confirm in confirms {
                    for pc in confirm.partition_confirms {
                        if let Err(code) = pc.offset {
                            errors.insert((confirm.topic.clone(), pc.partition), code);
                        }
                    }
                }
                let mut stale = false;
                for (job, p) in placed {
                    match errors.get(&(job.topic.clone(), p)) {
                        None => {
                            log.delivered.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(&code)
                            if client::is_stale_metadata(code)
                                && job.queued.elapsed() < message_timeout =>
                        {
                            stale = true;
                            retry.push(job);
                        }
                        Some(&KafkaCode::UnsupportedVersion) => log.fail(
                            &job,
                            probe::mock_cluster_refusal(&session.settings.bootstrap),
                        ),
                        Some(code) => {
                            log.fail(&job, format!("the broker refused the record: {code:?}"))
                        }
                    }
                }
                if stale {
                    let _ = session.run("reloading metadata", |c| c.load_metadata_all());
                }
            }
            Err(err) => {
                let jobs = placed.into_iter().map(|(job, _)| job).collect();
                retry = keep_or_fail(jobs, &err, message_timeout, log);
                // A broker that has just restarted answers from stale metadata until
                // it leads its partitions again (client::Session::run calls that
                // transient): look again before retrying.
                if !retry.is_empty() {
                    let _ = session.run("reloading metadata", |c| c.load_metadata_all());
                }
            }
        }
        if !retry.is_empty() {
            std::thread::sleep(Duration::from_millis(100));
        }
        batch = retry;
    }
}

/// After a failed call: keeps each record until its own deadline if the error may
/// pass (a broker restarting), fails it otherwise (a refusal, a broker error).
fn keep_or_fail(
    jobs: Vec<Job>,
    err: &TransportError,
    message_timeout: Duration,
    log: &DeliveryLog,
) -> Vec<Job> {
    let transient = err.is_transient() || matches!(err, TransportError::Unreachable { .. });
    let mut kept = Vec::new();
    for job in jobs {
        if transient && job.queued.elapsed() < message_timeout {
            kept.push(job);
        } else {
            log.fail(&job, err.to_string());
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_ieee_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_key_always_lands_on_the_same_partition() {
        let mut rr = 0;
        let p = partition_for(b"ode_to_joy.mid", 3, &mut rr);
        for _ in 0..10 {
            assert_eq!(partition_for(b"ode_to_joy.mid", 3, &mut rr), p);
        }
        let spread: std::collections::HashSet<i32> =
            (0..6).map(|_| partition_for(b"", 3, &mut rr)).collect();
        assert_eq!(spread.len(), 3, "keyless records go round robin");
    }
}
