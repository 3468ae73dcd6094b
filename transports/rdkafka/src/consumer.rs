//! The rdkafka consumer: a librdkafka group member polled with a timeout.

use std::time::Duration;

use kmidi_transport::{ClientConfig, Consumer, Record, Subscription, TransportError};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Message, Timestamp};

use crate::props;

pub struct RdConsumer {
    inner: BaseConsumer,
}

impl RdConsumer {
    pub fn new(config: &ClientConfig, sub: &Subscription) -> Result<Self, TransportError> {
        let mut rd = props::consumer(config);
        rd.set("group.id", &sub.group);
        if config.get("auto.offset.reset").is_none() {
            rd.set("auto.offset.reset", sub.offset_reset.as_str());
        }
        let inner: BaseConsumer = rd.create().map_err(props::creation_error)?;
        let topics: Vec<&str> = sub.topics.iter().map(String::as_str).collect();
        inner
            .subscribe(&topics)
            .map_err(|e| crate::client_error("subscribe", e))?;
        Ok(Self { inner })
    }
}

/// Errors librdkafka recovers from by itself: the broker going away and coming
/// back, a rebalance, a leader moving.
fn is_transient(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode::*;
    matches!(
        code,
        BrokerTransportFailure
            | AllBrokersDown
            | OperationTimedOut
            | NotLeaderForPartition
            | LeaderNotAvailable
            | NetworkException
            | RequestTimedOut
            | Resolve
            | NotCoordinator
            | CoordinatorNotAvailable
            | RebalanceInProgress
            | UnknownTopicOrPartition
            | PartitionEOF
    )
}

impl Consumer for RdConsumer {
    fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, TransportError> {
        match self.inner.poll(timeout) {
            None => Ok(None),
            Some(Ok(m)) => Ok(Some(Record {
                topic: m.topic().to_string(),
                partition: m.partition(),
                offset: m.offset(),
                key: m.key().map(<[u8]>::to_vec),
                value: m.payload().map(<[u8]>::to_vec),
                timestamp_ms: match m.timestamp() {
                    Timestamp::NotAvailable => None,
                    Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) => Some(t),
                },
            })),
            Some(Err(KafkaError::PartitionEOF(_))) => Ok(None),
            Some(Err(err)) => match err.rdkafka_error_code() {
                Some(code) if is_transient(code) => Err(TransportError::Transient(err.to_string())),
                _ => Err(crate::client_error("consume", err)),
            },
        }
    }

    fn commit(&mut self) -> Result<(), TransportError> {
        // Async: a synchronous commit waits without a time limit when the broker is
        // down, and the instrument's files are written after this returns.
        match self.inner.commit_consumer_state(CommitMode::Async) {
            // Nothing consumed since the last commit is not a failure.
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
            other => other.map_err(|e| crate::client_error("commit", e)),
        }
    }

    fn reports_assignment(&self) -> bool {
        true
    }

    fn assignment(&self) -> Vec<(String, i32)> {
        self.inner
            .assignment()
            .map(|tpl| {
                tpl.elements()
                    .iter()
                    .map(|e| (e.topic().to_string(), e.partition()))
                    .collect()
            })
            .unwrap_or_default()
    }
}
