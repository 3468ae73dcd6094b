//! What a step's Trogdor tasks achieved, as a [`LoadReport`].
//!
//! Trogdor says how many records a producer sent and its ack latency percentiles, not
//! for how long it sent them: its task's life (`doneMs - startedMs`) includes setup
//! (admin client, topic creation). The driver notes when it first saw a task past setup
//! and takes that off; as a step's records are throttled to its rate they take at least
//! the step's duration to send, which bounds the time from below (unless the step was
//! stopped early).

use std::time::Duration;

use crate::driver::LoadReport;
use crate::scenario::Rate;

use super::state::TaskState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Produce,
    Consume,
}

/// One task the driver created, and what it last heard of it.
#[derive(Clone, Debug)]
pub struct Task {
    pub id: String,
    pub kind: Kind,
    created: std::time::Instant,
    /// How long after its creation the task was first seen past setup.
    setup: Option<Duration>,
    pub last: Option<TaskState>,
}

impl Task {
    pub fn new(id: &str, kind: Kind) -> Self {
        Task {
            id: id.to_string(),
            kind,
            created: std::time::Instant::now(),
            setup: None,
            last: None,
        }
    }

    pub fn observe(&mut self, state: TaskState) {
        if self.setup.is_none() && state.past_setup() {
            self.setup = Some(self.created.elapsed());
        }
        self.last = Some(state);
    }

    pub fn is_done(&self) -> bool {
        self.last.as_ref().is_some_and(TaskState::is_done)
    }

    /// How long it sent: its life less the setup seen (all of it if none was seen).
    fn sending(&self) -> Option<Duration> {
        let last = self.last.as_ref()?;
        let (start, done) = (last.started_ms?, last.done_ms?);
        let life = Duration::from_millis(u64::try_from(done - start).ok()?);
        Some(life.saturating_sub(self.setup.unwrap_or_default()))
    }
}

