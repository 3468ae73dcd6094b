//! The rdkafka producer: librdkafka's threaded producer, whose background thread
//! serves delivery reports so `send` never waits on the network.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kmidi_transport::{
    ClientConfig, DeliveryFailure, Producer, ProducerStats, TransportError, PRODUCER_SETTINGS,
};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Producer as _, ProducerContext, ThreadedProducer,
};
use rdkafka::ClientContext;

use crate::props;

/// How long `send` keeps retrying while librdkafka's local queue is full before it
/// reports the cluster as too slow; bounded so the scheduler thread never hangs.
const QUEUE_FULL_PATIENCE: Duration = Duration::from_secs(5);

#[derive(Default)]
struct DeliveryLog {
    delivered: AtomicU64,
    failed: AtomicU64,
    failures: Mutex<Vec<DeliveryFailure>>,
}

impl ClientContext for DeliveryLog {}

impl ProducerContext for DeliveryLog {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((err, msg)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                let failure = DeliveryFailure {
                    topic: msg.topic().to_string(),
                    key: msg.key().map(<[u8]>::to_vec),
                    error: err.to_string(),
                };
                if let Ok(mut list) = self.failures.lock() {
                    list.push(failure);
                }
            }
        }
    }
}

pub struct RdProducer {
    inner: ThreadedProducer<DeliveryLog>,
    sent: u64,
    /// What librdkafka applies (read back once, from the config it was created with).
    settings: Vec<(String, String)>,
}

impl RdProducer {
    pub fn new(config: &ClientConfig) -> Result<Self, TransportError> {
        let rd = props::producer(config);
        let inner = rd
            .create_with_context(DeliveryLog::default())
            .map_err(props::creation_error)?;
        Ok(Self {
            inner,
            sent: 0,
            settings: props::effective(&rd, PRODUCER_SETTINGS),
        })
    }
}

impl Producer for RdProducer {
    fn send(&mut self, topic: &str, key: &[u8], value: &[u8]) -> Result<(), TransportError> {
        let started = Instant::now();
        let mut record = BaseRecord::to(topic).key(key).payload(value);
        loop {
            match self.inner.send(record) {
                Ok(()) => {
                    self.sent += 1;
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                    if started.elapsed() < QUEUE_FULL_PATIENCE =>
                {
                    record = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((err, _)) => {
                    return Err(TransportError::Client(format!(
                        "librdkafka refused a record for {topic:?}: {err}"
                    )))
                }
            }
        }
    }

    fn flush(&mut self, timeout: Duration) -> Result<(), TransportError> {
        self.inner.flush(timeout).map_err(|err| match err {
            KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut) => TransportError::Timeout {
                doing: format!(
                    "flushing {} undelivered records",
                    self.inner.in_flight_count()
                ),
                timeout,
            },
            other => crate::client_error("flush", other),
        })
    }

    fn take_failures(&mut self) -> Vec<DeliveryFailure> {
        match self.inner.context().failures.lock() {
            Ok(mut list) => std::mem::take(&mut *list),
            Err(_) => Vec::new(),
        }
    }

    fn warm_up(&mut self, topic: &str, timeout: Duration) -> Result<(), TransportError> {
        use rdkafka::producer::Producer as _;
        self.inner
            .client()
            .fetch_metadata(Some(topic), timeout)
            .map(|_| ())
            .map_err(|e| crate::client_error("loading topic metadata", e))
    }

    fn stats(&self) -> ProducerStats {
        let ctx = self.inner.context();
        ProducerStats {
            sent: self.sent,
            delivered: ctx.delivered.load(Ordering::Relaxed),
            failed: ctx.failed.load(Ordering::Relaxed),
        }
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.settings.clone()
    }
}
