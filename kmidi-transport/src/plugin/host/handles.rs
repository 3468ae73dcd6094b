//! Host-side producer handle: call through the table, copy borrowed data into owned
//! values, and enforce the poisoning rule (after KMIDI_PANICKED only `*_free` is
//! called; after an abandoned call not even that). [`Health`] is shared with the
//! consumer handle (`consumer`).

use std::collections::HashMap;
use std::ffi::CString;
use std::sync::Arc;
use std::time::Duration;

use super::call::{millis, status_error, SendPtr};
use super::loader::Plugin;
use super::queries;
use super::watchdog;
use crate::plugin::abi::{
    kmidi_producer, kmidi_producer_stats, KMIDI_OK, KMIDI_PANICKED, KMIDI_TIMEOUT,
    KMIDI_UNSUPPORTED,
};
use crate::plugin::ffi::{c_string, lossy};
use crate::{DeliveryFailure, Producer, ProducerStats, TransportError};

/// Whether a handle may still be called.
#[derive(Debug)]
pub(super) enum Health {
    Usable,
    /// The plugin panicked; only `*_free` may be called.
    Poisoned(String),
    /// A call was abandoned while still running on a helper thread: the handle is in
    /// use there, so it is never touched again, not even freed (leaked on purpose).
    Abandoned(String),
}

impl Health {
    pub(super) fn check(
        &self,
        plugin: &Plugin,
        kind: &str,
        call: &str,
    ) -> Result<(), TransportError> {
        let name = &plugin.info.name;
        match self {
            Health::Usable => Ok(()),
            Health::Poisoned(why) => Err(TransportError::Client(format!(
                "the {name} plugin's {kind} is poisoned (it panicked earlier: {why}); \
                 refusing to call {call}"
            ))),
            Health::Abandoned(why) => Err(TransportError::Client(format!(
                "the {name} plugin's {kind} was abandoned ({why}); refusing to call {call}"
            ))),
        }
    }
}

/// A producer living in a plugin.
pub(crate) struct PluginProducer {
    plugin: Arc<Plugin>,
    handle: SendPtr<kmidi_producer>,
    health: Health,
    grace: Duration,
    /// Topic names as C strings, so `send` does not allocate on the scheduling thread.
    topics: HashMap<String, CString>,
    /// The ABI reports delivery failures as text only; kmidi produces to one topic per
    /// producer, so the last topic sent to is the best attribution available.
    last_topic: String,
}

impl PluginProducer {
    /// The plugin's handle, for the conformance pass's raw probes.
    pub(super) fn raw(&self) -> *mut kmidi_producer {
        self.handle.0
    }

    pub(crate) fn new(
        plugin: Arc<Plugin>,
        handle: SendPtr<kmidi_producer>,
        grace: Duration,
    ) -> Self {
        Self {
            plugin,
            handle,
            health: Health::Usable,
            grace,
            topics: HashMap::new(),
            last_topic: String::new(),
        }
    }

    fn last_error(&self) -> String {
        let Some(f) = self.plugin.table.0.producer_last_error else {
            return String::new();
        };
        // SAFETY: a live producer handle, used by this thread only; the returned string
        // is copied before any other call on the handle.
        unsafe { lossy(f(self.handle.0)) }.unwrap_or_default()
    }

    /// Turns a failed status into an error, poisoning the handle on PANICKED.
    fn fail(&mut self, call: &str, rc: i32) -> TransportError {
        let detail = self.last_error();
        let err = status_error(&self.plugin, call, rc, detail);
        if rc == KMIDI_PANICKED {
            self.health = Health::Poisoned(err.to_string());
            return TransportError::Client(format!(
                "{err}; the producer is poisoned and will not be called again"
            ));
        }
        err
    }
}

impl Producer for PluginProducer {
    fn send(&mut self, topic: &str, key: &[u8], value: &[u8]) -> Result<(), TransportError> {
        self.health.check(&self.plugin, "producer", "produce")?;
        let Some(produce) = self.plugin.table.0.produce else {
            return Err(status_error(
                &self.plugin,
                "produce",
                KMIDI_UNSUPPORTED,
                String::new(),
            ));
        };
        if !self.topics.contains_key(topic) {
            self.topics
                .insert(topic.to_string(), c_string("topic", topic)?);
        }
        let topic_c = self
            .topics
            .get(topic)
            .map_or(std::ptr::null(), |c| c.as_ptr());
        if self.last_topic != topic {
            self.last_topic = topic.to_string();
        }
        // SAFETY: the handle is live and used only by this thread; topic, key and value
        // are borrowed for the duration of the call, as the ABI specifies.
        let rc = unsafe {
            produce(
                self.handle.0,
                topic_c,
                key.as_ptr(),
                key.len(),
                value.as_ptr(),
                value.len(),
            )
        };
        if rc == KMIDI_OK {
            Ok(())
        } else {
            Err(self.fail("produce", rc))
        }
    }

