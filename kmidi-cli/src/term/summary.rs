//! The lines a command prints when it ends: what the player sent, what the instrument
//! heard (its table comes from `report`), and what it skipped or recovered from.

use kmidi_engine::listen::ListenReport;
use kmidi_engine::perform::PlayReport;

use crate::report;

/// What the player sent and how late its scheduler handed notes over.
pub fn print_played(report: &PlayReport) {
    let h = &report.lateness_us;
    eprintln!(
        "sent {} message(s){}; scheduling lateness p50 {} µs, p99 {} µs, max {} µs",
        report.sent,
        if report.interrupted {
            " (interrupted)"
        } else {
            ""
        },
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.max()
    );
    // Send errors, delivery failures and a failed flush are the verdict's to say.
}

/// What the instrument heard: the summary table, then what it could not measure.
pub fn print_heard(report: &ListenReport) {
    eprintln!(
        "played {} message(s){}",
        report.played,
        if report.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    );
    eprint!("{}", report::table(report));
    for (kind, n) in &report.bad {
        eprintln!("skipped {n} bad record(s): {kind}");
    }
    if report.meter.unmeasured > 0 {
        eprintln!(
            "{} message(s) carried no kmidi_* fields (e.g. from the original Python player): their timing is unavailable",
            report.meter.unmeasured
        );
    }
    if report.transient_errors > 0 {
        eprintln!(
            "{} transient consumer error(s) recovered from",
            report.transient_errors
        );
    }
}

/// Brokers whose partitions carried no note while others did: the player's keys never
/// reached them, so they were not heard at all.
pub fn warn_silent_brokers(brokers: &report::Brokers) {
    let heard: u64 = brokers.per_broker.iter().map(|b| b.notes).sum();
    let silent = report::silent_brokers(brokers);
    if heard == 0 || silent.is_empty() {
        return;
    }
    let list: Vec<String> = silent.iter().map(i32::to_string).collect();
    eprintln!(
        "warning: no note came through the partitions of broker(s) {}: the player's keys \
         never went there, so they were not heard; play with `kmidi player --key-by voice`, \
         which deals notes over every partition",
        list.join(", ")
    );
}
