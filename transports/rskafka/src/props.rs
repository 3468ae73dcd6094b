//! kmidi's librdkafka-style `-X` properties, mapped onto what rskafka can do.
//!
//! rskafka is configured through a builder, not a property map, so every key kmidi
//! accepts is listed here and anything else is refused with [`TransportError::Config`]
//! naming the key: a typo or a librdkafka-only tuning knob must not be silently ignored
//! when the point of kmidi is to compare client libraries. Values of secret keys are
//! never put into an error.

use std::time::Duration;

use kmidi_transport::{ClientConfig, GroupType, OffsetReset, TransportError, GROUP_TYPE_KEY};
use rskafka::client::partition::Compression;

use crate::security::{self, bad, Security};

/// Every key this transport understands, for the error on an unknown one.
pub const SUPPORTED_KEYS: &[&str] = &[
    "bootstrap.servers",
    "client.id",
    "socket.connection.setup.timeout.ms",
    "message.timeout.ms",
    "retry.backoff.ms",
    "retry.backoff.max.ms",
    "fetch.wait.max.ms",
    "fetch.min.bytes",
    "fetch.max.bytes",
    "auto.offset.reset",
    "group.id",
    "compression.type",
    "compression.codec",
    "linger.ms",
    "queue.buffering.max.ms",
    "queue.buffering.max.messages",
    "batch.num.messages",
    "acks",
    "request.required.acks",
    "enable.idempotence",
    "security.protocol",
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.username",
    "sasl.password",
    "kmidi.group.type",
];

/// The client settings after parsing and checking every property.
#[derive(Clone, Debug)]
pub struct Settings {
    pub bootstrap: String,
    pub brokers: Vec<String>,
    pub client_id: String,
    /// Bound on building the client (bootstrap metadata) in a constructor.
    pub connect_timeout: Duration,
    /// rskafka's retry deadline per request: without one it retries for ever.
    pub request_deadline: Duration,
    pub backoff_init: Duration,
    pub backoff_max: Duration,
    /// Broker-side long-poll bound of one fetch; short, see `consumer`.
    pub fetch_wait_ms: i32,
    /// The least a fetch answers with (the start of rskafka's byte range); 1: at once.
    pub fetch_min_bytes: i32,
    pub fetch_max_bytes: i32,
    pub offset_reset: Option<OffsetReset>,
    pub compression: Compression,
    /// Records queued in the producer and not yet acknowledged, at most.
    pub max_pending: u64,
    /// Records in one produce request, at most.
    pub batch_max: usize,
    pub security: Security,
}

