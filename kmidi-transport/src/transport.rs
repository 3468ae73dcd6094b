//! The `Transport` trait: what kmidi needs from a Kafka client library.
//!
//! Kept small and synchronous on purpose: the player calls `send` from its scheduling
//! thread and must never block there, and the instrument polls with a timeout. A
//! library with its own async runtime hides it behind these calls (as the rskafka
//! plugin does with tokio; `include/kmidi_transport.h` states the threading rules).

use std::time::Duration;

use crate::{ClientConfig, Leadership, TransportError};

/// What a transport is and can do, for `kmidi transports` and reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportInfo {
    /// The name users pass to `--transport`.
    pub name: String,
    /// The client library it wraps, e.g. "librdkafka".
    pub library: String,
    pub library_version: String,
    pub capabilities: Capabilities,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Consumer groups with partition assignment by the broker.
    pub consumer_groups: bool,
    /// Broker/producer timestamps on consumed records.
    pub timestamps: bool,
    pub headers: bool,
    pub tls: bool,
    pub sasl: bool,
    /// Idempotent producer (no duplicates or gaps across broker restarts).
    pub idempotence: bool,
    /// The next-generation group protocol (KIP-848): `group.protocol=consumer`.
    pub consumer_protocol: bool,
    /// Share groups (KIP-932): [`GROUP_TYPE_KEY`]` = share`.
    pub share_groups: bool,
}

/// The host's config key asking for a kind of group other than a consumer group:
/// `share` is a share group (KIP-932), in which records of one partition may go to
/// several members and come back when not acknowledged. A transport that cannot honour
/// it must refuse it, since ignoring it changes what is delivered.
pub const GROUP_TYPE_KEY: &str = "kmidi.group.type";

/// What [`GROUP_TYPE_KEY`] asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GroupType {
    /// A consumer group (absent key, or `consumer`).
    #[default]
    Consumer,
    /// A share group (KIP-932): `share`.
    Share,
}

impl GroupType {
    /// The group type `config` asks for; a value other than `consumer` or `share` is a
    /// [`TransportError::Config`] naming the key.
    pub fn of(config: &ClientConfig) -> Result<Self, TransportError> {
        match config.get(GROUP_TYPE_KEY).map(str::trim) {
            None | Some("consumer") => Ok(GroupType::Consumer),
            Some("share") => Ok(GroupType::Share),
            Some(other) => Err(TransportError::Config {
                key: GROUP_TYPE_KEY.to_string(),
                reason: format!("expected consumer or share, got {other:?}"),
            }),
        }
    }

    /// For a transport without share consumers: `Ok` for a consumer group, and for a
    /// share group the refusal naming `library` (e.g. "librdkafka 2.12.1") and what to
    /// use instead.
    pub fn require_consumer_group(
        config: &ClientConfig,
        library: &str,
    ) -> Result<(), TransportError> {
        match Self::of(config)? {
            GroupType::Consumer => Ok(()),
            GroupType::Share => Err(TransportError::Config {
                key: GROUP_TYPE_KEY.to_string(),
                reason: format!(
                    "{library} has no share consumer (KIP-932); use a transport whose \
                     `kmidi transports` line says share groups, e.g. the franz-go plugin"
                ),
            }),
        }
    }
}

/// The settings that shape what the ear hears, by librdkafka's names and in its units,
/// that transports report (see [`Producer::settings`]) and `compare --equalize` sets.
pub const PRODUCER_SETTINGS: &[&str] = &["linger.ms", "acks", "enable.idempotence"];
/// As [`PRODUCER_SETTINGS`], for consumers.
pub const CONSUMER_SETTINGS: &[&str] = &[
    "fetch.wait.max.ms",
    "fetch.min.bytes",
    "group.protocol",
    "partition.assignment.strategy",
    "session.timeout.ms",
    "heartbeat.interval.ms",
];

/// Where a consumer starts when its group has no committed offset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OffsetReset {
    /// Only what is produced from now on, as the original kmidi instrument.
    #[default]
    Latest,
    Earliest,
}

impl OffsetReset {
    pub fn as_str(self) -> &'static str {
        match self {
            OffsetReset::Latest => "latest",
            OffsetReset::Earliest => "earliest",
        }
    }
}

/// What a consumer reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub topics: Vec<String>,
    pub group: String,
    pub offset_reset: OffsetReset,
}

/// A consumed record, owned so the caller can keep it past the next poll.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// Milliseconds since the Unix epoch, when the library exposes one.
    pub timestamp_ms: Option<i64>,
}

/// A record the library gave up on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryFailure {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    pub error: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProducerStats {
    /// Records handed to the library.
    pub sent: u64,
    /// Records the broker acknowledged.
    pub delivered: u64,
    /// Records that failed for good.
    pub failed: u64,
}

/// A topic to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
    /// Extra topic configs, e.g. `retention.ms=5000`.
    pub configs: Vec<(String, String)>,
}

/// A Kafka client library, as kmidi sees it.
pub trait Transport: Send + Sync {
    fn info(&self) -> TransportInfo;

    /// A producer for the cluster in `config` (`bootstrap.servers` and any `-X` property).
    fn producer(&self, config: &ClientConfig) -> Result<Box<dyn Producer>, TransportError>;

    fn consumer(
        &self,
        config: &ClientConfig,
        subscription: &Subscription,
    ) -> Result<Box<dyn Consumer>, TransportError>;

