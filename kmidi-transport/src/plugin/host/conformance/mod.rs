//! `kmidi transports --check PATH`: the conformance pass a plugin author runs first.
//! It loads the plugin the way the host does and exercises the contract point by point
//! (the table, its entries, both constructors, a produce/poll round trip, poll's
//! timeout, error text, refusal of NULL arguments, the optional settings, assignment
//! and leaders entries, release), reporting each point as soon as it is known, so a
//! plugin that crashes the process shows where it did.
//!
//! The round trip needs a cluster and a topic; the caller provides both (the CLI uses
//! the embedded mock cluster, or `-b`), so this module stays free of any client library.
//! The raw NULL-argument probes are in `probes`, the optional reporting entries in
//! `reports`, the optional `partition_leaders` entry in `leaders`.

mod leaders;
mod probes;
mod reports;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::loader;
use super::transport::PluginTransport;
use crate::plugin::abi::{KMIDI_TRANSPORT_TABLE_SIZE, KMIDI_TRANSPORT_TABLE_V1_SIZE};
use crate::{ClientConfig, Consumer, OffsetReset, Producer, Subscription};

/// How one point of the pass went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
    /// Not tried: a point it depends on failed, or the optional entry it checks is
    /// not provided. Not a failure.
    Skip,
}

/// One line of the report.
#[derive(Clone, Debug)]
pub struct Point {
    pub what: &'static str,
    pub outcome: Outcome,
    pub detail: String,
}

/// Where the round trip runs.
pub struct CheckSetup {
    /// Client properties for both clients: the cluster's `bootstrap.servers` and the
    /// user's `-X`.
    pub config: ClientConfig,
    /// A topic that exists on that cluster and that nothing else writes to.
    pub topic: String,
    /// Bound on each wait (flush, the records' arrival).
    pub timeout: Duration,
}

const RECORDS: usize = 3;
/// The timeout `poll` is given on an idle topic, and how late it may return.
const IDLE_POLL: Duration = Duration::from_millis(300);
const IDLE_POLL_LATE: Duration = Duration::from_secs(3);

fn point(what: &'static str, outcome: Outcome, detail: impl Into<String>) -> Point {
    Point {
        what,
        outcome,
        detail: detail.into(),
    }
}

/// Runs the pass over the plugin at `path`, calling `report` for each point as it is
/// decided; true if no point failed.
pub fn check(path: &Path, setup: &CheckSetup, report: impl FnMut(&Point)) -> bool {
    let mut r = Reporter { ok: true, report };
    run(path, setup, &mut r);
    r.ok
}

struct Reporter<F> {
    ok: bool,
    report: F,
}

impl<F: FnMut(&Point)> Reporter<F> {
    fn say(&mut self, p: Point) {
        self.ok &= p.outcome != Outcome::Fail;
        (self.report)(&p);
    }
}