impl Settings {
    pub fn parse(config: &ClientConfig) -> Result<Self, TransportError> {
        let mut s = Settings {
            bootstrap: config.bootstrap().to_string(),
            brokers: Vec::new(),
            client_id: "kmidi".to_string(),
            connect_timeout: Duration::from_secs(10),
            request_deadline: Duration::from_secs(30),
            backoff_init: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            fetch_wait_ms: 10,
            fetch_min_bytes: 1,
            fetch_max_bytes: 1024 * 1024,
            offset_reset: None,
            compression: Compression::NoCompression,
            max_pending: 100_000,
            batch_max: 1000,
            security: Security::default(),
        };
        s.brokers = s
            .bootstrap
            .split(',')
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_string)
            .collect();
        if s.brokers.is_empty() {
            return Err(bad("bootstrap.servers", "no broker address given"));
        }
        let mut sec = security::Builder::default();
        for (key, value) in config.iter() {
            match key {
                "bootstrap.servers" => {}
                "client.id" => s.client_id = value.to_string(),
                "socket.connection.setup.timeout.ms" => s.connect_timeout = millis(key, value)?,
                "message.timeout.ms" => s.request_deadline = millis(key, value)?,
                "retry.backoff.ms" => s.backoff_init = millis(key, value)?,
                "retry.backoff.max.ms" => s.backoff_max = millis(key, value)?,
                "fetch.wait.max.ms" => s.fetch_wait_ms = number(key, value, 0, 60_000)?,
                "fetch.min.bytes" => s.fetch_min_bytes = number(key, value, 1, 1 << 30)?,
                "fetch.max.bytes" => s.fetch_max_bytes = number(key, value, 1, 1 << 30)?,
                // The host's key: checked (share groups are refused) when a consumer is
                // made; a producer or admin client has no group to ask about.
                GROUP_TYPE_KEY => {
                    GroupType::of(config)?;
                }
                "auto.offset.reset" => s.offset_reset = Some(offset_reset(value)?),
                // Accepted so a command line written for rdkafka still runs; rskafka has
                // no consumer groups, so the name changes nothing (see the crate docs).
                "group.id" => {}
                "compression.type" | "compression.codec" => {
                    s.compression = compression(key, value)?
                }
                // rskafka has no linger timer: a partition's batch is whatever queued
                // while its previous request was in flight, i.e. always linger 0.
                "linger.ms" | "queue.buffering.max.ms" => {
                    if number(key, value, 0, i32::MAX)? != 0 {
                        return Err(bad(key, "rskafka never lingers (batches form while a request is in flight); only 0 is possible"));
                    }
                }
                "queue.buffering.max.messages" => {
                    s.max_pending = u64::from(number::<u32>(key, value, 1, u32::MAX)?)
                }
                "batch.num.messages" => s.batch_max = number(key, value, 1, 1_000_000)?,
                "acks" | "request.required.acks" => {
                    if !matches!(value, "all" | "-1") {
                        return Err(bad(key, "rskafka always produces with acks=all (-1)"));
                    }
                }
                "enable.idempotence" => {
                    if value != "false" {
                        return Err(bad(
                            key,
                            "rskafka has no idempotent producer; only false is possible",
                        ));
                    }
                }
                "security.protocol"
                | "ssl.ca.location"
                | "ssl.certificate.location"
                | "ssl.key.location"
                | "sasl.mechanism"
                | "sasl.mechanisms"
                | "sasl.username"
                | "sasl.password" => sec.set(key, value)?,
                other => {
                    return Err(bad(
                        other,
                        &format!(
                            "not supported by the rskafka transport; it understands: {}",
                            SUPPORTED_KEYS.join(", ")
                        ),
                    ))
                }
            }
        }
        if s.fetch_min_bytes >= s.fetch_max_bytes {
            return Err(bad(
                "fetch.min.bytes",
                &format!(
                    "must be less than fetch.max.bytes ({}), got {}",
                    s.fetch_max_bytes, s.fetch_min_bytes
                ),
            ));
        }
        if s.backoff_max < s.backoff_init {
            s.backoff_max = s.backoff_init;
        }
        s.security = sec.build()?;
        Ok(s)
    }

    /// What a producer applies, by librdkafka's names and units: rskafka never lingers,
    /// always produces with acks=all, and has no idempotent producer.
    pub fn producer_settings(&self) -> Vec<(String, String)> {
        [
            ("linger.ms", "0"),
            ("acks", "-1"),
            ("enable.idempotence", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// What a consumer applies: the fetch wait and minimum (no groups, so no group
    /// settings).
    pub fn consumer_settings(&self) -> Vec<(String, String)> {
        vec![
            (
                "fetch.wait.max.ms".to_string(),
                self.fetch_wait_ms.to_string(),
            ),
            (
                "fetch.min.bytes".to_string(),
                self.fetch_min_bytes.to_string(),
            ),
        ]
    }

    /// rskafka's retry policy: bounded, so a dead broker becomes an error instead of
    /// a request retried for ever (rskafka's default has no deadline).
    pub fn backoff(&self, deadline: Duration) -> rskafka::BackoffConfig {
        rskafka::BackoffConfig {
            init_backoff: self.backoff_init,
            max_backoff: self.backoff_max,
            base: 2.0,
            deadline: Some(deadline),
        }
    }
}

fn number<T>(key: &str, value: &str, min: T, max: T) -> Result<T, TransportError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match value.trim().parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(bad(
            key,
            &format!("expected a whole number from {min} to {max}, got {value:?}"),
        )),
    }
}

