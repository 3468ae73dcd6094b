//! Whether a command that played or listened succeeded: every reason it did not, named,
//! so that no command exits 0 over notes that were not sent, not delivered or never
//! heard, or over a transport that failed fatally. The player, the instrument, `demo`
//! and `compare` all end through [`failures`].

use kmidi_engine::listen::ListenReport;
use kmidi_engine::perform::PlayReport;
use kmidi_engine::session::Outcome;

/// What this process played, if it played.
pub struct Played<'a> {
    pub report: &'a PlayReport,
    pub flushed: &'a Result<(), String>,
}

/// Each reason the run failed, as a sentence; empty when it did not. `heard` is what an
/// instrument in this process heard of the notes `played` sent (demo, compare), so the
/// two can be checked against each other.
pub fn failures(played: Option<Played>, heard: Option<&ListenReport>) -> Vec<String> {
    failures_expecting(played, heard, true)
}

fn failures_expecting(
    played: Option<Played>,
    heard: Option<&ListenReport>,
    all_heard: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = &played {
        let r = p.report;
        if r.send_errors > 0 {
            out.push(format!(
                "{} message(s) could not be handed to the client",
                r.send_errors
            ));
        }
        if r.delivery_failures > 0 {
            out.push(format!(
                "{} message(s) were not delivered",
                r.delivery_failures
            ));
        }
        if let Err(err) = p.flushed {
            out.push(format!("flush: {err}"));
        }
    }
    if let Some(h) = heard {
        if let Some(fatal) = &h.fatal {
            out.push(format!(
                "the consumer failed and stopped listening: {fatal}"
            ));
        }
    }
    if let (Some(p), Some(h)) = (&played, heard) {
        let handled = h.played + h.bad.values().sum::<u64>();
        let interrupted = p.report.interrupted || h.interrupted;
        if all_heard && !interrupted && handled < p.report.sent {
            out.push(format!(
                "{} of the {} message(s) sent were never heard",
                p.report.sent - handled,
                p.report.sent
            ));
        }
    }
    out
}

/// The failures of an in-process session (demo, compare): its player and instrument
/// checked against each other.
pub fn of_session(o: &Outcome) -> Vec<String> {
    let played = Played {
        report: &o.played,
        flushed: &o.flushed,
    };
    failures(Some(played), Some(&o.listened))
}

/// As [`of_session`] for a session whose group was churned on purpose (`compare
/// --churn`): notes never heard are then a measurement, charged to the churn events
/// in the table, not a failure of the run.
pub fn of_churned_session(o: &Outcome) -> Vec<String> {
    let played = Played {
        report: &o.played,
        flushed: &o.flushed,
    };
    failures_expecting(Some(played), Some(&o.listened), false)
}

/// Prints each failure as an error line; 1 if there was any.
pub fn report(failures: &[String]) -> Option<i32> {
    for f in failures {
        eprintln!("error: {f}");
    }
    (!failures.is_empty()).then_some(1)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use kmidi_engine::measure::{self, Meter};

    use super::*;

    fn sent(n: u64) -> PlayReport {
        PlayReport {
            sent: n,
            send_errors: 0,
            delivery_failures: 0,
            lateness_us: measure::histogram(),
            last_lateness_us: None,
            interrupted: false,
        }
    }

    fn heard(n: u64, fatal: Option<&str>) -> ListenReport {
        ListenReport {
            played: n,
            bad: BTreeMap::new(),
            meter: Meter::default(),
            fatal: fatal.map(str::to_string),
            ..ListenReport::default()
        }
    }

    fn played<'a>(r: &'a PlayReport, f: &'a Result<(), String>) -> Option<Played<'a>> {
        Some(Played {
            report: r,
            flushed: f,
        })
    }

    #[test]
    fn everything_sent_and_heard_is_a_success() {
        let (r, ok) = (sent(5), Ok(()));
        assert!(failures(played(&r, &ok), Some(&heard(5, None))).is_empty());
    }

    #[test]
    fn a_fatal_consumer_error_is_named_even_when_nothing_was_sent() {
        let (r, ok) = (sent(0), Ok(()));
        let f = failures(
            played(&r, &ok),
            Some(&heard(0, Some("plugin: poll failed"))),
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("poll failed"), "{f:?}");
    }

    #[test]
    fn notes_sent_but_not_heard_and_send_errors_are_each_a_failure() {
        let mut r = sent(5);
        r.send_errors = 120;
        let flushed = Err("timed out".to_string());
        let f = failures(played(&r, &flushed), Some(&heard(3, None)));
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(f[0].contains("120 message(s) could not be handed"), "{f:?}");
        assert!(f[1].contains("timed out"), "{f:?}");
        assert!(f[2].contains("2 of the 5"), "{f:?}");
    }
}
