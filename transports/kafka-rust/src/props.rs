//! Turning kmidi's librdkafka-style client properties into kafka-rust settings.
//!
//! Only the properties kafka-rust can honour are accepted; anything else is refused
//! with a [`TransportError::Config`] naming the key, because silently ignoring e.g.
//! `sasl.*` would connect without authentication and fail much later and obscurely.
//! kmidi's defaults (a fetch answered as soon as one byte is there, a 10 ms wait) are
//! set here and a user's `-X` always wins.

use std::time::Duration;

use kafka::client::RequiredAcks;
use kmidi_transport::{ClientConfig, GroupType, OffsetReset, TransportError, GROUP_TYPE_KEY};

/// Properties accepted, listed in refusals so the user sees what is possible.
pub(crate) const SUPPORTED: &[&str] = &[
    "bootstrap.servers",
    "client.id",
    "fetch.min.bytes",
    "fetch.wait.max.ms",
    "max.partition.fetch.bytes",
    "auto.offset.reset",
    "request.required.acks (acks)",
    "request.timeout.ms",
    "message.timeout.ms (delivery.timeout.ms)",
    "socket.connection.setup.timeout.ms",
    "security.protocol=plaintext|ssl",
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "enable.ssl.certificate.verification",
    "ssl.endpoint.identification.algorithm",
    "kmidi.group.type=consumer",
];

/// TLS settings; the connector is built from them per client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tls {
    pub ca_location: Option<String>,
    pub certificate_location: Option<String>,
    pub key_location: Option<String>,
    pub verify_certificate: bool,
    pub verify_hostname: bool,
}

/// Everything a kafka-rust client needs, parsed and checked once.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub bootstrap: String,
    pub hosts: Vec<String>,
    pub client_id: String,
    /// kafka-rust's default of 4096 bytes would hold every note back until 4 KiB
    /// pile up or the wait expires; kmidi wants each note at once.
    pub fetch_min_bytes: i32,
    /// kafka-rust's default of 100 ms would add up to 100 ms to an idle note.
    pub fetch_max_wait: Duration,
    pub max_partition_fetch_bytes: i32,
    pub offset_reset: Option<OffsetReset>,
    pub acks: RequiredAcks,
    /// How long the broker may take to acknowledge a produce request.
    pub request_timeout: Duration,
    /// How long a record may stay undelivered (retries included) before it fails.
    pub message_timeout: Duration,
    /// Bound on connecting to and probing a broker.
    pub connect_timeout: Duration,
    pub tls: Option<Tls>,
}

fn refuse(key: &str, reason: impl Into<String>) -> TransportError {
    TransportError::Config {
        key: key.to_string(),
        reason: reason.into(),
    }
}

fn number<T>(key: &str, value: &str, min: T) -> Result<T, TransportError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match value.trim().parse::<T>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(refuse(
            key,
            format!("expected a whole number ≥ {min}, got {value:?}"),
        )),
    }
}

fn millis(key: &str, value: &str, min: u64) -> Result<Duration, TransportError> {
    number::<u64>(key, value, min).map(Duration::from_millis)
}

fn boolean(key: &str, value: &str) -> Result<bool, TransportError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(refuse(
            key,
            format!("expected true or false, got {value:?}"),
        )),
    }
}

impl Settings {
    /// What a producer applies, by librdkafka's names and units, for the knobs
    /// kafka-rust has: only `acks` (it never lingers, but `linger.ms` is not a key it
    /// accepts, and it has no idempotence).
    pub fn producer_settings(&self) -> Vec<(String, String)> {
        let acks = match self.acks {
            RequiredAcks::None => "0",
            RequiredAcks::One => "1",
            RequiredAcks::All => "-1",
        };
        vec![("acks".to_string(), acks.to_string())]
    }

    /// What a consumer applies: the fetch wait and minimum (kafka-rust has no group
    /// membership, so no group settings).
    pub fn consumer_settings(&self) -> Vec<(String, String)> {
        vec![
            (
                "fetch.wait.max.ms".to_string(),
                self.fetch_max_wait.as_millis().to_string(),
            ),
            (
                "fetch.min.bytes".to_string(),
                self.fetch_min_bytes.to_string(),
            ),
        ]
    }
}

