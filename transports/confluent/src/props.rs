//! kmidi's client properties (librdkafka's names, as users pass them with `-X`) turned
//! into the Java client's, which confluent-kafka takes, with kmidi's defaults.
//!
//! A key the Java client defines passes as is (the library validates its value). The
//! librdkafka names users already write for the same thing are renamed (`fetch.wait.max.ms`
//! is `fetch.max.wait.ms`), SASL PLAIN credentials become the JAAS line the Java client
//! reads, and librdkafka's PEM file paths become its PEM stores. Any other key is refused,
//! naming it: kmidi compares client libraries, and a knob silently dropped on one side
//! would mislead the comparison (the rskafka and franz-go plugins are as strict).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use confluent_kafka::admin::AdminClientConfig;
use confluent_kafka::consumer::ConsumerConfig;
use confluent_kafka::producer::ProducerConfig;
use kmidi_transport::{ClientConfig, TransportError};

use crate::{config_error, security};

/// The prefix of the host's own keys (`kmidi.group.type`), never passed to the library.
const HOST_KEY_PREFIX: &str = "kmidi.";

/// librdkafka names renamed to the Java client's.
const RENAMED: &[(&str, &str)] = &[
    ("fetch.wait.max.ms", "fetch.max.wait.ms"),
    ("queue.buffering.max.ms", "linger.ms"),
    ("request.required.acks", "acks"),
    ("sasl.mechanisms", "sasl.mechanism"),
    ("ssl.ca.location", "ssl.truststore.location"),
    ("ssl.ca.pem", "ssl.truststore.certificates"),
    ("ssl.certificate.pem", "ssl.keystore.certificate.chain"),
    ("ssl.key.pem", "ssl.keystore.key"),
];

/// librdkafka keys read here and turned into something else (see [`translate`]).
const TRANSLATED: &[&str] = &[
    "sasl.username",
    "sasl.password",
    "ssl.certificate.location",
    "ssl.key.location",
    "enable.ssl.certificate.verification",
];

/// Which client the properties are for: each takes only the keys its Java class defines
/// (`-X` applies to every client, so a producer also receives consumer keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Producer,
    Consumer,
    Admin,
}

static PRODUCER_KEYS: LazyLock<HashSet<String>> = LazyLock::new(ProducerConfig::config_names);
static CONSUMER_KEYS: LazyLock<HashSet<String>> = LazyLock::new(ConsumerConfig::config_names);
static ADMIN_KEYS: LazyLock<HashSet<String>> = LazyLock::new(AdminClientConfig::config_names);

fn defined(role: Role, key: &str) -> bool {
    match role {
        Role::Producer => PRODUCER_KEYS.contains(key),
        Role::Consumer => CONSUMER_KEYS.contains(key),
        Role::Admin => ADMIN_KEYS.contains(key),
    }
}

fn defined_anywhere(key: &str) -> bool {
    [Role::Producer, Role::Consumer, Role::Admin]
        .into_iter()
        .any(|r| defined(r, key))
}

/// The Java client's properties for `role`, from kmidi's, without kmidi's defaults.
pub fn translate(
    config: &ClientConfig,
    role: Role,
) -> Result<HashMap<String, String>, TransportError> {
    let mut out = HashMap::new();
    for (key, value) in config.iter() {
        if key.starts_with(HOST_KEY_PREFIX) || TRANSLATED.contains(&key) {
            continue;
        }
        let java = RENAMED
            .iter()
            .find(|(rd, _)| *rd == key)
            .map_or(key, |(_, java)| java);
        if !defined_anywhere(java) {
            return Err(config_error(
                key,
                "confluent-kafka has no such setting: it takes the Java client's property \
                 names (e.g. linger.ms, fetch.max.wait.ms, ssl.truststore.location) and, of \
                 librdkafka's, fetch.wait.max.ms, queue.buffering.max.ms, sasl.mechanisms, \
                 sasl.username/sasl.password and the ssl.*.location/ssl.*.pem PEM keys",
            ));
        }
        let value = match (java, value.trim()) {
            // librdkafka says `none` where the Java client wants an empty value.
            ("ssl.endpoint.identification.algorithm", "none") => "",
            _ => value,
        };
        if defined(role, java) {
            out.insert(java.to_string(), value.to_string());
        }
    }
    if let Some(v) = config.get("enable.ssl.certificate.verification") {
        if !matches!(v.trim(), "true" | "1") {
            return Err(config_error(
                "enable.ssl.certificate.verification",
                "confluent-kafka always verifies the broker's certificate; trust its CA with \
                 ssl.ca.location (a PEM file) instead",
            ));
        }
    }
    security::credentials(config, &mut out)?;
    security::client_identity(config, &mut out)?;
    Ok(out)
}