    /// Cluster administration; not every library has it.
    fn admin(&self, config: &ClientConfig) -> Result<Box<dyn Admin>, TransportError> {
        let _ = config;
        Err(TransportError::Unsupported {
            transport: self.info().name,
            what: "the admin API".to_string(),
        })
    }
}

/// Sends records without blocking the caller's timing.
pub trait Producer: Send {
    /// Queues one record. Returns once the library has it; delivery is reported later
    /// through [`Producer::take_failures`] and [`Producer::stats`].
    fn send(&mut self, topic: &str, key: &[u8], value: &[u8]) -> Result<(), TransportError>;

    /// Waits until every queued record is delivered or failed, at most `timeout`.
    fn flush(&mut self, timeout: Duration) -> Result<(), TransportError>;

    /// Failures since the last call; each is returned once.
    fn take_failures(&mut self) -> Vec<DeliveryFailure>;

    fn stats(&self) -> ProducerStats;

    /// Opens connections and loads what the first `send` to `topic` would otherwise
    /// wait for (metadata, a producer id), so the song's first notes are not late.
    fn warm_up(&mut self, topic: &str, timeout: Duration) -> Result<(), TransportError> {
        let _ = (topic, timeout);
        Ok(())
    }
    /// The effective settings among [`PRODUCER_SETTINGS`] the library has, as it applies
    /// them (defaults included), by librdkafka's names and units. Every key listed must
    /// be accepted as a config key. Empty (the default): not reported.
    fn settings(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// Reads records one at a time.
pub trait Consumer: Send {
    /// The next record, or `None` if none arrived within `timeout`.
    /// A [`TransportError::Transient`] error means "warn and poll again".
    fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, TransportError>;

    /// Commits what was consumed, as the library does it.
    fn commit(&mut self) -> Result<(), TransportError>;

    /// Partitions currently assigned, when the library knows (for reports).
    fn assignment(&self) -> Vec<(String, i32)> {
        Vec::new()
    }

    /// Whether [`Consumer::assignment`] says anything: false (the default) when the
    /// library cannot tell, so nobody waits for an assignment that will never show.
    fn reports_assignment(&self) -> bool {
        false
    }
    /// As [`Producer::settings`], among [`CONSUMER_SETTINGS`].
    fn settings(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// The few admin operations kmidi needs.
pub trait Admin: Send {
    fn create_topic(&self, spec: &TopicSpec, timeout: Duration) -> Result<(), TransportError>;

    /// Partition count of `topic`, `None` if the topic does not exist. Also the
    /// bounded-time reachability check the player and instrument run first.
    fn topic_partitions(
        &self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Option<i32>, TransportError>;

    /// Who leads each partition of `topic` and which brokers the cluster lists, from
    /// fresh metadata (a failover shows at the next call); a missing topic has no
    /// partitions. The default is "unknown" ([`Leadership::unknown`], with only the
    /// partition count), so every transport answers whether or not it can tell.
    fn partition_leaders(
        &self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Leadership, TransportError> {
        unknown_leaders(self, topic, timeout)
    }

    /// Creates `spec` with partition `i`'s replicas on the brokers `replicas[i]`, the
    /// preferred leader first (`spec.partitions` and `spec.replication_factor` are
    /// then only what the assignment adds up to). Unsupported by default: the caller
    /// may fall back to [`Admin::create_topic`] and the cluster's own placement.
    fn create_topic_assigned(
        &self,
        spec: &TopicSpec,
        replicas: &[Vec<i32>],
        timeout: Duration,
    ) -> Result<(), TransportError> {
        let _ = (spec, replicas, timeout);
        Err(TransportError::Unsupported {
            transport: "chosen".to_string(),
            what: "creating a topic with an explicit replica assignment".to_string(),
        })
    }

    /// Broker version as far as the protocol reveals it (for reports).
    fn describe_cluster(&self, timeout: Duration) -> Result<String, TransportError> {
        let _ = timeout;
        Ok("unknown".to_string())
    }
}

/// [`Admin::partition_leaders`]' default, for an implementation that answers it only
/// sometimes (a plugin without the entry): the partitions, leaders unknown.
pub fn unknown_leaders<A: Admin + ?Sized>(
    admin: &A,
    topic: &str,
    timeout: Duration,
) -> Result<Leadership, TransportError> {
    let partitions = admin.topic_partitions(topic, timeout)?.unwrap_or(0);
    Ok(Leadership::unknown(partitions))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(value: &str) -> ClientConfig {
        [(GROUP_TYPE_KEY, value)].into_iter().collect()
    }

    #[test]
    fn the_group_type_defaults_to_a_consumer_group() {
        assert_eq!(
            GroupType::of(&ClientConfig::new()).ok(),
            Some(GroupType::Consumer)
        );
        assert_eq!(
            GroupType::of(&with_type("share")).ok(),
            Some(GroupType::Share)
        );
        assert!(GroupType::of(&with_type("queue")).is_err());
    }

    #[test]
    fn a_share_group_is_refused_naming_the_library_and_an_alternative() {
        assert!(GroupType::require_consumer_group(&with_type("consumer"), "lib 1").is_ok());
        let err = GroupType::require_consumer_group(&with_type("share"), "librdkafka 2.12.1")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("librdkafka 2.12.1 has no share consumer (KIP-932)")
                && err.contains("franz-go"),
            "{err}"
        );
    }
}
