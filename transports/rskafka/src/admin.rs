//! Admin on rskafka: the bounded-time topic check (metadata) and topic creation
//! through rskafka's `ControllerClient`.
//!
//! Creating the handle touches no network; the client is built on the first call,
//! within that call's timeout, and kept for the next ones.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kmidi_transport::{Admin, ClientConfig, TopicSpec, TransportError};
use rskafka::client::error::ProtocolError;
use rskafka::client::Client;
use tokio::runtime::Runtime;

use crate::client::{self, protocol_error};
use crate::props::Settings;

pub struct RsAdmin {
    settings: Settings,
    rt: Runtime,
    client: OnceLock<Client>,
}

impl RsAdmin {
    pub fn new(config: &ClientConfig) -> Result<Self, TransportError> {
        Ok(Self {
            settings: Settings::parse(config)?,
            rt: client::call_runtime()?,
            client: OnceLock::new(),
        })
    }

    fn client(&self, timeout: Duration) -> Result<&Client, TransportError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let c = self.rt.block_on(client::connect(&self.settings, timeout))?;
        Ok(self.client.get_or_init(|| c))
    }

    fn unreachable(&self, timeout: Duration, detail: String) -> TransportError {
        TransportError::Unreachable {
            bootstrap: self.settings.bootstrap.clone(),
            timeout,
            detail,
        }
    }
}

fn remaining(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

// `partition_leaders` keeps the trait's "unknown" default: rskafka 0.6 reads leaders,
// replicas and ISR from metadata internally, but its public API (`list_topics`) gives
// only partition numbers, and its protocol types are public only under the
// `unstable-fuzzing` feature.
impl Admin for RsAdmin {
    fn create_topic(&self, spec: &TopicSpec, timeout: Duration) -> Result<(), TransportError> {
        // rskafka's CreateTopics request always sends an empty config list; creating the
        // topic without them while the caller reports them as set would be a lie.
        if !spec.configs.is_empty() {
            let shown: Vec<String> = spec
                .configs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            return Err(TransportError::Unsupported {
                transport: "rskafka".to_string(),
                what: format!(
                    "setting topic configs at creation ({}); create the topic with \
                     --transport rdkafka",
                    shown.join(", ")
                ),
            });
        }
        let replication = i16::try_from(spec.replication_factor).map_err(|_| {
            TransportError::Client(format!(
                "replication factor {} is out of range",
                spec.replication_factor
            ))
        })?;
        let deadline = Instant::now() + timeout;
        let client = self.client(timeout)?;
        let controller = client
            .controller_client()
            .map_err(|e| self.unreachable(timeout, e.to_string()))?;
        let wait_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        client::block_on_bounded(
            &self.rt,
            remaining(deadline),
            &format!("creating topic {:?}", spec.name),
            async {
                controller
                    .create_topic(spec.name.as_str(), spec.partitions, replication, wait_ms)
                    .await
                    .map_err(|e| match protocol_error(&e) {
                        Some(ProtocolError::TopicAlreadyExists) => TransportError::Client(format!(
                            "topic {:?} already exists on {}",
                            spec.name, self.settings.bootstrap
                        )),
                        Some(code) => TransportError::Client(format!(
                            "the broker refused to create topic {:?}: {code}",
                            spec.name
                        )),
                        None => self.unreachable(timeout, e.to_string()),
                    })?;
                // The controller answers before every broker's metadata shows the new
                // topic; a consumer created right after would find it missing.
                loop {
                    if let Ok(topics) = client.list_topics().await {
                        let found = topics.iter().find(|t| t.name == spec.name);
                        if found.is_some_and(|t| t.partitions.len() as i32 >= spec.partitions) {
                            return Ok(());
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        )
    }

    fn topic_partitions(
        &self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Option<i32>, TransportError> {
        let deadline = Instant::now() + timeout;
        let client = self.client(timeout)?;
        let topics = client::block_on_bounded(&self.rt, remaining(deadline), "", async {
            client
                .list_topics()
                .await
                .map_err(|e| self.unreachable(timeout, e.to_string()))
        })
        .map_err(|e| match e {
            TransportError::Timeout { .. } => {
                self.unreachable(timeout, "no answer to a metadata request".to_string())
            }
            other => other,
        })?;
        Ok(topics
            .into_iter()
            .find(|t| t.name == topic)
            .map(|t| t.partitions.len() as i32))
    }

    fn describe_cluster(&self, timeout: Duration) -> Result<String, TransportError> {
        let deadline = Instant::now() + timeout;
        let client = self.client(timeout)?;
        let topics =
            client::block_on_bounded(&self.rt, remaining(deadline), "listing topics", async {
                client
                    .list_topics()
                    .await
                    .map_err(|e| self.unreachable(timeout, e.to_string()))
            })?;
        // rskafka does not expose brokers or their versions, only topics.
        Ok(format!(
            "{} topic(s); rskafka does not expose broker versions",
            topics.len()
        ))
    }
}
