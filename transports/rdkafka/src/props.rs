//! Turning kmidi's client properties into librdkafka's, with kmidi's defaults.
//!
//! kmidi plays music: every note must leave at once, so `linger.ms` defaults to 0
//! (librdkafka's default of 5 ms would delay every note), and the producer is
//! idempotent so a broker restart neither loses nor repeats a note. A user's `-X`
//! always wins. `kmidi.*` keys are the host's, never librdkafka's: they are not passed
//! on. [`effective`] reads back what librdkafka applies, its defaults included.

use kmidi_transport::{ClientConfig, TransportError};
use rdkafka::config::RDKafkaLogLevel;

/// The prefix of the host's own keys (e.g. `kmidi.group.type`), unknown to librdkafka.
const HOST_KEY_PREFIX: &str = "kmidi.";

/// A topic-level librdkafka property and its default, see [`effective`].
const TOPIC_CONF_KEY: &str = "request.timeout.ms";
const TOPIC_CONF_DEFAULT: &str = "30000";

pub(crate) fn base(config: &ClientConfig) -> rdkafka::ClientConfig {
    let mut rd = rdkafka::ClientConfig::new();
    rd.set("bootstrap.servers", config.bootstrap());
    rd.set("client.id", "kmidi");
    // librdkafka backs off reconnecting for up to 10 s; after a broker restart that is
    // 10 s of silence in the middle of a song. Music wants the broker back at once.
    rd.set("reconnect.backoff.max.ms", "1000");
    for (k, v) in config
        .iter()
        .filter(|(k, _)| !k.starts_with(HOST_KEY_PREFIX))
    {
        rd.set(k, v);
    }
    // librdkafka's own `debug` contexts (`-X debug=cgrp,fetch`, as with kcat) log at
    // debug level: asking for them means wanting to read them.
    rd.set_log_level(if config.get("debug").is_some() {
        RDKafkaLogLevel::Debug
    } else {
        RDKafkaLogLevel::Warning
    });
    rd
}

pub(crate) fn producer(config: &ClientConfig) -> rdkafka::ClientConfig {
    let mut c = config.clone();
    if c.get("queue.buffering.max.ms").is_none() {
        c.set_default("linger.ms", "0");
    }
    c.set_default("enable.idempotence", "true");
    base(&c)
}

pub(crate) fn consumer(config: &ClientConfig) -> rdkafka::ClientConfig {
    base(config)
}

/// The value librdkafka applies for each of `keys` it has, as its `rd_kafka_conf_get`
/// prints it (defaults included: an unset key reads as its default), from the same
/// properties the client was created with. A key librdkafka does not know is left out.
pub(crate) fn effective(rd: &rdkafka::ClientConfig, keys: &[&str]) -> Vec<(String, String)> {
    // A topic-level key (`acks`) set on the global config lands in librdkafka's default
    // topic config, which exists only once some topic-level key was set; conf_get falls
    // back to it. Setting one topic-level key the user did not (to its own default)
    // makes it exist, so an unset `acks` reads as its default too. Only this copy,
    // used for reading, gets it.
    let mut rd = rd.clone();
    if rd.get(TOPIC_CONF_KEY).is_none() {
        rd.set(TOPIC_CONF_KEY, TOPIC_CONF_DEFAULT);
    }
    let Ok(native) = rd.create_native_config() else {
        return Vec::new();
    };
    keys.iter()
        .filter_map(|&k| native.get(k).ok().map(|v| (k.to_string(), v)))
        .collect()
}

/// librdkafka reports a bad property only when the client is created; say which
/// property and keep its explanation.
pub(crate) fn creation_error(err: rdkafka::error::KafkaError) -> TransportError {
    match err {
        rdkafka::error::KafkaError::ClientConfig(_, desc, key, value) => {
            let secret = kmidi_transport::config::is_secret_key(&key);
            let (shown, desc) = if secret && !value.is_empty() {
                // librdkafka's description may quote the value too.
                ("***".to_string(), desc.replace(&value, "***"))
            } else {
                (value, desc)
            };
            TransportError::Config {
                key,
                reason: format!("librdkafka refused the value {shown:?}: {desc}"),
            }
        }
        other => TransportError::Client(format!("cannot create the librdkafka client: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmidi_transport::{CONSUMER_SETTINGS, GROUP_TYPE_KEY, PRODUCER_SETTINGS};

    fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn host_keys_are_never_passed_to_librdkafka() {
        let c: ClientConfig = [(GROUP_TYPE_KEY, "consumer")].into_iter().collect();
        assert_eq!(consumer(&c).get(GROUP_TYPE_KEY), None);
        assert!(consumer(&c).create_native_config().is_ok());
    }

    #[test]
    fn effective_settings_include_kmidi_defaults_and_librdkafka_defaults() {
        let p = effective(&producer(&ClientConfig::new()), PRODUCER_SETTINGS);
        assert_eq!(value(&p, "linger.ms"), Some("0"), "{p:?}");
        assert_eq!(value(&p, "enable.idempotence"), Some("true"), "{p:?}");
        assert_eq!(value(&p, "acks"), Some("-1"), "{p:?}");
        let c = effective(&consumer(&ClientConfig::new()), CONSUMER_SETTINGS);
        for key in CONSUMER_SETTINGS {
            assert!(value(&c, key).is_some(), "{key}: {c:?}");
        }
        assert_eq!(value(&c, "group.protocol"), Some("classic"), "{c:?}");
    }

    #[test]
    fn effective_settings_show_the_users_values() {
        let user: ClientConfig = [("linger.ms", "20"), ("acks", "1")].into_iter().collect();
        let p = effective(&producer(&user), PRODUCER_SETTINGS);
        assert_eq!(value(&p, "linger.ms"), Some("20"), "{p:?}");
        assert_eq!(value(&p, "acks"), Some("1"), "{p:?}");
        let all: ClientConfig = [("acks", "all")].into_iter().collect();
        let p = effective(&producer(&all), PRODUCER_SETTINGS);
        assert_eq!(value(&p, "acks"), Some("-1"), "librdkafka's unit: {p:?}");
    }

    #[test]
    fn user_properties_override_kmidi_defaults() {
        let c: ClientConfig = [("linger.ms", "20")].into_iter().collect();
        assert_eq!(producer(&c).get("linger.ms"), Some("20"));
        assert_eq!(producer(&ClientConfig::new()).get("linger.ms"), Some("0"));
        assert_eq!(
            producer(&ClientConfig::new()).get("enable.idempotence"),
            Some("true")
        );
    }
}
