//! The worker's meter: the producer's counts read and written every [`REPORT_EVERY`],
//! with the ack latency estimated from them.

use std::io::Write;
use std::time::{Duration, Instant};

use kmidi_transport::Producer;

use super::job::{WorkerLine, WorkerProgress};
use super::{emit, REPORT_EVERY};

/// Reads the producer's counts every [`REPORT_EVERY`] and writes them.
pub(super) struct Meter {
    pub(super) start: Instant,
    next: Duration,
    prev_at: Duration,
    prev_delivered: u64,
    pub(super) last: WorkerProgress,
    warned_failure: bool,
}

impl Meter {
    pub(super) fn new() -> Self {
        Meter {
            start: Instant::now(),
            next: REPORT_EVERY,
            prev_at: Duration::ZERO,
            prev_delivered: 0,
            last: WorkerProgress::default(),
            warned_failure: false,
        }
    }

    pub(super) fn read(&mut self, producer: &mut dyn Producer, refused: u64) -> WorkerProgress {
        let now = self.start.elapsed();
        let s = producer.stats();
        let dt = (now - self.prev_at).as_secs_f64();
        let acked = s.delivered.saturating_sub(self.prev_delivered);
        let in_flight = s.sent.saturating_sub(s.delivered + s.failed);
        let ack_latency_estimate_ms =
            (dt > 0.0 && acked > 0).then(|| in_flight as f64 / (acked as f64 / dt) * 1000.0);
        self.prev_at = now;
        self.prev_delivered = s.delivered;
        self.last = WorkerProgress {
            elapsed_ms: now.as_millis() as u64,
            sent: s.sent,
            delivered: s.delivered,
            failed: s.failed + refused,
            ack_latency_estimate_ms,
        };
        self.last
    }

    /// Writes a progress line when one is due; false when `out` is gone.
    pub(super) fn tick(
        &mut self,
        producer: &mut dyn Producer,
        refused: u64,
        out: &mut impl Write,
    ) -> bool {
        let failures = producer.take_failures();
        if let (Some(f), false) = (failures.first(), self.warned_failure) {
            self.warned_failure = true;
            let message = format!("a load record failed: {}", f.error);
            if !emit(out, &WorkerLine::Warning { message }) {
                return false;
            }
        }
        if self.start.elapsed() < self.next {
            return true;
        }
        self.next += REPORT_EVERY;
        let progress = self.read(producer, refused);
        emit(out, &WorkerLine::Progress(progress))
    }
}