/// Sets `key` unless the user set it (by its Java name or a librdkafka one renamed).
fn default(out: &mut HashMap<String, String>, key: &str, value: &str) {
    out.entry(key.to_string())
        .or_insert_with(|| value.to_string());
}

/// The producer's properties, with kmidi's defaults: every note leaves at once
/// (`linger.ms` 0 where the Java client waits 5 ms), and a send to a topic with no
/// metadata gives up after 10 s rather than Java's 60. Idempotence and `acks=all` are
/// already the Java client's defaults.
pub fn producer(config: &ClientConfig) -> Result<HashMap<String, String>, TransportError> {
    let mut out = translate(config, Role::Producer)?;
    default(&mut out, "bootstrap.servers", config.bootstrap());
    default(&mut out, "client.id", "kmidi");
    default(&mut out, "linger.ms", "0");
    default(&mut out, "max.block.ms", "10000");
    Ok(out)
}

/// Settings of the classic group protocol, which the broker decides under KIP-848.
const CLASSIC_ONLY: &[&str] = &[
    "partition.assignment.strategy",
    "session.timeout.ms",
    "heartbeat.interval.ms",
];

/// The consumer's properties: the KIP-848 group protocol (confluent-kafka has no
/// other), `group` as `group.id` (it wins over a `group.id` property), and `reset` as
/// `auto.offset.reset` unless the user set one (librdkafka's spellings accepted).
pub fn consumer(
    config: &ClientConfig,
    group: &str,
    reset: &str,
) -> Result<HashMap<String, String>, TransportError> {
    let mut out = translate(config, Role::Consumer)?;
    if let Some(p) = out.get("group.protocol") {
        if !p.trim().eq_ignore_ascii_case("consumer") {
            return Err(config_error(
                "group.protocol",
                format!(
                    "confluent-kafka {} has only the KIP-848 consumer group protocol, not \
                     {:?}: set group.protocol=consumer (or leave it unset), or use \
                     --transport rdkafka for the classic protocol",
                    crate::CRATE_VERSION,
                    p.trim()
                ),
            ));
        }
    }
    if let Some(key) = CLASSIC_ONLY.iter().find(|k| out.contains_key(**k)) {
        return Err(config_error(
            key,
            "a classic group protocol setting; under the KIP-848 consumer protocol, the \
             only one confluent-kafka has, the broker decides it (group.consumer.* on the \
             broker)",
        ));
    }
    if let Some(r) = out.get_mut("auto.offset.reset") {
        *r = match r.trim() {
            "smallest" | "beginning" => "earliest".to_string(),
            "largest" | "end" => "latest".to_string(),
            other => other.to_string(),
        };
    }
    default(&mut out, "bootstrap.servers", config.bootstrap());
    default(&mut out, "client.id", "kmidi");
    default(&mut out, "group.protocol", "consumer");
    default(&mut out, "auto.offset.reset", reset);
    if group.is_empty() {
        out.remove("group.id");
    } else {
        out.insert("group.id".to_string(), group.to_string());
    }
    Ok(out)
}

/// The admin client's properties.
pub fn admin(config: &ClientConfig) -> Result<HashMap<String, String>, TransportError> {
    let mut out = translate(config, Role::Admin)?;
    default(&mut out, "bootstrap.servers", config.bootstrap());
    default(&mut out, "client.id", "kmidi");
    Ok(out)
}

/// What the library applies for `key` of a parsed configuration (defaults included),
/// whatever the key's type, as librdkafka prints it (`acks` reads `-1` for `all`).
macro_rules! effective {
    ($config:expr, $key:expr) => {{
        let (c, k) = ($config, $key);
        if let Ok(Some(v)) = c.get_string(k) {
            Some(v.to_string())
        } else if let Ok(Some(v)) = c.get_long(k) {
            Some(v.to_string())
        } else if let Ok(Some(v)) = c.get_int(k) {
            Some(v.to_string())
        } else {
            c.get_boolean(k).ok().flatten().map(|v| v.to_string())
        }
    }};
}

/// The producer's effective settings among [`kmidi_transport::PRODUCER_SETTINGS`].
pub fn producer_settings(config: &ProducerConfig) -> Vec<(String, String)> {
    kmidi_transport::PRODUCER_SETTINGS
        .iter()
        .filter_map(|k| effective!(config, k).map(|v| (k.to_string(), v)))
        .collect()
}

