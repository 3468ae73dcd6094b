//! Plugin-side handle thunks: what a `kmidi_producer*` / `kmidi_consumer*` really is
//! when the plugin was made with `export_transport!`, and the per-handle entry points.
//!
//! They need no transport type (they work on `Box<dyn Producer>`/`Box<dyn Consumer>`),
//! so one copy serves every exporting library. Each keeps its last error as a CString
//! in the handle, valid until the next call on that handle, as the ABI says. The
//! optional reporting entries (assignment, settings) are in `queries`.

use std::collections::VecDeque;
use std::ffi::{c_char, CString};

use super::guard::{arg_str, duration, guard, status_of};
use crate::plugin::abi::{
    kmidi_consumer, kmidi_message, kmidi_producer, kmidi_producer_stats, KMIDI_INVALID_ARG,
    KMIDI_OK, KMIDI_PANICKED, KMIDI_TIMEOUT,
};
use crate::{Consumer, DeliveryFailure, Producer, Record};

pub(super) fn c_text(s: String) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// Last error and poisoning, common to both handle kinds.
#[derive(Default)]
pub(super) struct Errors {
    last: Option<CString>,
    pub(super) poisoned: bool,
}

impl Errors {
    /// Runs one call on the handle: refuses it if poisoned, catches a panic (and
    /// poisons), records an error's text.
    pub(super) fn run(&mut self, f: impl FnOnce() -> Result<i32, (i32, String)>) -> i32 {
        if self.poisoned {
            return KMIDI_PANICKED;
        }
        match guard(f) {
            Ok(Ok(rc)) => {
                self.last = None;
                rc
            }
            Ok(Err((rc, msg))) => {
                self.last = Some(c_text(msg));
                rc
            }
            Err(panic) => {
                self.poison(&panic);
                KMIDI_PANICKED
            }
        }
    }

    /// Poisons the handle after a panic with message `panic`.
    pub(super) fn poison(&mut self, panic: &str) {
        self.poisoned = true;
        self.last = Some(c_text(format!("panicked: {panic}")));
    }

    fn last_ptr(&self) -> *const c_char {
        self.last.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
    }
}

pub(crate) struct ProducerHandle {
    pub(super) inner: Box<dyn Producer>,
    pub(super) errors: Errors,
    pending: VecDeque<DeliveryFailure>,
    /// The failure text last handed out by producer_take_failure.
    failure: Option<CString>,
    /// The text last handed out by producer_settings.
    pub(super) settings: Option<CString>,
}

impl ProducerHandle {
    pub(crate) fn into_raw(inner: Box<dyn Producer>) -> *mut kmidi_producer {
        let h = Box::new(ProducerHandle {
            inner,
            errors: Errors::default(),
            pending: VecDeque::new(),
            failure: None,
            settings: None,
        });
        Box::into_raw(h).cast()
    }
}

pub(crate) struct ConsumerHandle {
    pub(super) inner: Box<dyn Consumer>,
    pub(super) errors: Errors,
    /// The last polled record and its topic as a C string: what the borrowed
    /// `kmidi_message` points into, kept until the next poll or free.
    current: Option<(Record, CString)>,
    /// The topic names consumer_assignment last lent out, kept until its next call.
    pub(super) assigned: Vec<CString>,
    /// The text last handed out by consumer_settings.
    pub(super) settings: Option<CString>,
}

impl ConsumerHandle {
    pub(crate) fn into_raw(inner: Box<dyn Consumer>) -> *mut kmidi_consumer {
        let h = Box::new(ConsumerHandle {
            inner,
            errors: Errors::default(),
            current: None,
            assigned: Vec::new(),
            settings: None,
        });
        Box::into_raw(h).cast()
    }
}

/// # Safety
/// `p` is NULL or a live handle from `ProducerHandle::into_raw`, used by one thread.
pub(super) unsafe fn producer<'a>(p: *mut kmidi_producer) -> Option<&'a mut ProducerHandle> {
    // SAFETY: per the function's contract.
    unsafe { p.cast::<ProducerHandle>().as_mut() }
}

