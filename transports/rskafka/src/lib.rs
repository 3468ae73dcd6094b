//! kmidi's `rskafka` transport: InfluxData's pure-Rust, async Kafka client, built as
//! a plugin (`libkmidi_rskafka.so`, loaded with `--transport PATH`) and as an rlib.
//!
//! `producer` queues records for per-partition sender tasks (Kafka's murmur2 key
//! partitioner is in `partitioner`), `consumer` fetches every partition in the
//! background, `admin` checks topics and creates them, `props` maps kmidi's
//! librdkafka-style `-X` properties (refusing the rest by name), `security` builds TLS
//! (rustls) and SASL settings, and `client` owns the per-handle tokio runtime and the
//! bounded-time connect.
//!
//! # No consumer groups: what `-g` means here
//!
//! rskafka implements no consumer-group protocol. With this transport the group name
//! (`-g`, or `-X group.id`) is accepted and **ignored**: every instrument reads every
//! partition of the topic on its own, two instruments with the same `-g` both play
//! every note instead of sharing the partitions, and nothing is committed (`commit` is
//! a no-op), so each start begins at the latest or earliest offset as `--from` says.
//! Nor share groups: `kmidi.group.type=share` is refused.
//!
//! # Properties
//!
//! See [`props::SUPPORTED_KEYS`]; any other `-X` key is refused with an error naming it.

pub mod admin;
mod client;
pub mod consumer;
pub mod partitioner;
pub mod producer;
pub mod props;
mod security;

use kmidi_transport::{
    Admin, Capabilities, ClientConfig, Consumer, Producer, Subscription, Transport, TransportError,
    TransportInfo,
};

pub use admin::RsAdmin;
pub use consumer::RsConsumer;
pub use producer::RsProducer;

/// The version of the rskafka crate this transport is built on, e.g. "0.6.0".
pub const RSKAFKA_VERSION: &str = env!("KMIDI_RSKAFKA_VERSION");

/// The rskafka transport.
#[derive(Clone, Copy, Debug, Default)]
pub struct RsKafkaTransport;

impl Transport for RsKafkaTransport {
    fn info(&self) -> TransportInfo {
        TransportInfo {
            name: "rskafka".to_string(),
            // Said here because `kmidi transports` shows it: -g means nothing.
            library: "rskafka".to_string(),
            library_version: RSKAFKA_VERSION.to_string(),
            capabilities: Capabilities {
                consumer_groups: false,
                timestamps: true,
                headers: true,
                tls: true,
                sasl: true,
                idempotence: false,
                consumer_protocol: false,
                share_groups: false,
            },
        }
    }

    fn producer(&self, config: &ClientConfig) -> Result<Box<dyn Producer>, TransportError> {
        Ok(Box::new(RsProducer::new(config)?))
    }

    fn consumer(
        &self,
        config: &ClientConfig,
        subscription: &Subscription,
    ) -> Result<Box<dyn Consumer>, TransportError> {
        Ok(Box::new(RsConsumer::new(config, subscription)?))
    }

    fn admin(&self, config: &ClientConfig) -> Result<Box<dyn Admin>, TransportError> {
        Ok(Box::new(RsAdmin::new(config)?))
    }
}

// The C ABI entry point `kmidi_transport_v1`, which makes the cdylib a kmidi plugin.
// Behind a feature so the rlib can be linked next to another plugin crate without
// two exported symbols of the same name.
#[cfg(feature = "plugin")]
kmidi_transport::export_transport!(RsKafkaTransport);
