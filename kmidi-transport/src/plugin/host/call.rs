//! What every host-side call into a plugin shares: converting timeouts, turning a
//! status code and the plugin's text into a [`TransportError`], and the pointer wrapper
//! that lets a bounded call run on the watchdog's helper thread.

use std::time::Duration;

use super::loader::Plugin;
use crate::plugin::abi::{KMIDI_INVALID_ARG, KMIDI_PANICKED, KMIDI_TRANSIENT, KMIDI_UNSUPPORTED};
use crate::TransportError;

/// A raw pointer that may cross to the watchdog's helper thread.
#[derive(Debug)]
pub(crate) struct SendPtr<T>(pub *mut T);

// Manual impls: derive would require `T: Copy`, but only the pointer is copied.
impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SendPtr<T> {}

// SAFETY: the pointers sent are plugin handles; the ABI allows a handle to be used from
// any thread as long as only one thread uses it at a time, which the host guarantees by
// never touching a handle again once a helper thread was abandoned with it.
unsafe impl<T> Send for SendPtr<T> {}

pub(crate) fn millis(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

/// The error for a status code other than OK/TIMEOUT, with the plugin's own text.
pub(crate) fn status_error(plugin: &Plugin, call: &str, rc: i32, detail: String) -> TransportError {
    let name = &plugin.info.name;
    let detail = if detail.is_empty() {
        "no details from the plugin".to_string()
    } else {
        detail
    };
    match rc {
        KMIDI_TRANSIENT => TransportError::Transient(detail),
        KMIDI_UNSUPPORTED => TransportError::Unsupported {
            transport: name.clone(),
            what: call.to_string(),
        },
        KMIDI_PANICKED => TransportError::Client(format!(
            "the {name} transport plugin panicked in {call}: {detail}"
        )),
        KMIDI_INVALID_ARG => {
            TransportError::Client(format!("{name} plugin: {call}: invalid argument: {detail}"))
        }
        _ => TransportError::Client(format!("{name} plugin: {call} failed: {detail}")),
    }
}

pub(crate) fn abandoned(plugin: &Plugin, call: &str, waited: Duration) -> TransportError {
    TransportError::Timeout {
        doing: format!(
            "waiting for the {} transport plugin ({}) to return from {call}; it ignored its \
             timeout and was abandoned (a blocked native call cannot be interrupted)",
            plugin.info.name,
            plugin.path.display()
        ),
        timeout: waited,
    }
}
