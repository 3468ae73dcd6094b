//! The rebalance lab, for `compare` (each side) and `instrument` (one group): the
//! group of member processes (`kmidi member`) a side listens through, churned by a
//! script at score times, and its churn events measured against the notes it heard.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use kmidi_engine::churn::{self, ChurnScript, GroupConsumer, GroupLog, GroupPlan, MemberCommand};
use kmidi_engine::listen::ListenReport;
use kmidi_engine::measure::{unix_us, Sample};
use kmidi_engine::perform::KeyBy;
use kmidi_midi::score::Score;
use kmidi_transport::{ClientConfig, TransportInfo};

use crate::report::Rebalance;

pub mod job;

/// How long a churned group of member processes gets to start and settle.
pub const GROUP_WAIT: std::time::Duration = std::time::Duration::from_secs(45);

/// What a group of members consumes, and how it is churned.
pub struct Lab<'a> {
    pub members: usize,
    pub script: ChurnScript,
    /// The player's `--speed-ratio` (1.0 where the song's times are as played).
    pub speed: f64,
    pub partitions: i32,
    /// `--transport`, as the user gave it: each member resolves it alike.
    pub spec: &'a str,
    pub plugin_dirs: &'a [PathBuf],
    pub earliest: bool,
}

impl Lab<'_> {
    /// The group plan for `topic` and `group`, with the side's consumer config.
    pub fn plan(&self, config: &ClientConfig, topic: &str, group: &str) -> Result<GroupPlan> {
        let program =
            std::env::current_exe().context("finding the kmidi binary for group members")?;
        let job = job::job_line(
            self.spec,
            self.plugin_dirs,
            config,
            topic,
            group,
            self.earliest,
        )?;
        Ok(GroupPlan {
            members: self.members,
            script: self.script.clone(),
            speed: self.speed,
            partitions: self.partitions,
            command: MemberCommand {
                program,
                args: vec!["member".into()],
                job,
            },
        })
    }
}

/// The lab measures a group sharing a topic: a transport without consumer groups is
/// refused for it, `who` naming the side.
pub fn require_groups(info: &TransportInfo, who: &str) -> Result<()> {
    if !info.capabilities.consumer_groups {
        anyhow::bail!(
            "{who}the {} transport has no consumer groups, and --members/--churn measure a \
             group sharing a topic: pick a transport whose `kmidi transports` line lists \
             consumer groups",
            info.name
        );
    }
    Ok(())
}

/// Starts the plan's members and waits for the group to settle (a warning if it does
/// not within [`GROUP_WAIT`]: the song is played anyway).
pub fn start_group(plan: GroupPlan, who: &str) -> Result<(GroupConsumer, Arc<Mutex<GroupLog>>)> {
    let members = plan.members;
    let (group, log, settled) = GroupConsumer::start(plan, GROUP_WAIT)
        .with_context(|| format!("{who}: starting {members} group member(s)"))?;
    if !settled {
        tracing::warn!(
            "{who}: the group of {members} did not settle within {}s; playing anyway",
            GROUP_WAIT.as_secs()
        );
    }
    Ok((group, log))
}

/// Where the score puts each note after speed, µs from the song's start.
pub fn scheduled_us(score: &Score, speed: f64) -> Vec<u64> {
    score
        .events
        .iter()
        .map(|e| (e.at.as_secs_f64() * speed * 1e6) as u64)
        .collect()
}

/// Without the score (an instrument hears a player elsewhere): each note where it was
/// heard to be scheduled, and a missing one where the note before it was.
pub fn scheduled_from(samples: &[Sample]) -> Vec<u64> {
    let Some(last) = samples.iter().map(|s| s.seq).max() else {
        return Vec::new();
    };
    let mut at: Vec<Option<u64>> = vec![None; last as usize + 1];
    for s in samples {
        at[s.seq as usize].get_or_insert((s.at_s * 1e6) as u64);
    }
    let mut before = 0;
    at.into_iter()
        .map(|a| {
            before = a.unwrap_or(before);
            before
        })
        .collect()
}

/// The side's rebalance figures, once it has listened.
pub fn figures(
    log: &Arc<Mutex<GroupLog>>,
    listened: &ListenReport,
    scheduled: &[u64],
    members: usize,
    key_by: Option<KeyBy>,
) -> Rebalance {
    let group = log.lock().map(|l| l.clone()).unwrap_or_default();
    let events = churn::event_figures(&group, &listened.meter.samples, scheduled, unix_us());
    Rebalance {
        members,
        partitions: group.partitions,
        key_by,
        churn: group.script.clone(),
        events,
        group,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_note_is_scheduled_where_the_note_before_it_was() {
        let heard = |seq, at_s| Sample::heard(seq, 0, at_s, 0.0);
        let samples = [heard(0, 0.0), heard(1, 0.5), heard(4, 2.0), heard(1, 0.5)];
        assert_eq!(
            scheduled_from(&samples),
            vec![0, 500_000, 500_000, 500_000, 2_000_000]
        );
        assert!(scheduled_from(&[]).is_empty());
    }
}
