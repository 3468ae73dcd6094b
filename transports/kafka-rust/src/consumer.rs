//! The kafka-rust consumer: no group membership, so it assigns itself every partition
//! of every subscribed topic; the group (`-g`) only stores committed offsets. kafka-rust
//! fetches synchronously (and a silent broker can hold a call for 120 s), so a fetch
//! thread owns the client and fills a queue; `poll` waits on that queue and honours
//! its timeout whatever the network does.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kafka::client::{CommitOffset, FetchPartition};
use kafka::error::KafkaCode;
use kmidi_transport::{Consumer, OffsetReset, Record, TransportError};

use crate::client::{self, Session};
use crate::start::start_positions;

/// The fetch thread stops fetching while this many records wait to be polled.
const QUEUE_HIGH: usize = 5_000;
/// How long `commit` waits for the fetch thread to commit.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(15);
/// A partition whose next record is larger than this is reported, not fetched forever.
const MAX_FETCH_BYTES: i32 = 64 * 1024 * 1024;

type Tp = (String, i32);

#[derive(Default)]
struct Shared {
    queue: VecDeque<Record>,
    /// Reported once by the next poll.
    error: Option<TransportError>,
    /// The fetch thread has ended (a fatal error or the consumer was dropped).
    stopped: bool,
    stop: bool,
    commit_request: Option<Vec<(Tp, i64)>>,
    commit_result: Option<Result<(), TransportError>>,
}

