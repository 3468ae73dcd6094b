//! `kmidi member` (hidden): one member of a churned consumer group, started by
//! `compare --members/--churn` (see `kmidi_engine::churn`). It reads its job (the
//! transport, the client config, the topic and the group) from the first line of
//! stdin, consumes, and reports on stdout; the end of stdin makes it leave cleanly.

use std::io::{BufRead, BufReader};

use anyhow::{Context, Result};
use kmidi_engine::churn::member::{self, MemberLine};
use kmidi_transport::{ClientConfig, OffsetReset, Subscription};

use crate::lab::job::Job;

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
