//! `kmidi transports --check PATH`: the conformance pass a plugin author runs first.
//! It loads the plugin the way the host does and exercises the contract point by point
//! (the table, its entries, both constructors, a produce/poll round trip, poll's
//! timeout, error text, refusal of NULL arguments, release), reporting each point as
//! soon as it is known, so a plugin that crashes the process shows where it did.
//!
//! The round trip needs a cluster and a topic; the caller provides both (the CLI uses
//! the embedded mock cluster, or `-b`), so this module stays free of any client library.

use std::ffi::c_char;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::handles::{PluginConsumer, PluginProducer};
use super::loader;
use super::transport::PluginTransport;
use crate::plugin::abi::KMIDI_TRANSPORT_TABLE_V1_SIZE;
use crate::plugin::abi::{kmidi_producer, KMIDI_ERROR, KMIDI_INVALID_ARG, KMIDI_OK};
use crate::plugin::ffi::{errbuf_text, lossy, KvList, ERRBUF_LEN};
use crate::{ClientConfig, Consumer, OffsetReset, Producer, Subscription};

/// How one point of the pass went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
    /// Not tried, because a point it depends on failed.
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
            "{} ({} {}), ABI {}, {} bytes (ABI 1 needs at least {})",
            plugin.info.name,
            plugin.info.library,
            plugin.info.library_version,
            plugin.table.0.abi_version,
            plugin.struct_size,
            KMIDI_TRANSPORT_TABLE_V1_SIZE
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
        for what in ["round trip", "idle poll", "NULL arguments"] {
            say(point(
                what,
                Outcome::Skip,
                "needs a producer and a consumer",
            ));
        }
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
    say(null_topic(&plugin, &producer));
    say(null_message(&plugin, &consumer));
    say(null_out(&plugin, &setup.config));
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

/// A refusal is right if it is INVALID_ARG or ERROR with a text; OK is wrong.
fn refusal(what: &'static str, rc: i32, text: Option<String>) -> Point {
    let text = text.filter(|t| !t.trim().is_empty());
    match (rc, text) {
        (KMIDI_INVALID_ARG | KMIDI_ERROR, Some(t)) => {
            point(what, Outcome::Pass, format!("refused (status {rc}): {t}"))
        }
        (KMIDI_INVALID_ARG | KMIDI_ERROR, None) => point(
            what,
            Outcome::Fail,
            format!("refused (status {rc}), but the error text is empty or missing"),
        ),
        (KMIDI_OK, _) => point(what, Outcome::Fail, "accepted (status OK)"),
        (rc, _) => point(
            what,
            Outcome::Fail,
            format!("status {rc}; expected KMIDI_INVALID_ARG ({KMIDI_INVALID_ARG})"),
        ),
    }
}

/// `produce` with a NULL topic is refused, and `producer_last_error` says why.
fn null_topic(plugin: &loader::Plugin, producer: &PluginProducer) -> Point {
    let t = plugin.table.0;
    let Some(produce) = t.produce else {
        return point("NULL topic", Outcome::Skip, "no produce entry");
    };
    let h = producer.raw();
    let value = b"x";
    // SAFETY: a live producer handle used by this thread only; the NULL topic is the
    // point of the probe (the ABI says a plugin refuses it); the value is valid.
    let rc = unsafe { produce(h, std::ptr::null(), std::ptr::null(), 0, value.as_ptr(), 1) };
    // SAFETY: same handle; the returned text is copied before any other call.
    let text = t.producer_last_error.and_then(|f| unsafe { lossy(f(h)) });
    refusal("NULL topic", rc, text)
}

/// `poll` with a NULL message pointer is refused, and `consumer_last_error` says why.
fn null_message(plugin: &loader::Plugin, consumer: &PluginConsumer) -> Point {
    let t = plugin.table.0;
    let Some(poll) = t.poll else {
        return point("NULL message", Outcome::Skip, "no poll entry");
    };
    let h = consumer.raw();
    // SAFETY: a live consumer handle used by this thread only; the NULL out pointer is
    // the point of the probe (the ABI says a plugin refuses it).
    let rc = unsafe { poll(h, 10, std::ptr::null_mut()) };
    // SAFETY: same handle; the returned text is copied before any other call.
    let text = t.consumer_last_error.and_then(|f| unsafe { lossy(f(h)) });
    refusal("NULL message", rc, text)
}

/// `producer_new` with a NULL out pointer is refused with a text in errbuf.
fn null_out(plugin: &loader::Plugin, config: &ClientConfig) -> Point {
    let Some(new) = plugin.table.0.producer_new else {
        return point("NULL out", Outcome::Skip, "no producer_new entry");
    };
    let kv = match KvList::from_config(config) {
        Ok(kv) => kv,
        Err(e) => return point("NULL out", Outcome::Skip, e.to_string()),
    };
    let mut errbuf = vec![0u8; ERRBUF_LEN];
    let out: *mut *mut kmidi_producer = std::ptr::null_mut();
    // SAFETY: kv and errbuf are valid for the call; the NULL out pointer is the point
    // of the probe (the ABI says a plugin refuses it).
    let rc = unsafe {
        new(
            kv.as_ptr(),
            kv.len(),
            out,
            errbuf.as_mut_ptr().cast::<c_char>(),
            errbuf.len(),
        )
    };
    refusal("NULL out", rc, Some(errbuf_text(&errbuf)))
}