struct Inner {
    state: Mutex<Shared>,
    changed: Condvar,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panicking fetch thread poisons the lock; the data is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct KrConsumer {
    inner: Arc<Inner>,
    group: String,
    assignment: Vec<Tp>,
    /// Next offset per partition, of what `poll` returned, for `commit`.
    consumed: HashMap<Tp, i64>,
    committed: HashMap<Tp, i64>,
    /// What it applies, by librdkafka's names (`Settings::consumer_settings`).
    settings: Vec<(String, String)>,
}

impl KrConsumer {
    pub(crate) fn new(
        session: Session,
        group: String,
        reset: OffsetReset,
        positions: HashMap<Tp, i64>,
    ) -> Self {
        let inner = Arc::new(Inner {
            state: Mutex::new(Shared::default()),
            changed: Condvar::new(),
        });
        let settings = session.settings.consumer_settings();
        let mut assignment: Vec<Tp> = positions.keys().cloned().collect();
        assignment.sort();
        let fetcher = Fetcher {
            session,
            group: group.clone(),
            reset,
            max_bytes: HashMap::new(),
            positions,
        };
        let thread_inner = Arc::clone(&inner);
        // Detached: it stops at the next loop turn after the consumer is dropped, and a
        // hung broker must not hang the drop.
        let _ = std::thread::Builder::new()
            .name("kafka-rust-consumer".to_string())
            .spawn(move || fetcher.run(&thread_inner));
        Self {
            inner,
            group,
            assignment,
            consumed: HashMap::new(),
            committed: HashMap::new(),
            settings,
        }
    }
}

impl Consumer for KrConsumer {
    fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, TransportError> {
        let deadline = Instant::now() + timeout;
        let mut state = self.inner.lock();
        loop {
            if let Some(record) = state.queue.pop_front() {
                self.consumed
                    .insert((record.topic.clone(), record.partition), record.offset + 1);
                return Ok(Some(record));
            }
            if let Some(err) = state.error.take() {
                return Err(err);
            }
            if state.stopped {
                return Err(TransportError::Client(
                    "the kafka-rust fetch thread has stopped".into(),
                ));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            state = match self.inner.changed.wait_timeout(state, deadline - now) {
                Ok((s, _)) => s,
                Err(p) => p.into_inner().0,
            };
        }
    }

    fn commit(&mut self) -> Result<(), TransportError> {
        if self.group.is_empty() {
            return Ok(());
        }
        let offsets: Vec<(Tp, i64)> = self
            .consumed
            .iter()
            .filter(|(tp, off)| self.committed.get(*tp) != Some(off))
            .map(|(tp, off)| (tp.clone(), *off))
            .collect();
        if offsets.is_empty() {
            return Ok(());
        }
        let deadline = Instant::now() + COMMIT_TIMEOUT;
        let mut state = self.inner.lock();
        state.commit_result = None;
        state.commit_request = Some(offsets.clone());
        self.inner.changed.notify_all();
        loop {
            if let Some(result) = state.commit_result.take() {
                if result.is_ok() {
                    self.committed.extend(offsets);
                }
                return result;
            }
            let now = Instant::now();
            if state.stopped || now >= deadline {
                state.commit_request = None;
                return Err(TransportError::Timeout {
                    doing: format!("committing offsets for group {:?}", self.group),
                    timeout: COMMIT_TIMEOUT,
                });
            }
            state = match self.inner.changed.wait_timeout(state, deadline - now) {
                Ok((s, _)) => s,
                Err(p) => p.into_inner().0,
            };
        }
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

impl Drop for KrConsumer {
    fn drop(&mut self) {
        self.inner.lock().stop = true;
        self.inner.changed.notify_all();
    }
}

struct Fetcher {
    session: Session,
    group: String,
    reset: OffsetReset,
    positions: HashMap<Tp, i64>,
    /// Per-partition fetch size, grown when a record does not fit.
    max_bytes: HashMap<Tp, i32>,
}

enum Outcome {
    Records(Vec<Record>),
    /// Worth a warning; the thread keeps going.
    Transient(TransportError),
    /// The thread ends.
    Fatal(TransportError),
}

impl Fetcher {
    fn run(mut self, inner: &Inner) {
        loop {
            let commit = {
                let mut state = inner.lock();
                while state.queue.len() >= QUEUE_HIGH
                    && !state.stop
                    && state.commit_request.is_none()
                {
                    state = match inner.changed.wait_timeout(state, Duration::from_millis(50)) {
                        Ok((s, _)) => s,
                        Err(p) => p.into_inner().0,
                    };
                }
                if state.stop {
                    break;
                }
                state.commit_request.take()
            };
            if let Some(offsets) = commit {
                let result = self.commit(&offsets);
                inner.lock().commit_result = Some(result);
                inner.changed.notify_all();
            }
            let outcome = self.fetch_once();
            let mut state = inner.lock();
            match outcome {
                Outcome::Records(records) => state.queue.extend(records),
                Outcome::Transient(err) => {
                    state.error.get_or_insert(err);
                }
                Outcome::Fatal(err) => {
                    state.error = Some(err);
                    state.stopped = true;
                    inner.changed.notify_all();
                    return;
                }
            }
            let transient = state
                .error
                .as_ref()
                .is_some_and(TransportError::is_transient);
            drop(state);
            inner.changed.notify_all();
            if transient {
                // The broker is away: do not spin while it restarts.
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        inner.lock().stopped = true;
        inner.changed.notify_all();
    }

    fn commit(&mut self, offsets: &[(Tp, i64)]) -> Result<(), TransportError> {
        let group = self.group.clone();
        self.session.run("committing offsets", |c| {
            let list: Vec<CommitOffset<'_>> = offsets
                .iter()
                .map(|((t, p), o)| CommitOffset::new(t, *p, *o))
                .collect();
            c.commit_offsets(&group, list)
        })
    }

    fn fetch_once(&mut self) -> Outcome {
        let default_max = self.session.settings.max_partition_fetch_bytes;
        let requests: Vec<(Tp, i64, i32)> = self
            .positions
            .iter()
            .map(|(tp, off)| {
                (
                    tp.clone(),
                    *off,
                    *self.max_bytes.get(tp).unwrap_or(&default_max),
                )
            })
            .collect();
        let responses = self.session.run("fetching", |c| {
            let reqs: Vec<FetchPartition<'_>> = requests
                .iter()
                .map(|((t, p), off, max)| FetchPartition::new(t, *p, *off).with_max_bytes(*max))
                .collect();
            c.fetch_messages(reqs)
        });
        let responses = match responses {
            Ok(r) => r,
            Err(e) if e.is_transient() || matches!(e, TransportError::Unreachable { .. }) => {
                return Outcome::Transient(TransportError::Transient(e.to_string()))
            }
            Err(e) => return Outcome::Fatal(e),
        };
        let mut records = Vec::new();
        let mut reset = Vec::new();
        let mut stale = None;
        // kafka-rust silently skips partitions whose leader its metadata lacks (a topic
        // re-created after a broker restart): refresh until they are back.
        let answered: usize = responses
            .iter()
            .flat_map(|r| r.topics())
            .map(|t| t.partitions().len())
            .sum();
        if answered < self.positions.len() {
            stale = Some("some partitions have no known leader".to_string());
        }
        for resp in &responses {
            for topic in resp.topics() {
                for part in topic.partitions() {
                    let tp = (topic.topic().to_string(), part.partition());
                    let Some(&position) = self.positions.get(&tp) else {
                        continue;
                    };
                    match part.data() {
                        Ok(data) => {
                            let messages = data.messages();
                            if messages.is_empty() && data.highwatermark_offset() > position {
                                self.grow(&tp, default_max, &mut stale);
                            }
                            for m in messages {
                                records.push(Record {
                                    topic: tp.0.clone(),
                                    partition: tp.1,
                                    offset: m.offset,
                                    key: Some(m.key.to_vec()),
                                    value: Some(m.value.to_vec()),
                                    // Magic-0 messages carry no timestamp.
                                    timestamp_ms: None,
                                });
                                self.positions.insert(tp.clone(), m.offset + 1);
                            }
                        }
                        Err(err) => match &*err {
                            kafka::Error::Kafka(KafkaCode::OffsetOutOfRange) => reset.push(tp),
                            kafka::Error::Kafka(code) if client::is_stale_metadata(*code) => {
                                stale = Some(format!("{}[{}]: {code:?}", tp.0, tp.1));
                            }
                            other => {
                                stale = Some(format!(
                                    "{}[{}]: {}",
                                    tp.0,
                                    tp.1,
                                    client::describe(other)
                                ));
                            }
                        },
                    }
                }
            }
        }
        if !reset.is_empty() {
            let topics: Vec<String> = reset.iter().map(|(t, _)| t.clone()).collect();
            let reset_policy = self.reset;
            if let Ok(fresh) = self.session.run("resetting offsets", |c| {
                start_positions(c, &topics, "", reset_policy)
            }) {
                for tp in reset {
                    if let Some(off) = fresh.get(&tp) {
                        tracing::warn!("{}[{}]: offset out of range, reset to {off}", tp.0, tp.1);
                        self.positions.insert(tp, *off);
                    }
                }
            }
        }
        if let Some(why) = stale {
            let _ = self
                .session
                .run("reloading metadata", |c| c.load_metadata_all());
            if records.is_empty() {
                return Outcome::Transient(TransportError::Transient(format!("fetching {why}")));
            }
        }
        Outcome::Records(records)
    }

    /// A record larger than the fetch size never arrives whole: fetch more next time.
    fn grow(&mut self, tp: &Tp, default_max: i32, problem: &mut Option<String>) {
        let current = *self.max_bytes.get(tp).unwrap_or(&default_max);
        if current >= MAX_FETCH_BYTES {
            *problem = Some(format!(
                "{}[{}]: the next record is larger than {MAX_FETCH_BYTES} bytes",
                tp.0, tp.1
            ));
        } else {
            self.max_bytes
                .insert(tp.clone(), current.saturating_mul(2).min(MAX_FETCH_BYTES));
        }
    }
}
