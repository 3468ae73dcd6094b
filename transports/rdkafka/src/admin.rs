//! Admin operations on librdkafka: topic creation and the bounded-time check that the
//! cluster answers and the topic exists, run before playing so an unreachable broker
//! is an error in seconds, not a silent hang.

use std::time::Duration;

use kmidi_transport::{Admin, ClientConfig, TopicSpec, TransportError};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::props;

pub struct RdAdmin {
    bootstrap: String,
    admin: AdminClient<DefaultClientContext>,
    // Metadata goes through a consumer handle: a producer's metadata request may
    // auto-create the topic it asks about, which would hide a typo in `-t`.
    meta: BaseConsumer,
}

impl RdAdmin {
    pub fn new(config: &ClientConfig) -> Result<Self, TransportError> {
        let rd = props::base(config);
        Ok(Self {
            bootstrap: config.bootstrap().to_string(),
            admin: rd.create().map_err(props::creation_error)?,
            meta: rd.create().map_err(props::creation_error)?,
        })
    }

    fn unreachable(&self, timeout: Duration, err: KafkaError) -> TransportError {
        TransportError::Unreachable {
            bootstrap: self.bootstrap.clone(),
            timeout,
            detail: err.to_string(),
        }
    }
}

impl Admin for RdAdmin {
    fn create_topic(&self, spec: &TopicSpec, timeout: Duration) -> Result<(), TransportError> {
        // Fail fast on an unreachable cluster rather than on the admin future's timeout.
        self.meta
            .fetch_metadata(None, timeout)
            .map_err(|e| self.unreachable(timeout, e))?;
        let mut topic = NewTopic::new(
            &spec.name,
            spec.partitions,
            TopicReplication::Fixed(spec.replication_factor),
        );
        for (k, v) in &spec.configs {
            topic = topic.set(k, v);
        }
        let opts = AdminOptions::new()
            .operation_timeout(Some(timeout))
            .request_timeout(Some(timeout));
        let results = futures_executor::block_on(self.admin.create_topics([&topic], &opts))
            .map_err(|e| crate::client_error("create topic", e))?;
        for result in results {
            if let Err((name, code)) = result {
                return Err(match code {
                    RDKafkaErrorCode::TopicAlreadyExists => TransportError::Client(format!(
                        "topic {name:?} already exists on {}",
                        self.bootstrap
                    )),
                    other => TransportError::Client(format!(
                        "the broker refused to create topic {name:?}: {other}"
                    )),
                });
            }
        }
        Ok(())
    }

    fn topic_partitions(
        &self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Option<i32>, TransportError> {
        let md = self
            .meta
            .fetch_metadata(None, timeout)
            .map_err(|e| self.unreachable(timeout, e))?;
        Ok(md
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map(|t| t.partitions().len() as i32))
    }

    fn describe_cluster(&self, timeout: Duration) -> Result<String, TransportError> {
        let md = self
            .meta
            .fetch_metadata(None, timeout)
            .map_err(|e| self.unreachable(timeout, e))?;
        Ok(format!(
            "{} broker(s), controller-less metadata from broker {}",
            md.brokers().len(),
            md.orig_broker_id()
        ))
    }
}
