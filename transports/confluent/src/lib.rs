//! kmidi's `confluent` transport: `confluent-kafka`, Confluent's native Rust client (a
//! translation of the Apache Kafka Java client 4.4), built in behind the registry's
//! `confluent` feature. It needs Rust 1.95, so only a build that asks for it compiles it.
//!
//! What the library lacks shapes what this transport says of itself: consumer groups
//! only through the KIP-848 protocol (`group.protocol=classic` is refused naming the
//! fix, and a broker without KIP-848, such as Kafka 3.9 by default, is refused when the
//! consumer joins), no share groups, SASL PLAIN only, PEM only for TLS.
//!
//! `props` maps librdkafka-style `-X` properties to the Java client's names with
//! kmidi's defaults, `producer`, `consumer` and `admin` wrap the library's async clients,
//! each on a tokio runtime of its own, behind kmidi's synchronous calls.

mod admin;
mod consumer;
mod producer;
mod props;
mod security;

use std::time::Duration;

use kmidi_transport::{
    Admin, Capabilities, ClientConfig, Consumer, GroupType, Producer, Subscription, Transport,
    TransportError, TransportInfo,
};

pub use admin::CfAdmin;
pub use consumer::CfConsumer;
pub use producer::CfProducer;

/// The name users pass to `--transport`.
pub const NAME: &str = "confluent";

/// The version of the `confluent-kafka` crate this transport is built with (checked
/// against Cargo.lock by a unit test, since Cargo does not expose dependency versions).
pub const CRATE_VERSION: &str = "1.0.0";

/// The library, as refusals name it.
fn library() -> String {
    format!("confluent-kafka {CRATE_VERSION}")
}

/// The built-in confluent-kafka transport.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConfluentTransport;

impl Transport for ConfluentTransport {
    fn info(&self) -> TransportInfo {
        TransportInfo {
            name: NAME.to_string(),
            library: "confluent-kafka (native Rust; KIP-848 groups only)".to_string(),
            library_version: CRATE_VERSION.to_string(),
            capabilities: Capabilities {
                consumer_groups: true,
                timestamps: true,
                headers: true,
                tls: true,
                sasl: true,
                idempotence: true,
                consumer_protocol: true,
                share_groups: false,
            },
        }
    }

    fn producer(&self, config: &ClientConfig) -> Result<Box<dyn Producer>, TransportError> {
        Ok(Box::new(CfProducer::new(config)?))
    }

    fn consumer(
        &self,
        config: &ClientConfig,
        subscription: &Subscription,
    ) -> Result<Box<dyn Consumer>, TransportError> {
        GroupType::require_consumer_group(config, &library())?;
        Ok(Box::new(CfConsumer::new(config, subscription)?))
    }

    fn admin(&self, config: &ClientConfig) -> Result<Box<dyn Admin>, TransportError> {
        Ok(Box::new(CfAdmin::new(config)?))
    }
}

/// The runtime one client runs on: the library's network task lives on its worker,
/// and kmidi's calls enter it with `block_on` from their own threads.
pub(crate) fn runtime(what: &str) -> Result<tokio::runtime::Runtime, TransportError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(format!("kmidi-confluent-{what}"))
        .enable_all()
        .build()
        .map_err(|e| TransportError::Client(format!("cannot start the {what}'s runtime: {e}")))
}

/// The library's error with its causes, as the Java client prints them
/// (`org.apache.kafka...Exception: message`), on one line.
pub(crate) fn describe(err: &confluent_kafka::common::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        text.push_str(&format!(" (caused by {c})"));
        cause = c.source();
    }
    text
}

/// Runs `fut` on `rt` for at most `limit`: `None` if it did not finish in time (it is
/// dropped then, which the library documents as cancelling the wait).
pub(crate) fn bounded<F: std::future::Future>(
    rt: &tokio::runtime::Runtime,
    limit: Duration,
    fut: F,
) -> Option<F::Output> {
    // The timer must be created inside the runtime, hence the async block.
    rt.block_on(async { tokio::time::timeout(limit, fut).await.ok() })
}

/// A property refused, naming it.
pub(crate) fn config_error(key: &str, reason: impl Into<String>) -> TransportError {
    TransportError::Config {
        key: key.to_string(),
        reason: reason.into(),
    }
}

/// Milliseconds for the library's `i32` timeouts.
pub(crate) fn millis(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_says_what_the_native_client_can_do() {
        let info = ConfluentTransport.info();
        assert_eq!(info.name, "confluent");
        assert!(info.capabilities.consumer_groups && info.capabilities.consumer_protocol);
        assert!(!info.capabilities.share_groups);
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
        let err = ConfluentTransport
            .consumer(&config, &sub)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("confluent-kafka 1.0.0 has no share consumer (KIP-932)"),
            "{err}"
        );
    }

    #[test]
    fn the_reported_version_is_the_one_in_cargo_lock() {
        let lock = include_str!("../../../Cargo.lock");
        let entry = format!("name = \"confluent-kafka\"\nversion = \"{CRATE_VERSION}\"");
        assert!(lock.contains(&entry), "Cargo.lock has no {entry:?}");
    }
}
