//! `kmidi member` (hidden): one member of a churned consumer group, started by
//! `compare --members/--churn` (see `kmidi_engine::churn`). It reads its job (the
//! transport, the client config, the topic and the group) from the first line of
//! stdin, consumes, and reports on stdout; the end of stdin makes it leave cleanly.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use anyhow::{Context, Result};
use kmidi_engine::churn::member::{self, MemberLine};
use kmidi_transport::{ClientConfig, OffsetReset, Subscription};
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

pub fn run(member_id: usize) -> Result<i32> {
    let mut stdin = BufReader::new(std::io::stdin());
    let mut first = String::new();
    stdin
        .read_line(&mut first)
        .context("reading the member's job from stdin")?;
    let mut out = std::io::stdout().lock();
    let fatal = |out: &mut std::io::StdoutLock, message: String| {
        let line = MemberLine::Fatal { message };
        if let Ok(text) = serde_json::to_string(&line) {
            use std::io::Write;
            let _ = writeln!(out, "{text}");
        }
        1
    };
    let job: Job = match serde_json::from_str(&first) {
        Ok(job) => job,
        Err(e) => return Ok(fatal(&mut out, format!("member {member_id}: bad job: {e}"))),
    };
    let transport = match kmidi_registry::resolve(&job.transport, &job.plugin_dirs) {
        Ok(t) => t,
        Err(e) => return Ok(fatal(&mut out, e.to_string())),
    };
    let mut config = ClientConfig::new();
    for (k, v) in &job.config {
        config.set(k, v);
    }
    let subscription = Subscription {
        topics: vec![job.topic.clone()],
        group: job.group.clone(),
        offset_reset: if job.earliest {
            OffsetReset::Earliest
        } else {
            OffsetReset::Latest
        },
    };
    let mut consumer = match transport.consumer(&config, &subscription) {
        Ok(c) => c,
        Err(e) => {
            let name = transport.info().name;
            return Ok(fatal(
                &mut out,
                format!("{name}: cannot consume from {}: {e}", job.topic),
            ));
        }
    };
    let quit = member::quit_on_stdin_eof(stdin);
    let failed = member::serve(consumer.as_mut(), &mut out, &quit);
    // Closing the consumer is what leaves the group: before the goodbye.
    drop(consumer);
    member::say_bye(&mut out);
    Ok(if failed.is_some() { 1 } else { 0 })
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
