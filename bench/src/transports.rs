//! Transports by name, as `--transport` resolves them: the built-ins linked in, the
//! rest loaded as plugins from a path through kmidi's plugin loader.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use kmidi_transport::{ClientConfig, TopicSpec, Transport};

/// As `--transport` resolves it (no plugin directories: plugins are given as paths).
pub fn resolve(name: &str) -> Result<Box<dyn Transport>> {
    Ok(kmidi_registry::resolve(name, &[])?)
}

/// The name shown in tables: a plugin's file stem without `libkmidi_`.
pub fn label(name: &str) -> String {
    Path::new(name)
        .file_stem()
        .map(|s| {
            s.to_string_lossy()
                .trim_start_matches("libkmidi_")
                .replace('_', "-")
        })
        .unwrap_or_else(|| name.to_string())
}

pub fn config(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap);
    c
}

/// Creates a one-partition topic with the built-in rdkafka admin (kafka-rust has none).
pub fn create_topic(bootstrap: &str, topic: &str) -> Result<()> {
    let admin = kmidi_registry::fallback_admin(&config(bootstrap))?;
    let spec = TopicSpec {
        name: topic.to_string(),
        partitions: 1,
        replication_factor: 1,
        configs: vec![("retention.ms".to_string(), "600000".to_string())],
    };
    match admin.create_topic(&spec, Duration::from_secs(30)) {
        Ok(()) => Ok(()),
        Err(e) if e.to_string().to_lowercase().contains("exist") => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating topic {topic}")),
    }
}