/// The consumer's, by librdkafka's names: the classic protocol's settings are the
/// broker's under KIP-848, so they are not reported (as rdkafka does under it).
pub fn consumer_settings(config: &ConsumerConfig) -> Vec<(String, String)> {
    kmidi_transport::CONSUMER_SETTINGS
        .iter()
        .filter(|k| !CLASSIC_ONLY.contains(k))
        .filter_map(|&k| {
            let java = RENAMED
                .iter()
                .find(|(rd, _)| *rd == k)
                .map_or(k, |(_, j)| j);
            effective!(config, java).map(|v| (k.to_string(), v))
        })
        .collect()
}

/// The library's refusal of a configuration, naming the user's key it mentions (by the
/// name the user wrote) and with every secret value hidden.
pub fn refused(config: &ClientConfig, err: &confluent_kafka::common::Error) -> TransportError {
    let text = config.redact(&crate::describe(err));
    let named = config.iter().map(|(k, _)| k).find(|k| {
        let java = RENAMED
            .iter()
            .find(|(rd, _)| rd == k)
            .map_or(*k, |(_, j)| j);
        text.contains(java)
    });
    match named {
        Some(key) => config_error(key, format!("confluent-kafka refused it: {text}")),
        None => {
            TransportError::Client(format!("confluent-kafka refused the configuration: {text}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> ClientConfig {
        pairs.iter().copied().collect()
    }

    #[test]
    fn librdkafka_names_are_renamed_and_kmidi_defaults_never_override_the_user() {
        let p = producer(&cfg(&[
            ("queue.buffering.max.ms", "7"),
            ("fetch.wait.max.ms", "9"),
        ]))
        .unwrap();
        assert_eq!(p.get("linger.ms").map(String::as_str), Some("7"));
        // A consumer key is not the producer's: left out, as the Java client would.
        assert!(!p.contains_key("fetch.max.wait.ms"));
        assert_eq!(producer(&ClientConfig::new()).unwrap()["linger.ms"], "0");
        let c = consumer(&cfg(&[("fetch.wait.max.ms", "9")]), "g", "latest").unwrap();
        assert_eq!(c["fetch.max.wait.ms"], "9");
        assert_eq!(c["group.protocol"], "consumer");
        assert_eq!(
            (c["group.id"].as_str(), c["auto.offset.reset"].as_str()),
            ("g", "latest")
        );
    }

    #[test]
    fn unknown_keys_are_refused_by_name_and_host_keys_never_passed() {
        let err = producer(&cfg(&[("socket.keepalive.enable", "true")])).unwrap_err();
        assert!(
            err.to_string().contains("\"socket.keepalive.enable\""),
            "{err}"
        );
        let c = consumer(&cfg(&[("kmidi.group.type", "consumer")]), "g", "latest").unwrap();
        assert!(!c.keys().any(|k| k.starts_with("kmidi.")));
    }

    #[test]
    fn the_classic_protocol_and_its_settings_are_refused_naming_the_fix() {
        let err = consumer(&cfg(&[("group.protocol", "classic")]), "g", "latest")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("group.protocol=consumer") && err.contains("rdkafka"),
            "{err}"
        );
        let err = consumer(&cfg(&[("session.timeout.ms", "6000")]), "g", "latest").unwrap_err();
        assert!(err.to_string().contains("session.timeout.ms"), "{err}");
    }

    #[test]
    fn librdkafkas_security_keys_are_renamed() {
        let p = producer(&cfg(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanisms", "PLAIN"),
            ("sasl.username", "alice"),
            ("sasl.password", "secret"),
            ("ssl.ca.location", "/tmp/ca.pem"),
            ("ssl.endpoint.identification.algorithm", "none"),
        ]))
        .unwrap();
        assert_eq!(p["sasl.mechanism"], "PLAIN");
        assert!(p["sasl.jaas.config"].contains("PlainLoginModule required"));
        assert_eq!(p["ssl.truststore.location"], "/tmp/ca.pem");
        assert_eq!(p["ssl.endpoint.identification.algorithm"], "");
    }

    #[test]
    fn disabling_certificate_verification_is_refused() {
        let err = admin(&cfg(&[("enable.ssl.certificate.verification", "false")])).unwrap_err();
        assert!(err.to_string().contains("always verifies"), "{err}");
    }
}