    fn flush(&mut self, timeout: Duration) -> Result<(), TransportError> {
        self.health.check(&self.plugin, "producer", "flush")?;
        let Some(flush) = self.plugin.table.0.flush else {
            return Ok(()); // nothing to wait for that the host could ask about
        };
        let handle = self.handle;
        let deadline = timeout + self.grace;
        // Bounded: flush runs once, at the end, where a stuck plugin would otherwise
        // hang `kmidi player` past --flush-timeout.
        let outcome = watchdog::bounded(
            "flush",
            deadline,
            // The handle is live; the helper thread is its only user until the call
            // returns (on abandonment the handle is never touched again).
            move || {
                let handle = handle; // the whole Send wrapper, not its raw field
                                     // SAFETY: see above.
                unsafe { flush(handle.0, millis(timeout)) }
            },
            |_| (),
        );
        match outcome {
            Some(KMIDI_OK) => Ok(()),
            Some(KMIDI_TIMEOUT) => Err(TransportError::Timeout {
                doing: "waiting for queued records to be delivered".to_string(),
                timeout,
            }),
            Some(rc) => Err(self.fail("flush", rc)),
            None => {
                let why = format!("flush did not return within {deadline:?}");
                self.health = Health::Abandoned(why.clone());
                Err(TransportError::Client(format!(
                    "the {} plugin ignored its flush timeout: {why}; the producer was \
                     abandoned (a blocked native call cannot be interrupted)",
                    self.plugin.info.name
                )))
            }
        }
    }

    fn take_failures(&mut self) -> Vec<DeliveryFailure> {
        let mut out = Vec::new();
        let Some(take) = self.plugin.table.0.producer_take_failure else {
            return out;
        };
        if self.health.check(&self.plugin, "producer", "").is_err() {
            return out;
        }
        // Bounded so a plugin that keeps answering OK cannot spin the caller forever.
        for _ in 0..100_000 {
            let mut error = std::ptr::null();
            // SAFETY: live handle, this thread only; `error` is a valid out pointer.
            let rc = unsafe { take(self.handle.0, &mut error) };
            match rc {
                KMIDI_OK => out.push(DeliveryFailure {
                    topic: self.last_topic.clone(),
                    key: None,
                    // SAFETY: valid until the next call on the handle; copied now.
                    error: unsafe { lossy(error) }.unwrap_or_else(|| "unknown error".into()),
                }),
                KMIDI_PANICKED => {
                    let err = self.fail("producer_take_failure", rc);
                    out.push(DeliveryFailure {
                        topic: self.last_topic.clone(),
                        key: None,
                        error: err.to_string(),
                    });
                    break;
                }
                _ => break,
            }
        }
        out
    }

    fn stats(&self) -> ProducerStats {
        let Some(stats) = self.plugin.table.0.producer_stats else {
            return ProducerStats::default();
        };
        if !matches!(self.health, Health::Usable) {
            return ProducerStats::default();
        }
        let mut s = kmidi_producer_stats::default();
        // SAFETY: live handle; `PluginProducer` is not Sync, so no other thread is in
        // a call on it; `s` is a valid out pointer.
        let rc = unsafe { stats(self.handle.0, &mut s) };
        if rc != KMIDI_OK {
            // A panic here cannot poison through &self; the next &mut call will see
            // the plugin's state. Stats are informational.
            return ProducerStats::default();
        }
        ProducerStats {
            sent: s.sent,
            delivered: s.delivered,
            failed: s.failed,
        }
    }

    fn settings(&self) -> Vec<(String, String)> {
        let Some(settings) = self.plugin.table.0.producer_settings else {
            return Vec::new();
        };
        if !matches!(self.health, Health::Usable) {
            return Vec::new();
        }
        // SAFETY: live handle; `PluginProducer` is not Sync, so no other thread is in a
        // call on it; the returned text is borrowed until the next call and copied at once.
        let text = unsafe { lossy(settings(self.handle.0)) };
        queries::parse_settings(&self.plugin.info.name, "producer_settings", text)
    }
}

impl Drop for PluginProducer {
    fn drop(&mut self) {
        if matches!(self.health, Health::Abandoned(_)) {
            return;
        }
        if let Some(free) = self.plugin.table.0.producer_free {
            // SAFETY: the handle is live and this is its last use; free joins the
            // plugin's threads for it.
            unsafe { free(self.handle.0) }
        }
    }
}