/// Why a well-known but unsupported property is refused, with what to do instead.
fn unsupported_hint(key: &str) -> String {
    let k = key.to_ascii_lowercase();
    let what = if k.starts_with("sasl.") || k == "security.protocol" {
        "kafka-rust has no SASL support; use --transport rdkafka"
    } else if k.starts_with("group.")
        || k.contains("session.timeout")
        || k.contains("partition.assignment")
    {
        "kafka-rust has no consumer-group membership (its group only stores offsets; -g names it); use --transport rdkafka for groups"
    } else if k == "enable.idempotence" || k.starts_with("transaction") {
        "kafka-rust speaks only Produce v0: no idempotence or transactions; use --transport rdkafka"
    } else if k.starts_with("compression") {
        "kmidi's kafka-rust transport sends uncompressed records"
    } else if k == "linger.ms" || k == "queue.buffering.max.ms" || k.starts_with("batch.") {
        "kafka-rust sends each record as soon as its producer thread takes it; there is nothing to linger"
    } else {
        "kafka-rust does not support it"
    };
    format!("{what} (kafka-rust accepts: {})", SUPPORTED.join(", "))
}

/// Parses and checks every property; the first unsupported one is refused.
pub(crate) fn parse(config: &ClientConfig) -> Result<Settings, TransportError> {
    let bootstrap = config.bootstrap().to_string();
    let hosts: Vec<String> = bootstrap
        .split(',')
        .map(|h| {
            h.trim()
                .trim_start_matches("PLAINTEXT://")
                .trim_start_matches("SSL://")
        })
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .collect();
    if hosts.is_empty() || hosts.iter().any(|h| !h.contains(':')) {
        return Err(refuse(
            "bootstrap.servers",
            format!("expected HOST:PORT[,HOST:PORT...], got {bootstrap:?}"),
        ));
    }
    let mut s = Settings {
        bootstrap,
        hosts,
        client_id: "kmidi".to_string(),
        fetch_min_bytes: 1,
        fetch_max_wait: Duration::from_millis(10),
        max_partition_fetch_bytes: 1024 * 1024,
        offset_reset: None,
        acks: RequiredAcks::All,
        request_timeout: Duration::from_secs(30),
        message_timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(5),
        tls: None,
    };
    let mut tls = Tls {
        verify_certificate: true,
        verify_hostname: true,
        ..Tls::default()
    };
    let mut tls_wanted = false;
    for (key, value) in config.iter() {
        match key {
            "bootstrap.servers" | "metadata.broker.list" => {}
            "client.id" => s.client_id = value.to_string(),
            "fetch.min.bytes" => s.fetch_min_bytes = number::<i32>(key, value, 1)?,
            "fetch.wait.max.ms" => s.fetch_max_wait = millis(key, value, 0)?,
            "max.partition.fetch.bytes" => {
                s.max_partition_fetch_bytes = number::<i32>(key, value, 1024)?
            }
            "auto.offset.reset" => {
                s.offset_reset = Some(match value.trim() {
                    "earliest" | "smallest" | "beginning" => OffsetReset::Earliest,
                    "latest" | "largest" | "end" => OffsetReset::Latest,
                    _ => return Err(refuse(key, "expected earliest or latest")),
                })
            }
            "request.required.acks" | "acks" => {
                s.acks = match value.trim() {
                    "0" => RequiredAcks::None,
                    "1" => RequiredAcks::One,
                    "-1" | "all" => RequiredAcks::All,
                    _ => return Err(refuse(key, "expected 0, 1, -1 or all")),
                }
            }
            "request.timeout.ms" => s.request_timeout = millis(key, value, 1)?,
            "message.timeout.ms" | "delivery.timeout.ms" => {
                s.message_timeout = millis(key, value, 1)?
            }
            "socket.connection.setup.timeout.ms" => s.connect_timeout = millis(key, value, 1)?,
            "security.protocol" => match value.trim().to_ascii_lowercase().as_str() {
                "plaintext" => tls_wanted = false,
                "ssl" => tls_wanted = true,
                _ => return Err(refuse(key, unsupported_hint(key))),
            },
            "ssl.ca.location" => tls.ca_location = Some(value.to_string()),
            "ssl.certificate.location" => tls.certificate_location = Some(value.to_string()),
            "ssl.key.location" => tls.key_location = Some(value.to_string()),
            "enable.ssl.certificate.verification" => tls.verify_certificate = boolean(key, value)?,
            "ssl.endpoint.identification.algorithm" => {
                tls.verify_hostname = match value.trim().to_ascii_lowercase().as_str() {
                    "https" => true,
                    "none" | "" => false,
                    _ => return Err(refuse(key, "expected https or none")),
                }
            }
            // The host's key: checked (share groups are refused) when a consumer is made.
            GROUP_TYPE_KEY => {
                GroupType::of(config)?;
            }
            other => return Err(refuse(other, unsupported_hint(other))),
        }
    }
    let tls_given = tls.ca_location.is_some()
        || tls.certificate_location.is_some()
        || tls.key_location.is_some();
    if tls_given && !tls_wanted {
        return Err(refuse(
            "security.protocol",
            "ssl.* properties are set but security.protocol is not ssl; add -X security.protocol=ssl",
        ));
    }
    if tls.certificate_location.is_some() != tls.key_location.is_some() {
        return Err(refuse(
            "ssl.key.location",
            "a client certificate needs both ssl.certificate.location and ssl.key.location",
        ));
    }
    if tls_wanted {
        s.tls = Some(tls);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> ClientConfig {
        let mut c: ClientConfig = pairs.iter().copied().collect();
        c.set_default("bootstrap.servers", "127.0.0.1:9092");
        c
    }

    #[test]
    fn defaults_favour_latency_over_batching() {
        let s = parse(&cfg(&[])).unwrap();
        assert_eq!(s.fetch_min_bytes, 1);
        assert_eq!(s.fetch_max_wait, Duration::from_millis(10));
        assert_eq!(s.hosts, vec!["127.0.0.1:9092".to_string()]);
        assert!(s.tls.is_none());
    }

    #[test]
    fn librdkafka_names_set_the_fetch_knobs() {
        let s = parse(&cfg(&[
            ("fetch.min.bytes", "4096"),
            ("fetch.wait.max.ms", "100"),
        ]))
        .unwrap();
        assert_eq!(s.fetch_min_bytes, 4096);
        assert_eq!(s.fetch_max_wait, Duration::from_millis(100));
        let s = parse(&cfg(&[("acks", "1"), ("message.timeout.ms", "2500")])).unwrap();
        assert!(matches!(s.acks, RequiredAcks::One));
        assert_eq!(s.message_timeout, Duration::from_millis(2500));
    }

    #[test]
    fn sasl_is_refused_naming_the_key_and_the_alternative() {
        let err = parse(&cfg(&[("sasl.mechanism", "PLAIN")])).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, TransportError::Config { ref key, .. } if key == "sasl.mechanism"));
        assert!(
            text.contains("kafka-rust has no SASL support; use --transport rdkafka"),
            "{text}"
        );
        let err = parse(&cfg(&[("security.protocol", "SASL_SSL")])).unwrap_err();
        assert!(err.to_string().contains("no SASL support"), "{err}");
    }

    #[test]
    fn unknown_properties_are_refused_listing_what_is_supported() {
        let text = parse(&cfg(&[("linger.ms", "0")])).unwrap_err().to_string();
        assert!(
            text.contains("\"linger.ms\"") && text.contains("fetch.wait.max.ms"),
            "{text}"
        );
        let text = parse(&cfg(&[("no.such.thing", "1")]))
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("no.such.thing") && text.contains("kafka-rust accepts"),
            "{text}"
        );
    }

    #[test]
    fn bad_values_are_refused_not_unwrapped() {
        assert!(parse(&cfg(&[("fetch.min.bytes", "lots")])).is_err());
        assert!(parse(&cfg(&[("fetch.wait.max.ms", "-1")])).is_err());
        assert!(parse(&cfg(&[("acks", "2")])).is_err());
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", "no-port");
        assert!(parse(&c).is_err());
    }

    #[test]
    fn settings_report_kmidis_defaults_or_the_users_values_in_librdkafka_units() {
        let s = parse(&cfg(&[])).unwrap();
        assert_eq!(
            s.producer_settings(),
            [("acks".to_string(), "-1".to_string())]
        );
        let s = parse(&cfg(&[("acks", "1"), ("fetch.wait.max.ms", "25")])).unwrap();
        assert_eq!(
            s.producer_settings(),
            [("acks".to_string(), "1".to_string())]
        );
        assert_eq!(
            s.consumer_settings(),
            [
                ("fetch.wait.max.ms".to_string(), "25".to_string()),
                ("fetch.min.bytes".to_string(), "1".to_string()),
            ]
        );
    }

    #[test]
    fn the_group_type_key_is_accepted_and_checked() {
        assert!(parse(&cfg(&[(GROUP_TYPE_KEY, "consumer")])).is_ok());
        assert!(parse(&cfg(&[(GROUP_TYPE_KEY, "queue")])).is_err());
    }

    #[test]
    fn tls_needs_security_protocol_ssl() {
        assert!(parse(&cfg(&[("ssl.ca.location", "/ca.pem")])).is_err());
        let s = parse(&cfg(&[
            ("security.protocol", "SSL"),
            ("ssl.ca.location", "/ca.pem"),
        ]))
        .unwrap();
        let tls = s.tls.unwrap();
        assert_eq!(tls.ca_location.as_deref(), Some("/ca.pem"));
        assert!(tls.verify_certificate && tls.verify_hostname);
    }
}
