//! kmidi's `kafka-rust` transport: the pure-Rust `kafka` crate (kafka-rust), built in.
//!
//! kafka-rust speaks only the oldest protocol versions (Produce v0, Fetch v0,
//! ListOffsets v0, Metadata v0, OffsetCommit/OffsetFetch v1) and writes magic-0
//! messages, so it works with Apache Kafka up to 3.9 and has no timestamps or headers.
//! It has no consumer-group membership: a kmidi instrument on kafka-rust reads every
//! partition of its topic itself, and `-g` only names where offsets are stored; nor
//! share groups (`kmidi.group.type=share` is refused).
//!
//! `props` maps librdkafka-style `-X` properties (refusing what kafka-rust cannot do),
//! `probe` asks the broker for its API versions before anything else and refuses Kafka
//! 4.x and librdkafka's mock cluster with a clear reason, `client` builds and rebuilds
//! kafka-rust's client after lost connections (`tls` builds the TLS connector both it
//! and `probe` use), and `producer`, `consumer` and `admin` put kafka-rust's
//! synchronous calls on threads of their own so kmidi's timing and timeouts hold.

mod admin;
mod client;
mod consumer;
mod probe;
mod producer;
mod props;
mod start;
mod tls;

use kmidi_transport::{
    Admin, Capabilities, ClientConfig, Consumer, GroupType, Producer, Subscription, Transport,
    TransportError, TransportInfo,
};

pub use admin::KrAdmin;
pub use consumer::KrConsumer;
pub use producer::KrProducer;

/// The name users pass to `--transport`.
pub const NAME: &str = "kafka-rust";

/// The version of the `kafka` crate this transport is built with (checked against
/// Cargo.lock by a unit test, since Cargo does not expose dependency versions).
pub const KAFKA_CRATE_VERSION: &str = "0.10.0";

/// The built-in kafka-rust transport.
#[derive(Clone, Copy, Debug, Default)]
pub struct KafkaRustTransport;

impl KafkaRustTransport {
    pub fn new() -> Self {
        Self
    }
}

/// Connecting failed after the probe succeeded: the broker went away in between.
fn unreachable(settings: &props::Settings, err: &kafka::Error) -> TransportError {
    TransportError::Unreachable {
        bootstrap: settings.bootstrap.clone(),
        timeout: settings.connect_timeout,
        detail: client::describe(err),
    }
}

impl Transport for KafkaRustTransport {
    fn info(&self) -> TransportInfo {
        TransportInfo {
            name: NAME.to_string(),
            library: "kafka (kafka-rust)".to_string(),
            library_version: KAFKA_CRATE_VERSION.to_string(),
            capabilities: Capabilities {
                // Offsets can be stored under a group name, but partitions are not
                // assigned by the broker: every instrument reads every partition.
                consumer_groups: false,
                timestamps: false,
                headers: false,
                tls: true,
                sasl: false,
                idempotence: false,
                consumer_protocol: false,
                share_groups: false,
            },
        }
    }

    fn producer(&self, config: &ClientConfig) -> Result<Box<dyn Producer>, TransportError> {
        let settings = props::parse(config)?;
        probe::require_compatible(&settings)?;
        let client = client::build(&settings, false).map_err(|e| unreachable(&settings, &e))?;
        Ok(Box::new(KrProducer::new(client::Session::new(
            settings, false, client,
        ))))
    }

    fn consumer(
        &self,
        config: &ClientConfig,
        subscription: &Subscription,
    ) -> Result<Box<dyn Consumer>, TransportError> {
        GroupType::require_consumer_group(config, &format!("kafka-rust {KAFKA_CRATE_VERSION}"))?;
        let settings = props::parse(config)?;
        probe::require_compatible(&settings)?;
        let group = subscription.group.clone();
        let mut client =
            client::build(&settings, !group.is_empty()).map_err(|e| unreachable(&settings, &e))?;
        // No group membership: assign every partition of every topic ourselves.
        for topic in &subscription.topics {
            if client
                .topics()
                .partitions(topic)
                .is_none_or(|p| p.is_empty())
            {
                return Err(TransportError::TopicMissing {
                    topic: topic.clone(),
                    bootstrap: settings.bootstrap.clone(),
                });
            }
        }
        let reset = settings.offset_reset.unwrap_or(subscription.offset_reset);
        // A topic created a moment ago may still be electing its leaders: the broker
        // answers NotLeaderForPartition until it has. Retry that, briefly.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let positions = loop {
            match start::start_positions(&mut client, &subscription.topics, &group, reset) {
                Ok(positions) => break positions,
                Err(e) if std::time::Instant::now() < deadline && leader_moving(&e) => {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    let _ = client.load_metadata_all();
                }
                Err(e) => {
                    return Err(TransportError::Client(format!(
                        "kafka-rust: finding where to start reading {:?}: {}",
                        subscription.topics,
                        client::describe(&e)
                    )))
                }
            }
        };
        let session = client::Session::new(settings, !group.is_empty(), client);
        Ok(Box::new(KrConsumer::new(session, group, reset, positions)))
    }

    fn admin(&self, config: &ClientConfig) -> Result<Box<dyn Admin>, TransportError> {
        let settings = props::parse(config)?;
        Ok(Box::new(KrAdmin::new(settings)))
    }
}

/// Errors that mean "ask again after a metadata refresh".
fn leader_moving(e: &kafka::Error) -> bool {
    match e {
        kafka::Error::Kafka(code) => client::is_stale_metadata(*code),
        kafka::Error::TopicPartitionError { error_code, .. } => {
            client::is_stale_metadata(*error_code)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_says_what_kafka_rust_cannot_do() {
        let info = KafkaRustTransport.info();
        assert_eq!(info.name, "kafka-rust");
        assert_eq!(info.library, "kafka (kafka-rust)");
        assert!(!info.capabilities.consumer_groups);
        assert!(!info.capabilities.timestamps && !info.capabilities.headers);
        assert!(info.capabilities.tls && !info.capabilities.sasl);
    }

    #[test]
    fn a_share_group_is_refused_before_any_connection() {
        let config: ClientConfig = [(kmidi_transport::GROUP_TYPE_KEY, "share")]
            .into_iter()
            .collect();
        let sub = Subscription {
            topics: vec!["t".into()],
            group: "g".into(),
            offset_reset: kmidi_transport::OffsetReset::Latest,
        };
        let err = KafkaRustTransport
            .consumer(&config, &sub)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("kafka-rust 0.10.0 has no share consumer (KIP-932)"),
            "{err}"
        );
    }

    #[test]
    fn the_reported_version_is_the_one_in_cargo_lock() {
        let lock = include_str!("../../../Cargo.lock");
        let entry = format!("name = \"kafka\"\nversion = \"{KAFKA_CRATE_VERSION}\"");
        assert!(lock.contains(&entry), "Cargo.lock has no {entry:?}");
    }
}
