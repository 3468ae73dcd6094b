//! Turning kmidi's client properties into librdkafka's, with kmidi's defaults.
//!
//! kmidi plays music: every note must leave at once, so `linger.ms` defaults to 0
//! (librdkafka's default of 5 ms would delay every note), and the producer is
//! idempotent so a broker restart neither loses nor repeats a note. A user's `-X`
//! always wins.

use kmidi_transport::{ClientConfig, TransportError};
use rdkafka::config::RDKafkaLogLevel;

pub(crate) fn base(config: &ClientConfig) -> rdkafka::ClientConfig {
    let mut rd = rdkafka::ClientConfig::new();
    rd.set("bootstrap.servers", config.bootstrap());
    rd.set("client.id", "kmidi");
    // librdkafka backs off reconnecting for up to 10 s; after a broker restart that is
    // 10 s of silence in the middle of a song. Music wants the broker back at once.
    rd.set("reconnect.backoff.max.ms", "1000");
    for (k, v) in config.iter() {
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