/// The report of step `step` from its tasks' last states (all done).
pub fn step_report(
    step: usize,
    asked: Rate,
    record_size: u64,
    duration: Duration,
    tasks: &[Task],
) -> LoadReport {
    let mut sent = 0;
    let mut errors = 0;
    let (mut p50, mut p99) = (None::<f64>, None::<f64>);
    let mut cut_short = false;
    let mut sending = Duration::ZERO;
    let mut consumed = None::<u64>;
    for task in tasks {
        let Some(last) = &task.last else {
            errors += 1;
            continue;
        };
        cut_short |= last.cancelled;
        match task.kind {
            Kind::Produce => match last.produce_status() {
                Some(s) => {
                    sent += s.total_sent;
                    // Percentiles of several producers do not add up: the worst one
                    // is what the cluster made some of the load wait.
                    p50 = Some(p50.map_or(s.p50_latency_ms, |p| p.max(s.p50_latency_ms)));
                    p99 = Some(p99.map_or(s.p99_latency_ms, |p| p.max(s.p99_latency_ms)));
                    sending = sending.max(task.sending().unwrap_or_default());
                }
                // Ended without a report: it failed before sending anything.
                None => errors += 1,
            },
            Kind::Consume => {
                if let Some(c) = last.consume_status() {
                    *consumed.get_or_insert(0) += c.messages;
                }
                if last.failure().is_some() {
                    errors += 1;
                }
            }
        }
    }
    let elapsed = if cut_short {
        sending
    } else {
        sending.max(duration)
    };
    let mut report = LoadReport::nothing(step, asked).with_sent(sent, record_size, elapsed);
    report.ack_latency_p50_ms = p50;
    report.ack_latency_p99_ms = p99;
    report.records_consumed = consumed;
    report.errors = errors;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(json: &str) -> TaskState {
        serde_json::from_str(json).unwrap()
    }

    /// A task last seen in `state`, never seen in setup (so its whole life counts).
    fn task(id: &str, kind: Kind, state: &str) -> Task {
        Task {
            last: Some(done(state)),
            ..Task::new(id, kind)
        }
    }

    const PRODUCED: &str = r#"{"state":"DONE","startedMs":1000,"doneMs":5000,"cancelled":false,
        "status":{"totalSent":600,"averageLatencyMs":9.3,"p50LatencyMs":7,"p95LatencyMs":23,
        "p99LatencyMs":26,"transactionsCommitted":0}}"#;

    #[test]
    fn a_finished_step_reports_its_records_over_its_duration() {
        let tasks = [task("p", Kind::Produce, PRODUCED)];
        let r = step_report(
            2,
            Rate::RecordsPerSec(200.0),
            1000,
            Duration::from_secs(3),
            &tasks,
        );
        assert_eq!((r.step, r.records_sent, r.errors), (2, 600, 0));
        // Seen done at once (no setup seen): 4 s of life, at least the 3 s asked.
        assert_eq!(r.achieved_records_per_sec, 150.0);
        assert_eq!(r.achieved_bytes_per_sec, 150_000.0);
        assert_eq!(
            (r.ack_latency_p50_ms, r.ack_latency_p99_ms),
            (Some(7.0), Some(26.0))
        );
        assert_eq!(r.records_consumed, None);
        // Seen past setup 2 s after creation: 2 s of sending, less than the 3 s asked,
        // which the throttle makes it take at least.
        let mut slow = task("p", Kind::Produce, PRODUCED);
        slow.setup = Some(Duration::from_secs(2));
        assert_eq!(slow.sending(), Some(Duration::from_secs(2)));
        let r = step_report(
            2,
            Rate::RecordsPerSec(200.0),
            1000,
            Duration::from_secs(3),
            &[slow],
        );
        assert_eq!(r.achieved_records_per_sec, 200.0);
    }

    #[test]
    fn several_producers_add_up_and_keep_the_worst_latency() {
        let other = PRODUCED.replace("\"p99LatencyMs\":26", "\"p99LatencyMs\":90");
        let tasks = [
            task("p1", Kind::Produce, PRODUCED),
            task("p2", Kind::Produce, &other),
            task(
                "c1",
                Kind::Consume,
                r#"{"state":"DONE","startedMs":1,"doneMs":2,"status":{"c-0":{
                "totalMessagesReceived":700,"totalBytesReceived":7,"p99LatencyMs":1}}}"#,
            ),
            task("c2", Kind::Consume, r#"{"state":"DONE","status":null}"#),
        ];
        let r = step_report(
            0,
            Rate::BytesPerSec(4e5),
            1000,
            Duration::from_secs(4),
            &tasks,
        );
        assert_eq!(r.records_sent, 1200);
        assert_eq!(r.achieved_bytes_per_sec, 300_000.0);
        assert_eq!(r.ack_latency_p99_ms, Some(90.0));
        assert_eq!(r.records_consumed, Some(700));
        assert_eq!(r.fraction_achieved(), Some(0.75));
    }

    #[test]
    fn failed_and_stopped_tasks() {
        let failed = task(
            "p",
            Kind::Produce,
            r#"{"state":"DONE","startedMs":-1,"doneMs":5,"error":"Unknown node names: agent-9"}"#,
        );
        let r = step_report(
            1,
            Rate::RecordsPerSec(10.0),
            100,
            Duration::from_secs(3),
            &[failed],
        );
        assert_eq!(
            (r.records_sent, r.errors, r.achieved_records_per_sec),
            (0, 1, 0.0)
        );
        assert_eq!(r.ack_latency_p99_ms, None);
        // Stopped after 2 s of its 10: the rate over the 2 s it ran.
        let stopped = task(
            "p",
            Kind::Produce,
            &PRODUCED
                .replace("\"doneMs\":5000", "\"doneMs\":3000")
                .replace("\"cancelled\":false", "\"cancelled\":true"),
        );
        let r = step_report(
            1,
            Rate::RecordsPerSec(300.0),
            100,
            Duration::from_secs(10),
            &[stopped],
        );
        assert_eq!(r.achieved_records_per_sec, 300.0);
    }
}
