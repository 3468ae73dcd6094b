//! The consumer group's assignment as the instrument saw it over time: each change (a
//! rebalance giving partitions to, or taking them from, this member) with when it
//! happened, for the summary table and the `--report`.
//!
//! Read by polling the consumer a few times a second rather than from a rebalance
//! callback: the `Transport` boundary (and the plugin ABI) has no callbacks, and an
//! operator reading "partition 1 left at 6.2 s" needs tenths of a second, not
//! microseconds. What a rebalance costs the music shows in the onset and jitter
//! figures; this says when it happened and what moved.

use std::time::{Duration, Instant};

use kmidi_transport::{Consumer, TransportError};

use crate::stop::Stop;

/// How often the assignment is read.
const EVERY: Duration = Duration::from_millis(100);
/// Poll timeout while waiting for the first assignment.
const WAIT_POLL: Duration = Duration::from_millis(50);

/// One assignment the instrument held, from the moment it was first seen.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Assignment {
    /// Seconds since the instrument started listening.
    pub at_s: f64,
    /// Wall clock, ms since the Unix epoch, to line up several instruments.
    pub at_unix_ms: f64,
    /// `(topic, partition)`, sorted.
    pub partitions: Vec<(String, i32)>,
}

/// The assignments seen so far, oldest first.
#[derive(Default)]
pub struct AssignmentLog {
    pub history: Vec<Assignment>,
    checked: Option<Instant>,
}

impl AssignmentLog {
    /// Reads the consumer's assignment if it is time to, and records it if it changed.
    pub fn check(&mut self, consumer: &dyn Consumer, started: Instant) {
        let now = Instant::now();
        if self.checked.is_some_and(|c| now.duration_since(c) < EVERY) {
            return;
        }
        self.checked = Some(now);
        let mut partitions = consumer.assignment();
        partitions.sort();
        let unix_ms = crate::measure::unix_us() as f64 / 1000.0;
        self.record(now.duration_since(started), unix_ms, partitions);
    }

    fn record(&mut self, at: Duration, at_unix_ms: f64, partitions: Vec<(String, i32)>) {
        // A library that does not report its assignment always says "none": nothing to log.
        if self.history.is_empty() && partitions.is_empty() {
            return;
        }
        if self
            .history
            .last()
            .is_some_and(|a| a.partitions == partitions)
        {
            return;
        }
        self.history.push(Assignment {
            at_s: at.as_secs_f64(),
            at_unix_ms,
            partitions,
        });
    }

    /// Changes after the first assignment: each one a rebalance this member took part in.
    pub fn rebalances(&self) -> usize {
        self.history.len().saturating_sub(1)
    }

    /// `[0, 1] at 0.0 s → [0] at 6.2 s`, topics named only when there are several.
    pub fn describe(&self) -> String {
        let topics: std::collections::BTreeSet<&str> = self
            .history
            .iter()
            .flat_map(|a| a.partitions.iter().map(|(t, _)| t.as_str()))
            .collect();
        let one = |a: &Assignment| {
            let parts: Vec<String> = a
                .partitions
                .iter()
                .map(|(t, p)| {
                    if topics.len() > 1 {
                        format!("{t}[{p}]")
                    } else {
                        p.to_string()
                    }
                })
                .collect();
            format!("[{}] at {:.1} s", parts.join(", "), a.at_s)
        };
        // The table has one line for this: the start and the last few changes.
        const SHOWN: usize = 3;
        let mut shown: Vec<String> = Vec::new();
        if let Some(first) = self.history.first() {
            shown.push(one(first));
        }
        let rest = &self.history[self.history.len().min(1)..];
        if rest.len() > SHOWN {
            shown.push(format!("… {} more", rest.len() - SHOWN));
        }
        shown.extend(rest.iter().skip(rest.len().saturating_sub(SHOWN)).map(one));
        shown.join(" → ")
    }
}

/// Polls until the group has given this consumer its partitions, so a player started
/// afterwards is heard from its first note. Records polled meanwhile predate that
/// player and are dropped; a fatal error ends the wait with the error (a transient one
/// is retried). Returns whether partitions were assigned within `timeout`.
pub fn wait_for_assignment(
    consumer: &mut dyn Consumer,
    timeout: Duration,
    stop: &Stop,
) -> Result<bool, TransportError> {
    let started = Instant::now();
    while consumer.assignment().is_empty() {
        if started.elapsed() >= timeout || stop.requested() {
            return Ok(false);
        }
        match consumer.poll(WAIT_POLL) {
            Ok(_) => {}
            Err(e) if e.is_transient() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(ps: &[i32]) -> Vec<(String, i32)> {
        ps.iter().map(|p| ("t".to_string(), *p)).collect()
    }

    fn at(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn only_changes_are_recorded_and_counted_as_rebalances() {
        let mut log = AssignmentLog::default();
        log.record(at(0), 0.0, parts(&[0, 1]));
        log.record(at(1), 0.0, parts(&[0, 1]));
        log.record(at(6), 0.0, parts(&[]));
        log.record(at(6), 0.0, parts(&[0]));
        assert_eq!(log.history.len(), 3);
        assert_eq!(log.rebalances(), 2);
        assert_eq!(
            log.describe(),
            "[0, 1] at 0.0 s → [] at 6.0 s → [0] at 6.0 s"
        );
    }

    #[test]
    fn a_library_that_never_reports_an_assignment_logs_nothing() {
        let mut log = AssignmentLog::default();
        log.record(at(0), 0.0, parts(&[]));
        log.record(at(1), 0.0, parts(&[]));
        assert!(log.history.is_empty());
        assert_eq!(log.rebalances(), 0);
        assert_eq!(log.describe(), "");
    }

    #[test]
    fn a_long_history_shows_its_start_and_its_last_changes() {
        let mut log = AssignmentLog::default();
        for s in 0..6 {
            log.record(at(s), 0.0, parts(&[(s % 2) as i32]));
        }
        assert_eq!(log.rebalances(), 5);
        assert_eq!(
            log.describe(),
            "[0] at 0.0 s → … 2 more → [1] at 3.0 s → [0] at 4.0 s → [1] at 5.0 s"
        );
    }

    #[test]
    fn several_topics_are_named() {
        let mut log = AssignmentLog::default();
        log.record(at(0), 0.0, vec![("a".to_string(), 0), ("b".to_string(), 0)]);
        assert_eq!(log.describe(), "[a[0], b[0]] at 0.0 s");
    }
}
