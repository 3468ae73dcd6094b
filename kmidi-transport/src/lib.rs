//! The boundary between kmidi and Kafka client libraries.
//!
//! `transport` defines what every client library must offer (a producer, a consumer,
//! a small admin surface), `config` carries librdkafka-style `key=value` client
//! properties with secrets kept out of logs, and `wire` is the note format on the topic,
//! compatible with the original Python kmidi in both directions.
//!
//! A transport moves keyed byte payloads; it never knows about MIDI.

pub mod config;
pub mod error;
pub mod plugin;
pub mod transport;
pub mod wire;

pub use config::ClientConfig;
pub use error::TransportError;
pub use plugin::{discover, load_plugin, PluginError, PluginTransport};
pub use transport::{
    Admin, Capabilities, Consumer, DeliveryFailure, OffsetReset, Producer, ProducerStats, Record,
    Subscription, TopicSpec, Transport, TransportInfo,
};
