//! Host-side consumer handle: poll through the table and copy each borrowed message
//! into an owned [`Record`], report the assignment and settings through the optional
//! entries (`queries`), and enforce the poisoning rule as the producer does.
//!
//! Health sits in a `RefCell` because `assignment()` takes `&self` and may still learn
//! that the plugin panicked; `PluginConsumer` is not `Sync`, so only one thread ever
//! borrows it.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use super::call::{millis, status_error, SendPtr};
use super::handles::Health;
use super::loader::Plugin;
use super::queries::{self, AssignmentCache};
use crate::plugin::abi::{
    kmidi_consumer, kmidi_message, KMIDI_OK, KMIDI_PANICKED, KMIDI_TIMEOUT, KMIDI_UNSUPPORTED,
};
use crate::plugin::ffi::lossy;
use crate::{Consumer, Record, TransportError};

/// A consumer living in a plugin.
pub(crate) struct PluginConsumer {
    plugin: Arc<Plugin>,
    handle: SendPtr<kmidi_consumer>,
    health: RefCell<Health>,
    assignment: RefCell<AssignmentCache>,
}

impl PluginConsumer {
    /// The plugin's handle, for the conformance pass's raw probes.
    pub(super) fn raw(&self) -> *mut kmidi_consumer {
        self.handle.0
    }

    pub(crate) fn new(plugin: Arc<Plugin>, handle: SendPtr<kmidi_consumer>) -> Self {
        Self {
            plugin,
            handle,
            health: RefCell::new(Health::Usable),
            assignment: RefCell::new(AssignmentCache::default()),
        }
    }

    fn check(&self, call: &str) -> Result<(), TransportError> {
        self.health.borrow().check(&self.plugin, "consumer", call)
    }

    fn last_error(&self) -> String {
        match self.plugin.table.0.consumer_last_error {
            // SAFETY: live handle, this thread only; the string is copied at once.
            Some(f) => unsafe { lossy(f(self.handle.0)) }.unwrap_or_default(),
            None => String::new(),
        }
    }

    fn fail(&self, call: &str, rc: i32) -> TransportError {
        let err = status_error(&self.plugin, call, rc, self.last_error());
        if rc == KMIDI_PANICKED {
            *self.health.borrow_mut() = Health::Poisoned(err.to_string());
            return TransportError::Client(format!(
                "{err}; the consumer is poisoned and will not be called again"
            ));
        }
        err
    }
}

/// Larger than any record a Kafka broker accepts (its own limit is 1 MiB by default,
/// configurable, practically far below this): a longer "message" is garbage from a
/// broken plugin, and reading it could fault, so it is refused before it is touched.
const MAX_PLAUSIBLE_LEN: usize = 1 << 30;

/// Copies a borrowed message into an owned record, refusing what cannot be one.
///
/// # Safety
/// `m` was filled by a successful poll and the consumer was not called since.
unsafe fn to_record(m: &kmidi_message) -> Result<Record, String> {
    if m.topic.is_null() {
        return Err("a polled message without a topic (NULL)".to_string());
    }
    for (what, p, len) in [("key", m.key, m.key_len), ("value", m.value, m.value_len)] {
        if !p.is_null() && len > MAX_PLAUSIBLE_LEN {
            return Err(format!(
                "a polled message whose {what} claims {len} bytes (more than {MAX_PLAUSIBLE_LEN})"
            ));
        }
    }
    let bytes = |p: *const u8, len: usize| {
        // SAFETY: per the ABI, a non-NULL pointer is valid for `len` bytes until the
        // next call on the consumer; `len` was checked to be plausible above.
        (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts(p, len) }.to_vec())
    };
    Ok(Record {
        // SAFETY: non-NULL, NUL-terminated per the ABI, valid until the next call.
        topic: unsafe { lossy(m.topic) }.unwrap_or_default(),
        partition: m.partition,
        offset: m.offset,
        key: bytes(m.key, m.key_len),
        value: bytes(m.value, m.value_len),
        timestamp_ms: (m.timestamp_ms >= 0).then_some(m.timestamp_ms),
    })
}

