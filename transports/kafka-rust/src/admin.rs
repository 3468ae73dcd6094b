//! Admin operations on kafka-rust: the bounded-time topic check through Metadata v0.
//! kafka-rust has no CreateTopics request, so topic creation is refused as unsupported.
//!
//! kafka-rust has no timeouts of its own below its 120 s socket timeout, so each call
//! runs on a helper thread and is abandoned (not waited for) when its time is up.

use std::sync::mpsc;
use std::time::Duration;

use kmidi_transport::{Admin, TopicSpec, TransportError};

use crate::probe;
use crate::props::Settings;

pub struct KrAdmin {
    settings: Settings,
}

impl KrAdmin {
    pub(crate) fn new(settings: Settings) -> Self {
        Self { settings }
    }

    /// Runs `op` on a fresh client within `timeout`, on a thread of its own.
    fn bounded<T: Send + 'static>(
        &self,
        timeout: Duration,
        doing: &str,
        op: impl FnOnce(&mut kafka::client::KafkaClient) -> T + Send + 'static,
    ) -> Result<T, TransportError> {
        let mut settings = self.settings.clone();
        settings.connect_timeout = settings.connect_timeout.min(timeout);
        let (tx, rx) = mpsc::channel();
        let _ = std::thread::Builder::new()
            .name("kafka-rust-admin".to_string())
            .spawn(move || {
                let result = probe::require_compatible(&settings).and_then(|versions| {
                    crate::client::build(&settings, false)
                        .map(|mut c| (versions, op(&mut c)))
                        .map_err(|e| TransportError::Unreachable {
                            bootstrap: settings.bootstrap.clone(),
                            timeout,
                            detail: crate::client::describe(&e),
                        })
                });
                let _ = tx.send(result);
            });
        match rx.recv_timeout(timeout) {
            Ok(result) => result.map(|(_, v)| v),
            Err(_) => Err(TransportError::Unreachable {
                bootstrap: self.settings.bootstrap.clone(),
                timeout,
                detail: format!("no answer while {doing}"),
            }),
        }
    }
}

// `partition_leaders` keeps the trait's "unknown" default: the kafka crate exposes each
// partition's leader (`Partition::leader`) but neither replicas, ISR nor the broker
// list, and half an answer would be misread: `kmidi leaders` takes a broker missing
// from the list as gone and an empty ISR as "not in sync".
impl Admin for KrAdmin {
    fn create_topic(&self, spec: &TopicSpec, _timeout: Duration) -> Result<(), TransportError> {
        Err(TransportError::Unsupported {
            transport: crate::NAME.to_string(),
            what: format!(
                "creating topic {:?} (the kafka crate has no CreateTopics request; use \
                 --transport rdkafka or kafka-topics.sh)",
                spec.name
            ),
        })
    }

    fn topic_partitions(
        &self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Option<i32>, TransportError> {
        let topic = topic.to_string();
        self.bounded(timeout, "loading metadata", move |c| {
            c.topics().partitions(&topic).map(|p| p.len() as i32)
        })
    }

    fn describe_cluster(&self, timeout: Duration) -> Result<String, TransportError> {
        let mut settings = self.settings.clone();
        settings.connect_timeout = settings.connect_timeout.min(timeout);
        let versions = probe::probe(&settings)?;
        Ok(format!(
            "broker {} offers {} (kafka-rust needs the v0 versions: Kafka ≤ 3.9)",
            versions.broker,
            versions.summary()
        ))
    }
}