fn run<F: FnMut(&Point)>(path: &Path, setup: &CheckSetup, r: &mut Reporter<F>) {
    let mut say = |p| r.say(p);
    let plugin = match loader::open(path) {
        Ok(p) => Arc::new(p),
        Err(err) => return say(point("table", Outcome::Fail, err.to_string())),
    };
    say(point(
        "table",
        Outcome::Pass,
        format!(
            "{} ({} {}), ABI {}, {} bytes (ABI 1 needs at least {}; {} with the \
             appended entries{})",
            plugin.info.name,
            plugin.info.library,
            plugin.info.library_version,
            plugin.table.0.abi_version,
            plugin.struct_size,
            KMIDI_TRANSPORT_TABLE_V1_SIZE,
            KMIDI_TRANSPORT_TABLE_SIZE,
            if (plugin.struct_size as usize) < KMIDI_TRANSPORT_TABLE_SIZE {
                ", read as NULL for this older table"
            } else {
                ""
            }
        ),
    ));
    let transport = PluginTransport::new(Arc::clone(&plugin));
    say(entries_point(&transport));

    let producer = transport.plugin_producer(&setup.config);
    let sub = Subscription {
        topics: vec![setup.topic.clone()],
        group: format!("kmidi-check-{}", std::process::id()),
        offset_reset: OffsetReset::Earliest,
    };
    let consumer = transport.plugin_consumer(&setup.config, &sub);
    say(constructed("producer_new", producer.as_ref().err()));
    say(constructed("consumer_new", consumer.as_ref().err()));
    let (Ok(mut producer), Ok(mut consumer)) = (producer, consumer) else {
        for what in [
            "round trip",
            "idle poll",
            "NULL arguments",
            "settings",
            "assignment",
        ] {
            say(point(
                what,
                Outcome::Skip,
                "needs a producer and a consumer",
            ));
        }
        say(leaders::leaders(
            &plugin,
            &setup.config,
            &setup.topic,
            setup.timeout,
        ));
        return;
    };
    let round_trip = round_trip(&mut producer, &mut consumer, setup);
    let delivered = round_trip.outcome == Outcome::Pass;
    say(round_trip);
    say(if delivered {
        idle_poll(&mut consumer)
    } else {
        point("idle poll", Outcome::Skip, "needs the round trip")
    });
    say(probes::null_topic(&plugin, &producer));
    say(probes::null_message(&plugin, &consumer));
    say(probes::null_out(&plugin, &setup.config));
    // Settings before the assignment: a settings entry cannot return KMIDI_PANICKED, so
    // only the assignment's answer can tell that the consumer is now poisoned.
    say(reports::settings(&plugin, &producer, &consumer));
    say(reports::assignment(
        &plugin,
        &consumer,
        &setup.topic,
        delivered,
    ));
    say(leaders::leaders(
        &plugin,
        &setup.config,
        &setup.topic,
        setup.timeout,
    ));
    let started = Instant::now();
    drop(producer);
    drop(consumer);
    let took = started.elapsed();
    say(point(
        "free",
        if took < setup.timeout {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        format!("producer_free and consumer_free returned in {took:.1?}"),
    ));
}

fn constructed(what: &'static str, err: Option<&crate::TransportError>) -> Point {
    match err {
        None => point(what, Outcome::Pass, "created"),
        Some(e) => point(what, Outcome::Fail, e.to_string()),
    }
}

fn entries_point(transport: &PluginTransport) -> Point {
    let entries = transport.entries();
    let missing: Vec<&str> = transport.missing_required();
    let optional: Vec<String> = entries
        .iter()
        .filter(|e| !e.required && !e.present)
        .map(|e| format!("{} (without it {})", e.name, e.without))
        .collect();
    let also = if optional.is_empty() {
        String::new()
    } else {
        format!("; optional and NULL: {}", optional.join("; "))
    };
    if missing.is_empty() {
        let required = entries.iter().filter(|e| e.required).count();
        point(
            "entries",
            Outcome::Pass,
            format!("all {required} required entries present{also}"),
        )
    } else {
        point(
            "entries",
            Outcome::Fail,
            format!("required but NULL: {}{also}", missing.join(", ")),
        )
    }
}

/// Sends a few records and polls them back: same topic, key, value and order.
fn round_trip(
    producer: &mut dyn Producer,
    consumer: &mut dyn Consumer,
    setup: &CheckSetup,
) -> Point {
    let what = "round trip";
    let values: Vec<Vec<u8>> = (0..RECORDS)
        .map(|i| format!("kmidi --check record {i}").into_bytes())
        .collect();
    let started = Instant::now();
    for v in &values {
        if let Err(e) = producer.send(&setup.topic, b"kmidi-check", v) {
            return point(what, Outcome::Fail, format!("produce: {e}"));
        }
    }
    if let Err(e) = producer.flush(setup.timeout) {
        return point(what, Outcome::Fail, format!("flush: {e}"));
    }
    if let Some(f) = producer.take_failures().first() {
        return point(what, Outcome::Fail, format!("not delivered: {}", f.error));
    }
    let mut got = Vec::new();
    while got.len() < RECORDS && started.elapsed() < setup.timeout * 2 {
        match consumer.poll(Duration::from_millis(200)) {
            Ok(Some(r)) => got.push(r),
            Ok(None) => {}
            Err(e) if e.is_transient() => {}
            Err(e) => return point(what, Outcome::Fail, format!("poll: {e}")),
        }
    }
    if got.len() < RECORDS {
        return point(
            what,
            Outcome::Fail,
            format!(
                "{} of {RECORDS} records came back within {:.0?} (topic {})",
                got.len(),
                setup.timeout * 2,
                setup.topic
            ),
        );
    }
    for (i, (r, v)) in got.iter().zip(&values).enumerate() {
        let wrong = if r.topic != setup.topic {
            Some(format!("topic {:?}", r.topic))
        } else if r.key.as_deref() != Some(&b"kmidi-check"[..]) {
            Some(format!("key {:?}", r.key))
        } else if r.value.as_ref() != Some(v) {
            Some("value (or order)".to_string())
        } else {
            None
        };
        if let Some(wrong) = wrong {
            return point(
                what,
                Outcome::Fail,
                format!("record {i} came back with the wrong {wrong}"),
            );
        }
    }
    point(
        what,
        Outcome::Pass,
        format!(
            "{RECORDS} records produced and polled back in order in {:.0?}",
            started.elapsed()
        ),
    )
}

/// `poll` on a drained topic honours its timeout: neither spins nor hangs.
fn idle_poll(consumer: &mut dyn Consumer) -> Point {
    let started = Instant::now();
    let result = consumer.poll(IDLE_POLL);
    let took = started.elapsed();
    match result {
        Ok(Some(r)) => point(
            "idle poll",
            Outcome::Fail,
            format!("an extra record came back (offset {})", r.offset),
        ),
        Ok(None) if took <= IDLE_POLL_LATE => point(
            "idle poll",
            Outcome::Pass,
            format!("timeout {IDLE_POLL:?}: returned no message after {took:.0?}"),
        ),
        Ok(None) => point(
            "idle poll",
            Outcome::Fail,
            format!("timeout {IDLE_POLL:?}, but returned only after {took:.1?}"),
        ),
        Err(e) => point("idle poll", Outcome::Fail, e.to_string()),
    }
}