fn millis(key: &str, value: &str) -> Result<Duration, TransportError> {
    Ok(Duration::from_millis(number(key, value, 1u64, 86_400_000)?))
}

fn offset_reset(value: &str) -> Result<OffsetReset, TransportError> {
    match value {
        "earliest" | "smallest" | "beginning" => Ok(OffsetReset::Earliest),
        "latest" | "largest" | "end" => Ok(OffsetReset::Latest),
        _ => Err(bad(
            "auto.offset.reset",
            &format!("expected earliest or latest, got {value:?}"),
        )),
    }
}

fn compression(key: &str, value: &str) -> Result<Compression, TransportError> {
    match value {
        "none" => Ok(Compression::NoCompression),
        "gzip" => Ok(Compression::Gzip),
        "snappy" => Ok(Compression::Snappy),
        "lz4" => Ok(Compression::Lz4),
        "zstd" => Ok(Compression::Zstd),
        _ => Err(bad(
            key,
            &format!("expected none, gzip, snappy, lz4 or zstd, got {value:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Settings, TransportError> {
        Settings::parse(&pairs.iter().copied().collect())
    }

    #[test]
    fn defaults_are_short_and_bounded() {
        let s = parse(&[("bootstrap.servers", "a:1, b:2")]).unwrap();
        assert_eq!(s.brokers, vec!["a:1", "b:2"]);
        assert_eq!(s.fetch_wait_ms, 10);
        assert!(s.backoff(s.request_deadline).deadline.is_some());
    }

    #[test]
    fn known_properties_are_mapped() {
        let s = parse(&[
            ("fetch.wait.max.ms", "3"),
            ("client.id", "me"),
            ("auto.offset.reset", "earliest"),
            ("linger.ms", "0"),
            ("acks", "all"),
            ("compression.type", "lz4"),
        ])
        .unwrap();
        assert_eq!((s.fetch_wait_ms, s.client_id.as_str()), (3, "me"));
        assert_eq!(s.offset_reset, Some(OffsetReset::Earliest));
        assert_eq!(s.compression, Compression::Lz4);
    }

    #[test]
    fn settings_report_what_rskafka_applies_in_librdkafka_units() {
        let s = parse(&[("fetch.wait.max.ms", "3"), ("fetch.min.bytes", "64")]).unwrap();
        let value = |pairs: Vec<(String, String)>, key: &str| {
            pairs.into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
        };
        assert_eq!(value(s.producer_settings(), "acks").as_deref(), Some("-1"));
        assert_eq!(
            value(s.producer_settings(), "linger.ms").as_deref(),
            Some("0")
        );
        assert_eq!(
            value(s.consumer_settings(), "fetch.wait.max.ms").as_deref(),
            Some("3")
        );
        assert_eq!(
            value(s.consumer_settings(), "fetch.min.bytes").as_deref(),
            Some("64")
        );
        assert!(parse(&[("fetch.min.bytes", "2000000")]).is_err());
    }

    #[test]
    fn the_group_type_key_is_accepted_and_checked() {
        assert!(
            parse(&[(GROUP_TYPE_KEY, "share")]).is_ok(),
            "refused by the consumer"
        );
        assert!(parse(&[(GROUP_TYPE_KEY, "queue")]).is_err());
    }

    #[test]
    fn unknown_or_impossible_properties_are_refused_by_name() {
        for (k, v) in [
            ("session.timeout.ms", "6000"),
            ("linger.ms", "5"),
            ("enable.idempotence", "true"),
            ("acks", "1"),
            ("fetch.wait.max.ms", "soon"),
        ] {
            match parse(&[(k, v)]) {
                Err(TransportError::Config { key, .. }) => assert_eq!(key, k),
                other => panic!("{k}={v}: {other:?}"),
            }
        }
    }
}
