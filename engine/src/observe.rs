//! Live hooks into the engines, for whoever watches a run while it plays (the binary's
//! Prometheus metrics): the engines call an [`Observer`] per note heard or sent, per
//! bad record and delivery failure, and a few times a second with the whole report.
//! Every method has an empty default, and the engines know nothing of who listens.

use std::sync::Arc;

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

    /// The instrument finished with a note `us` after it arrived (decoded, played,
    /// measured): its own processing time, to tell a slow host from a slow cluster.
    fn processed(&self, _topic: &str, _us: u64) {}
}

/// Several observers as one: each is told everything, in order.
pub struct Fanout(pub Vec<Arc<dyn Observer>>);

impl Fanout {
    /// `None` for none, the one itself for one, a fan-out for more.
    pub fn of(
        observers: impl IntoIterator<Item = Option<Arc<dyn Observer>>>,
    ) -> Option<Arc<dyn Observer>> {
        let mut all: Vec<_> = observers.into_iter().flatten().collect();
        match all.len() {
            0 => None,
            1 => all.pop(),
            _ => Some(Arc::new(Fanout(all))),
        }
    }
}

impl Observer for Fanout {
    fn heard(&self, topic: &str, partition: i32, verdict: &Verdict) {
        self.0
            .iter()
            .for_each(|o| o.heard(topic, partition, verdict));
    }

    fn bad_record(&self, topic: &str, partition: i32, kind: &'static str) {
        self.0
            .iter()
            .for_each(|o| o.bad_record(topic, partition, kind));
    }

    fn missed_deadline(&self, topic: &str, partition: i32) {
        self.0
            .iter()
            .for_each(|o| o.missed_deadline(topic, partition));
    }

    fn transient_error(&self) {
        self.0.iter().for_each(|o| o.transient_error());
    }

    fn live(&self, report: &ListenReport) {
        self.0.iter().for_each(|o| o.live(report));
    }

    fn sent(&self, topic: &str, lateness_us: u64, ok: bool) {
        self.0.iter().for_each(|o| o.sent(topic, lateness_us, ok));
    }

    fn delivery_failed(&self, topic: &str) {
        self.0.iter().for_each(|o| o.delivery_failed(topic));
    }

    fn processed(&self, topic: &str, us: u64) {
        self.0.iter().for_each(|o| o.processed(topic, us));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    #[derive(Default)]
    struct Count(AtomicU64);

    impl Observer for Count {
        fn transient_error(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn sent(&self, _: &str, _: u64, _: bool) {
            self.0.fetch_add(10, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_fanout_tells_every_observer_and_is_only_made_when_needed() {
        assert!(Fanout::of([None, None]).is_none());
        let a = Arc::new(Count::default());
        let b = Arc::new(Count::default());
        let one = Fanout::of([Some(a.clone() as Arc<dyn Observer>), None]).unwrap();
        one.transient_error();
        assert_eq!(a.0.load(Ordering::SeqCst), 1);
        let both =
            Fanout::of([Some(a.clone() as Arc<dyn Observer>), Some(b.clone() as _)]).unwrap();
        both.transient_error();
        both.sent("t", 0, true);
        assert_eq!(a.0.load(Ordering::SeqCst), 12);
        assert_eq!(b.0.load(Ordering::SeqCst), 11);
    }
}