/// # Safety
/// `c` is NULL or a live handle from `ConsumerHandle::into_raw`, used by one thread.
pub(super) unsafe fn consumer<'a>(c: *mut kmidi_consumer) -> Option<&'a mut ConsumerHandle> {
    // SAFETY: per the function's contract.
    unsafe { c.cast::<ConsumerHandle>().as_mut() }
}

/// # Safety
/// Per the ABI: a live producer, borrowed buffers valid for the call.
pub unsafe extern "C" fn produce(
    p: *mut kmidi_producer,
    topic: *const c_char,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> i32 {
    // SAFETY: the host passes a handle this plugin created.
    let Some(h) = (unsafe { producer(p) }) else {
        return KMIDI_INVALID_ARG;
    };
    let inner = &mut h.inner;
    h.errors.run(|| {
        // A NULL key or value (a null record part in Kafka) is sent as empty:
        // `Producer::send` has no null.
        let bytes = |ptr: *const u8, len: usize| -> &[u8] {
            if ptr.is_null() || len == 0 {
                &[]
            } else {
                // SAFETY: non-NULL, and borrowed per the ABI for the duration of the call.
                unsafe { std::slice::from_raw_parts(ptr, len) }
            }
        };
        // SAFETY: topic is a borrowed C string per the ABI.
        let topic = unsafe { arg_str("topic", topic) }?;
        inner
            .send(topic, bytes(key, key_len), bytes(value, value_len))
            .map(|()| KMIDI_OK)
            .map_err(|e| (status_of(&e), e.to_string()))
    })
}

/// # Safety
/// Per the ABI: a live producer.
pub unsafe extern "C" fn flush(p: *mut kmidi_producer, timeout_ms: i32) -> i32 {
    // SAFETY: the host passes a handle this plugin created.
    let Some(h) = (unsafe { producer(p) }) else {
        return KMIDI_INVALID_ARG;
    };
    let inner = &mut h.inner;
    h.errors.run(|| match inner.flush(duration(timeout_ms)) {
        Ok(()) => Ok(KMIDI_OK),
        Err(e) => Err((status_of(&e), e.to_string())),
    })
}

/// # Safety
/// Per the ABI: a live producer and a valid `out`.
pub unsafe extern "C" fn producer_stats(
    p: *mut kmidi_producer,
    out: *mut kmidi_producer_stats,
) -> i32 {
    // SAFETY: the host passes a handle this plugin created.
    let Some(h) = (unsafe { producer(p) }) else {
        return KMIDI_INVALID_ARG;
    };
    if out.is_null() {
        return KMIDI_INVALID_ARG;
    }
    let inner = &h.inner;
    h.errors.run(|| {
        let s = inner.stats();
        // SAFETY: `out` is non-NULL and valid for writes per the ABI.
        unsafe {
            *out = kmidi_producer_stats {
                sent: s.sent,
                delivered: s.delivered,
                failed: s.failed,
            }
        };
        Ok(KMIDI_OK)
    })
}

/// # Safety
/// Per the ABI: a live producer and a valid `error` out pointer.
pub unsafe extern "C" fn producer_take_failure(
    p: *mut kmidi_producer,
    error: *mut *const c_char,
) -> i32 {
    // SAFETY: the host passes a handle this plugin created.
    let Some(h) = (unsafe { producer(p) }) else {
        return KMIDI_INVALID_ARG;
    };
    if error.is_null() {
        return KMIDI_INVALID_ARG;
    }
    let (inner, pending, failure) = (&mut h.inner, &mut h.pending, &mut h.failure);
    h.errors.run(|| {
        if pending.is_empty() {
            pending.extend(inner.take_failures());
        }
        let Some(f) = pending.pop_front() else {
            return Ok(KMIDI_TIMEOUT);
        };
        let text = failure.insert(c_text(f.error));
        // SAFETY: `error` is non-NULL and valid for writes; the string lives in the
        // handle until the next call on it.
        unsafe { *error = text.as_ptr() };
        Ok(KMIDI_OK)
    })
}

/// # Safety
/// Per the ABI: a live (possibly poisoned) producer.
pub unsafe extern "C" fn producer_last_error(p: *mut kmidi_producer) -> *const c_char {
    // SAFETY: the host passes a handle this plugin created.
    unsafe { producer(p) }.map_or(std::ptr::null(), |h| h.errors.last_ptr())
}

/// # Safety
/// Per the ABI: a live producer, not used again.
pub unsafe extern "C" fn producer_free(p: *mut kmidi_producer) {
    if p.is_null() {
        return;
    }
    // SAFETY: the handle came from Box::into_raw and is freed exactly once. A panic in
    // a Drop impl must not unwind into C; there is nobody left to report it to.
    let _ = guard(|| drop(unsafe { Box::from_raw(p.cast::<ProducerHandle>()) }));
}

/// # Safety
/// Per the ABI: a live consumer and a valid `out`.
pub unsafe extern "C" fn poll(
    c: *mut kmidi_consumer,
    timeout_ms: i32,
    out: *mut kmidi_message,
) -> i32 {
    // SAFETY: the host passes a handle this plugin created.
    let Some(h) = (unsafe { consumer(c) }) else {
        return KMIDI_INVALID_ARG;
    };
    if out.is_null() {
        // Through `run`, so consumer_last_error says why, as for every other refusal.
        return h.errors.run(|| {
            Err((
                KMIDI_INVALID_ARG,
                "out (the message to fill) is NULL".into(),
            ))
        });
    }
    let (inner, current) = (&mut h.inner, &mut h.current);
    // The previous message is no longer borrowed once poll is called again.
    *current = None;
    h.errors.run(|| {
        let Some(record) = inner
            .poll(duration(timeout_ms))
            .map_err(|e| (status_of(&e), e.to_string()))?
        else {
            return Ok(KMIDI_TIMEOUT);
        };
        let topic = c_text(record.topic.clone());
        let (record, topic) = &*current.insert((record, topic));
        let slice = |b: &Option<Vec<u8>>| {
            b.as_ref()
                .map_or((std::ptr::null(), 0), |v| (v.as_ptr(), v.len()))
        };
        let (key, key_len) = slice(&record.key);
        let (value, value_len) = slice(&record.value);
        // SAFETY: `out` is non-NULL and valid for writes; the pointers point into
        // `current`, which the handle keeps until the next poll or free.
        unsafe {
            *out = kmidi_message {
                topic: topic.as_ptr(),
                partition: record.partition,
                offset: record.offset,
                key,
                key_len,
                value,
                value_len,
                timestamp_ms: record.timestamp_ms.unwrap_or(-1),
            }
        };
        Ok(KMIDI_OK)
    })
}

/// # Safety
/// Per the ABI: a live consumer.
pub unsafe extern "C" fn commit(c: *mut kmidi_consumer) -> i32 {
    // SAFETY: the host passes a handle this plugin created.
    let Some(h) = (unsafe { consumer(c) }) else {
        return KMIDI_INVALID_ARG;
    };
    let inner = &mut h.inner;
    h.errors.run(|| {
        inner
            .commit()
            .map(|()| KMIDI_OK)
            .map_err(|e| (status_of(&e), e.to_string()))
    })
}

/// # Safety
/// Per the ABI: a live (possibly poisoned) consumer.
pub unsafe extern "C" fn consumer_last_error(c: *mut kmidi_consumer) -> *const c_char {
    // SAFETY: the host passes a handle this plugin created.
    unsafe { consumer(c) }.map_or(std::ptr::null(), |h| h.errors.last_ptr())
}

/// # Safety
/// Per the ABI: a live consumer, not used again.
pub unsafe extern "C" fn consumer_free(c: *mut kmidi_consumer) {
    if c.is_null() {
        return;
    }
    // SAFETY: the handle came from Box::into_raw and is freed exactly once.
    let _ = guard(|| drop(unsafe { Box::from_raw(c.cast::<ConsumerHandle>()) }));
}
