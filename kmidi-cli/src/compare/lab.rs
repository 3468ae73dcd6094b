//! The rebalance lab in `compare`: each side listens through a group of member
//! processes (`kmidi member`) churned by the same script at the same score times,
//! and its churn events are measured against the notes that side heard.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use kmidi_engine::churn::{self, GroupLog, GroupPlan, MemberCommand};
use kmidi_engine::listen::ListenReport;
use kmidi_engine::measure::unix_us;
use kmidi_midi::score::Score;
use kmidi_transport::ClientConfig;

use crate::cli::{CompareArgs, GroupArgs};
use crate::member;
use crate::report::Rebalance;

/// The group a side listens through, or `None` for a single consumer in-process.
pub fn plan(
    args: &CompareArgs,
    spec: &str,
    consumer_config: &ClientConfig,
    topic: &str,
    group: &str,
) -> Result<Option<GroupPlan>> {
    let g: &GroupArgs = &args.group;
    if !g.lab() {
        return Ok(None);
    }
    let program = std::env::current_exe().context("finding the kmidi binary for group members")?;
    let job = member::job_line(
        spec,
        &args.plugins.plugin_dirs,
        consumer_config,
        topic,
        group,
    )?;
    Ok(Some(GroupPlan {
        members: g.members(),
        script: g.churn.clone().unwrap_or_default(),
        speed: args.speed.ratio(),
        partitions: g.partitions(),
        command: MemberCommand {
            program,
            args: vec!["member".into()],
            job,
        },
    }))
}

/// Where the score puts each note after speed, µs from the song's start.
pub fn scheduled_us(score: &Score, speed: f64) -> Vec<u64> {
    score
        .events
        .iter()
        .map(|e| (e.at.as_secs_f64() * speed * 1e6) as u64)
        .collect()
}

/// The side's rebalance figures, once it has listened.
pub fn figures(
    args: &GroupArgs,
    log: &Arc<Mutex<GroupLog>>,
    listened: &ListenReport,
    score: &Score,
    speed: f64,
) -> Rebalance {
    let group = log.lock().map(|l| l.clone()).unwrap_or_default();
    let events = churn::event_figures(
        &group,
        &listened.meter.samples,
        &scheduled_us(score, speed),
        unix_us(),
    );
    Rebalance {
        members: args.members(),
        partitions: args.partitions(),
        key_by: args.key_by(),
        churn: group.script.clone(),
        events,
        group,
    }
}
