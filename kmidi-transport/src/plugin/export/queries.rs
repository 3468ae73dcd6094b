//! Plugin-side thunks for the three optional reporting entries appended to the first
//! (160-byte) v1 table: `consumer_assignment`, `producer_settings`, `consumer_settings`.
//!
//! The table is static and built before any consumer exists, so `export_transport!`
//! always fills `consumer_assignment`. What it answers depends on the wrapped consumer:
//! one whose [`Consumer::reports_assignment`](crate::Consumer::reports_assignment) is
//! true gets its [`assignment`](crate::Consumer::assignment) copied out (`KMIDI_OK`);
//! one that cannot tell answers `KMIDI_UNSUPPORTED`, which the host takes as "this
//! consumer reports no assignment", the same as a NULL entry. The settings entries
//! format [`Producer::settings`](crate::Producer::settings) /
//! [`Consumer::settings`](crate::Consumer::settings) as `key=value` lines; an empty
//! list is `""` (not reported).
//!
//! Panics are caught as in every other thunk: `consumer_assignment` returns
//! `KMIDI_PANICKED`, a settings entry returns NULL; both poison the handle.

use std::ffi::{c_char, CString};
use std::fmt::Write as _;

use super::guard::guard;
use super::handles::{c_text, consumer, producer, Errors};
use crate::plugin::abi::{
    kmidi_consumer, kmidi_producer, kmidi_topic_partition, KMIDI_INVALID_ARG, KMIDI_OK,
    KMIDI_UNSUPPORTED,
};

/// # Safety
/// Per the ABI: a live consumer, `n_out` valid for a write, and `out` valid for `cap`
/// writes (or NULL when `cap` is 0).
pub unsafe extern "C" fn consumer_assignment(
    c: *mut kmidi_consumer,
    out: *mut kmidi_topic_partition,
    cap: usize,
    n_out: *mut usize,
) -> i32 {
    // SAFETY: the host passes a handle this plugin created.
    let Some(h) = (unsafe { consumer(c) }) else {
        return KMIDI_INVALID_ARG;
    };
    let (inner, assigned) = (&h.inner, &mut h.assigned);
    h.errors.run(|| {
        if n_out.is_null() || (out.is_null() && cap > 0) {
            return Err((
                KMIDI_INVALID_ARG,
                "n_out is NULL, or out is NULL with cap > 0".into(),
            ));
        }
        if !inner.reports_assignment() {
            return Err((
                KMIDI_UNSUPPORTED,
                "this consumer does not report its assignment".into(),
            ));
        }
        let now = inner.assignment();
        // The previous call's strings are no longer borrowed once this one is made.
        *assigned = now.iter().map(|(topic, _)| c_text(topic.clone())).collect();
        for (i, ((_, partition), topic)) in now.iter().zip(assigned.iter()).take(cap).enumerate() {
            // SAFETY: i < cap and `out` is valid for `cap` writes (checked non-NULL); the
            // topic points into `assigned`, kept in the handle until the next call.
            unsafe {
                out.add(i).write(kmidi_topic_partition {
                    topic: topic.as_ptr(),
                    partition: *partition,
                });
            }
        }
        // SAFETY: `n_out` is non-NULL and valid for a write per the ABI.
        unsafe { n_out.write(now.len()) };
        Ok(KMIDI_OK)
    })
}

/// # Safety
/// Per the ABI: a live (possibly poisoned) producer.
pub unsafe extern "C" fn producer_settings(p: *mut kmidi_producer) -> *const c_char {
    // SAFETY: the host passes a handle this plugin created.
    let Some(h) = (unsafe { producer(p) }) else {
        return std::ptr::null();
    };
    let inner = &h.inner;
    lend_settings(&mut h.errors, &mut h.settings, || inner.settings())
}

/// # Safety
/// Per the ABI: a live (possibly poisoned) consumer.
pub unsafe extern "C" fn consumer_settings(c: *mut kmidi_consumer) -> *const c_char {
    // SAFETY: the host passes a handle this plugin created.
    let Some(h) = (unsafe { consumer(c) }) else {
        return std::ptr::null();
    };
    let inner = &h.inner;
    lend_settings(&mut h.errors, &mut h.settings, || inner.settings())
}

/// Runs `settings` and keeps its text in `slot` (borrowed by the host until the next
/// call on the handle); NULL on a poisoned handle or a panic, which poisons it.
fn lend_settings(
    errors: &mut Errors,
    slot: &mut Option<CString>,
    settings: impl FnOnce() -> Vec<(String, String)>,
) -> *const c_char {
    if errors.poisoned {
        return std::ptr::null();
    }
    match guard(settings) {
        Ok(pairs) => slot.insert(c_text(settings_text(&pairs))).as_ptr(),
        Err(panic) => {
            errors.poison(&panic);
            std::ptr::null()
        }
    }
}

/// `key=value` lines, one per setting. A line break in a key or value, or a `=` in a
/// key, would change what the host parses, so they become spaces.
pub(crate) fn settings_text(pairs: &[(String, String)]) -> String {
    let mut text = String::new();
    for (key, value) in pairs {
        let key = key.replace(['\n', '\r', '='], " ");
        let value = value.replace(['\n', '\r'], " ");
        let _ = writeln!(text, "{key}={value}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::settings_text;

    #[test]
    fn settings_are_one_key_value_line_each_with_line_breaks_flattened() {
        let pairs = [
            ("linger.ms".to_string(), "0".to_string()),
            ("a=b".to_string(), "x\ny=z".to_string()),
        ];
        assert_eq!(settings_text(&pairs), "linger.ms=0\na b=x y=z\n");
        assert_eq!(settings_text(&[]), "");
    }
}
