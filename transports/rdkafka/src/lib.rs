//! kmidi's `rdkafka` transport: librdkafka through rust-rdkafka, built in.
//!
//! `producer` and `consumer` wrap librdkafka's threaded producer and base consumer,
//! `admin` creates topics and runs the bounded-time reachability check, `props` holds
//! the defaults kmidi sets (low latency, idempotence) without overriding `-X`, and
//! `mock` is librdkafka's in-process mock cluster, for the embedded demo and fast
//! unit-level tests only.

mod admin;
mod consumer;
mod kip848;
pub mod mock;
mod producer;
mod props;

use kmidi_transport::{
    Admin, Capabilities, ClientConfig, Consumer, Producer, Subscription, Transport, TransportError,
    TransportInfo,
};

pub use admin::RdAdmin;
pub use consumer::RdConsumer;
pub use producer::RdProducer;

/// The built-in librdkafka transport.
#[derive(Clone, Copy, Debug, Default)]
pub struct RdKafkaTransport;

/// librdkafka's version string, e.g. "2.12.1".
pub fn librdkafka_version() -> String {
    rdkafka::util::get_rdkafka_version().1
}

impl Transport for RdKafkaTransport {
    fn info(&self) -> TransportInfo {
        TransportInfo {
            name: "rdkafka".to_string(),
            library: "librdkafka (rust-rdkafka)".to_string(),
            library_version: librdkafka_version(),
            capabilities: Capabilities {
                consumer_groups: true,
                timestamps: true,
                headers: true,
                tls: true,
                sasl: true,
                idempotence: true,
                // librdkafka 2.12 made KIP-848 generally available.
                consumer_protocol: true,
                share_groups: false,
            },
        }
    }

    fn producer(&self, config: &ClientConfig) -> Result<Box<dyn Producer>, TransportError> {
        Ok(Box::new(RdProducer::new(config)?))
    }

    fn consumer(
        &self,
        config: &ClientConfig,
        subscription: &Subscription,
    ) -> Result<Box<dyn Consumer>, TransportError> {
        Ok(Box::new(RdConsumer::new(config, subscription)?))
    }

    fn admin(&self, config: &ClientConfig) -> Result<Box<dyn Admin>, TransportError> {
        Ok(Box::new(RdAdmin::new(config)?))
    }
}

/// Turns librdkafka's errors into the transport's, keeping the library's wording.
pub(crate) fn client_error(doing: &str, err: rdkafka::error::KafkaError) -> TransportError {
    TransportError::Client(format!("{doing}: {err}"))
}
