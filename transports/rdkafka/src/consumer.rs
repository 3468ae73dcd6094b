//! The rdkafka consumer: a librdkafka group member polled with a timeout. Only
//! consumer groups: `kmidi.group.type=share` is refused (librdkafka has no share
//! consumer).

use std::time::Duration;

use kmidi_transport::{
    ClientConfig, Consumer, GroupType, Record, Subscription, TransportError, CONSUMER_SETTINGS,
};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Message, Timestamp};

use crate::kip848::{self, GroupWatch};
use crate::props;

pub struct RdConsumer {
    inner: BaseConsumer<GroupWatch>,
    /// What librdkafka applies (read back once, from the config it was created with).
    settings: Vec<(String, String)>,
}

/// Consumer settings the group's coordinator decides under the KIP-848 protocol
/// (`group.protocol=consumer`): librdkafka applies no value of its own for them then.
const CLASSIC_PROTOCOL_ONLY: &[&str] = &[
    "partition.assignment.strategy",
    "session.timeout.ms",
    "heartbeat.interval.ms",
];

/// The effective consumer settings of `rd`, without those librdkafka does not apply
/// under the group protocol it uses.
fn consumer_settings(rd: &rdkafka::ClientConfig) -> Vec<(String, String)> {
    let mut settings = props::effective(rd, CONSUMER_SETTINGS);
    let kip848 = settings
        .iter()
        .any(|(k, v)| k == "group.protocol" && v == "consumer");
    if kip848 {
        settings.retain(|(k, _)| !CLASSIC_PROTOCOL_ONLY.contains(&k.as_str()));
    }
    settings
}

impl RdConsumer {
    pub fn new(config: &ClientConfig, sub: &Subscription) -> Result<Self, TransportError> {
        GroupType::require_consumer_group(
            config,
            &format!("librdkafka {}", crate::librdkafka_version()),
        )?;
        let mut rd = props::consumer(config);
        rd.set("group.id", &sub.group);
        if config.get("auto.offset.reset").is_none() {
            rd.set("auto.offset.reset", sub.offset_reset.as_str());
        }
        let (debug, user_debug) = kip848::debug_for(rd.get("group.protocol"), config.get("debug"));
        if let Some(d) = debug {
            rd.set("debug", d);
            // rust-rdkafka otherwise filters debug lines before the context sees them.
            rd.set_log_level(rdkafka::config::RDKafkaLogLevel::Debug);
        }
        let watch = GroupWatch::new(user_debug);
        let inner: BaseConsumer<GroupWatch> = rd
            .create_with_context(watch)
            .map_err(props::creation_error)?;
        let topics: Vec<&str> = sub.topics.iter().map(String::as_str).collect();
        inner
            .subscribe(&topics)
            .map_err(|e| crate::client_error("subscribe", e))?;
        Ok(Self {
            inner,
            settings: consumer_settings(&rd),
        })
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
        if let Some(refused) = self.inner.context().refusal() {
            return Err(TransportError::Client(refused));
        }
        match self.inner.poll(timeout) {
            None => match self.inner.context().refusal() {
                Some(r) => Err(TransportError::Client(r)),
                None => Ok(None),
            },
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

    fn settings(&self) -> Vec<(String, String)> {
        self.settings.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmidi_transport::GROUP_TYPE_KEY;

    #[test]
    fn the_kip848_protocol_reports_no_classic_only_settings() {
        let classic = consumer_settings(&props::consumer(&ClientConfig::new()));
        assert!(classic.iter().any(|(k, _)| k == "session.timeout.ms"));
        let c: ClientConfig = [("group.protocol", "consumer")].into_iter().collect();
        let kip848 = consumer_settings(&props::consumer(&c));
        assert!(kip848
            .iter()
            .any(|(k, v)| k == "group.protocol" && v == "consumer"));
        assert!(
            !kip848
                .iter()
                .any(|(k, _)| CLASSIC_PROTOCOL_ONLY.contains(&k.as_str())),
            "{kip848:?}"
        );
    }

    #[test]
    fn a_share_group_is_refused_pointing_at_a_transport_that_has_them() {
        let c: ClientConfig = [(GROUP_TYPE_KEY, "share")].into_iter().collect();
        let sub = Subscription {
            topics: vec!["t".into()],
            group: "g".into(),
            offset_reset: kmidi_transport::OffsetReset::Latest,
        };
        let err = RdConsumer::new(&c, &sub)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("has no share consumer (KIP-932)") && err.contains("franz-go plugin"),
            "{err}"
        );
        assert!(
            err.contains(&format!("librdkafka {}", crate::librdkafka_version())),
            "{err}"
        );
    }
}
