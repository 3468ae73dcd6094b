//! Live hooks into the engines, for whoever watches a run while it plays (the binary's
//! Prometheus metrics): the engines call an [`Observer`] per note heard or sent, per
//! bad record and delivery failure, and a few times a second with the whole report.
//! Every method has an empty default, and the engines know nothing of who listens.

use crate::heard::ListenReport;
use crate::measure::Verdict;

pub trait Observer: Send + Sync {
    /// The instrument played a note, and what the meter found it to be.
    fn heard(&self, _topic: &str, _partition: i32, _verdict: &Verdict) {}

    /// The instrument skipped a record it could not play.
    fn bad_record(&self, _topic: &str, _partition: i32, _kind: &'static str) {}

    /// With a playout delay: a note arrived after its playout time.
    fn missed_deadline(&self, _topic: &str, _partition: i32) {}

    /// The consumer reported an error it retries.
    fn transient_error(&self) {}

    /// A few times a second while listening: figures that are not per note (sequence
    /// gaps, tempo).
    fn live(&self, _report: &ListenReport) {}

    /// The player handed a note to the client (`ok`) or the client refused it,
    /// `lateness_us` after its deadline.
    fn sent(&self, _topic: &str, _lateness_us: u64, _ok: bool) {}

    /// The client reported a note it took as not delivered.
    fn delivery_failed(&self, _topic: &str) {}
}
