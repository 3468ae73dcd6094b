//! The conformance pass's raw probes: calls the host itself never makes (a NULL topic,
//! a NULL message, a NULL out pointer), each of which a plugin must refuse with
//! `KMIDI_INVALID_ARG` or `KMIDI_ERROR` and an error text.

use std::ffi::c_char;

use super::super::consumer::PluginConsumer;
use super::super::handles::PluginProducer;
use super::super::loader;
use super::{point, Outcome, Point};
use crate::plugin::abi::{kmidi_producer, KMIDI_ERROR, KMIDI_INVALID_ARG, KMIDI_OK};
use crate::plugin::ffi::{errbuf_text, lossy, KvList, ERRBUF_LEN};
use crate::ClientConfig;

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
pub(super) fn null_topic(plugin: &loader::Plugin, producer: &PluginProducer) -> Point {
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
pub(super) fn null_message(plugin: &loader::Plugin, consumer: &PluginConsumer) -> Point {
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
pub(super) fn null_out(plugin: &loader::Plugin, config: &ClientConfig) -> Point {
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
