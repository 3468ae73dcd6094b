//! The boundary between kmidi and Kafka client libraries.
//!
//! `transport` defines what every client library must offer (a producer, a consumer,
//! a small admin surface), `config` carries librdkafka-style `key=value` client
//! properties with secrets kept out of logs, `leadership` says which broker leads each
//! partition (and spreads a probe topic's leaders over the brokers), and `plugin` is
//! the C ABI through which a shared library provides a transport (the host's loader and
//! the exporter's runtime).
//!
//! A transport moves keyed byte payloads; it never knows about MIDI: the note format on
//! the topic lives in `kmidi-engine` (`kmidi_engine::wire`).

pub mod config;
pub mod error;
pub mod leadership;
// The C ABI: the only place in kmidi where `unsafe` is allowed.
#[allow(unsafe_code)]
pub mod plugin;
pub mod transport;

pub use config::ClientConfig;
pub use error::TransportError;
pub use leadership::{spread_assignment, Leadership, PartitionLeader};
pub use plugin::{discover, load_plugin, PluginError, PluginTransport};
pub use transport::{
    Admin, Capabilities, Consumer, DeliveryFailure, GroupType, OffsetReset, Producer,
    ProducerStats, Record, Subscription, TopicSpec, Transport, TransportInfo, CONSUMER_SETTINGS,
    GROUP_TYPE_KEY, PRODUCER_SETTINGS,
};