impl Consumer for PluginConsumer {
    fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, TransportError> {
        self.check("poll")?;
        let Some(poll) = self.plugin.table.0.poll else {
            return Err(status_error(
                &self.plugin,
                "poll",
                KMIDI_UNSUPPORTED,
                String::new(),
            ));
        };
        let mut m = kmidi_message::EMPTY;
        // SAFETY: live handle, this thread only; `m` is a valid out pointer. Direct
        // call, not bounded: see the module notes in `host`.
        let rc = unsafe { poll(self.handle.0, millis(timeout), &mut m) };
        match rc {
            // SAFETY: filled by this successful poll, copied before the next call.
            KMIDI_OK => unsafe { to_record(&m) }.map(Some).map_err(|what| {
                TransportError::Client(format!(
                    "transport plugin {} returned {what}: a bug in the plugin, so the \
                     consumer stops rather than guess what the message was",
                    self.plugin.path.display()
                ))
            }),
            KMIDI_TIMEOUT => Ok(None),
            rc => Err(self.fail("poll", rc)),
        }
    }

    fn commit(&mut self) -> Result<(), TransportError> {
        self.check("commit")?;
        let Some(commit) = self.plugin.table.0.commit else {
            return Err(status_error(
                &self.plugin,
                "commit",
                KMIDI_UNSUPPORTED,
                String::new(),
            ));
        };
        // SAFETY: live handle, this thread only.
        let rc = unsafe { commit(self.handle.0) };
        if rc == KMIDI_OK {
            Ok(())
        } else {
            Err(self.fail("commit", rc))
        }
    }

    fn reports_assignment(&self) -> bool {
        if self.plugin.table.0.consumer_assignment.is_none() {
            return false;
        }
        if self.assignment.borrow().answered().is_none() {
            // The first answer says whether this consumer can tell at all: an exported
            // Rust consumer that cannot answers KMIDI_UNSUPPORTED.
            let _ = self.assignment();
        }
        self.assignment.borrow().answered() != Some(false)
    }

    fn assignment(&self) -> Vec<(String, i32)> {
        let Some(entry) = self.plugin.table.0.consumer_assignment else {
            return Vec::new();
        };
        if self.check("consumer_assignment").is_err() {
            return self.assignment.borrow().last().to_vec();
        }
        // SAFETY: live, usable handle; `PluginConsumer` is not Sync, so no other thread is
        // in a call on it; `fetch` copies every borrowed string before returning.
        let answer = unsafe { queries::fetch_assignment(entry, self.handle.0) };
        let name = &self.plugin.info.name;
        let mut cache = self.assignment.borrow_mut();
        match answer {
            Ok(now) => cache.set(now),
            Err(queries::Refusal::Status(KMIDI_UNSUPPORTED)) => cache.unsupported(),
            Err(queries::Refusal::Status(rc)) => {
                let err = self.fail("consumer_assignment", rc);
                tracing::debug!("{name} plugin: keeping the last known assignment: {err}");
            }
            Err(queries::Refusal::Bogus(what)) => tracing::debug!(
                "{name} plugin: consumer_assignment returned {what}; keeping the last known \
                 assignment"
            ),
        }
        cache.last().to_vec()
    }

    fn settings(&self) -> Vec<(String, String)> {
        let Some(settings) = self.plugin.table.0.consumer_settings else {
            return Vec::new();
        };
        if self.check("consumer_settings").is_err() {
            return Vec::new();
        }
        // SAFETY: live, usable handle, this thread only; the text is copied at once.
        let text = unsafe { lossy(settings(self.handle.0)) };
        queries::parse_settings(&self.plugin.info.name, "consumer_settings", text)
    }
}

impl Drop for PluginConsumer {
    fn drop(&mut self) {
        if matches!(*self.health.borrow(), Health::Abandoned(_)) {
            return;
        }
        if let Some(free) = self.plugin.table.0.consumer_free {
            // SAFETY: the handle is live and this is its last use.
            unsafe { free(self.handle.0) }
        }
    }
}
