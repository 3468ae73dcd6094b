//! A group member's job: what the lab hands each `kmidi member` process on its stdin
//! (so secrets stay out of `ps`), and what the member reads back. Shared by the lab,
//! which writes it, and the `member` command, which reads it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use kmidi_transport::ClientConfig;
use serde::{Deserialize, Serialize};

/// What a member consumes, and how.
#[derive(Debug, Serialize, Deserialize)]
pub struct Job {
    pub transport: String,
    pub plugin_dirs: Vec<PathBuf>,
    /// The client properties, in order.
    pub config: Vec<(String, String)>,
    pub topic: String,
    pub group: String,
    /// Start from the earliest offset without a committed one (`--from earliest`).
    #[serde(default)]
    pub earliest: bool,
}

/// The job line for members of one side.
pub fn job_line(
    transport: &str,
    plugin_dirs: &[PathBuf],
    config: &ClientConfig,
    topic: &str,
    group: &str,
    earliest: bool,
) -> Result<String> {
    let job = Job {
        transport: transport.to_string(),
        plugin_dirs: plugin_dirs.to_vec(),
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        topic: topic.to_string(),
        group: group.to_string(),
        earliest,
    };
    serde_json::to_string(&job).context("encoding a group member's job")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_line_carries_the_whole_config_in_order() {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", "127.0.0.1:9");
        config.set("sasl.password", "secret");
        let line = job_line("rdkafka", &[], &config, "t", "g", false).unwrap();
        let job: Job = serde_json::from_str(&line).unwrap();
        assert_eq!(
            job.config[1],
            ("sasl.password".to_string(), "secret".to_string())
        );
        assert_eq!((job.topic.as_str(), job.group.as_str()), ("t", "g"));
    }
}
