//! From command-line options to a ready transport: client properties, and the
//! bounded-time check that the cluster answers and the topic exists, so a wrong
//! address or topic is an error in seconds instead of a silent hang.

use std::time::Duration;

use anyhow::{Context, Result};
use kmidi_transport::{ClientConfig, Transport, TransportError};

use crate::cli::KafkaArgs;

pub fn client_config(bootstrap: &str, props: &[String]) -> Result<ClientConfig> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    for arg in props {
        let (k, v) = ClientConfig::parse_pair(arg).context("in -X")?;
        config.set(k, v);
    }
    Ok(config)
}

pub fn timeout(args: &KafkaArgs) -> Result<Duration> {
    Duration::try_from_secs_f64(args.connect_timeout)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| {
            format!(
                "--connect-timeout {} is not a positive number of seconds",
                args.connect_timeout
            )
        })
}

/// Checks reachability and the topic; returns its partition count.
pub fn check_topic(
    transport: &dyn Transport,
    config: &ClientConfig,
    topic: &str,
    timeout: Duration,
) -> Result<i32> {
    let admin = transport.admin(config)?;
    match admin.topic_partitions(topic, timeout)? {
        Some(n) => Ok(n),
        None => Err(TransportError::TopicMissing {
            topic: topic.to_string(),
            bootstrap: config.bootstrap().to_string(),
        }
        .into()),
    }
}
