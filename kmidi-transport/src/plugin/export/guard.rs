//! What every exported thunk shares: catching panics, mapping errors to status codes,
//! and reading the C arguments a call was given (strings, the config array, errbuf).

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use crate::plugin::abi::{
    kmidi_kv, KMIDI_ERROR, KMIDI_INVALID_ARG, KMIDI_OK, KMIDI_PANICKED, KMIDI_TIMEOUT,
    KMIDI_TRANSIENT, KMIDI_UNSUPPORTED,
};
use crate::plugin::ffi::write_errbuf;
use crate::{ClientConfig, TransportError};
/// A timeout argument; a negative one means "do not wait".
pub(super) fn duration(timeout_ms: i32) -> Duration {
    Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0))
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}

/// Runs plugin code, turning a panic into its message.
pub(crate) fn guard<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(&*p))
}

/// The status code for a transport error.
pub(crate) fn status_of(err: &TransportError) -> i32 {
    match err {
        TransportError::Unsupported { .. } => KMIDI_UNSUPPORTED,
        TransportError::Transient(_) => KMIDI_TRANSIENT,
        TransportError::Config { .. } => KMIDI_INVALID_ARG,
        TransportError::Unreachable { .. } | TransportError::Timeout { .. } => KMIDI_TIMEOUT,
        _ => KMIDI_ERROR,
    }
}

/// A borrowed C string as UTF-8, or an INVALID_ARG error naming it.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
pub(crate) unsafe fn arg_str<'a>(what: &str, p: *const c_char) -> Result<&'a str, (i32, String)> {
    if p.is_null() {
        return Err((KMIDI_INVALID_ARG, format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| (KMIDI_INVALID_ARG, format!("{what} is not valid UTF-8")))
}

/// The `kmidi_kv` array as a `ClientConfig`.
///
/// # Safety
/// `kv` is NULL (with n == 0) or points to `n` entries of valid C strings.
pub(super) unsafe fn config_from(
    kv: *const kmidi_kv,
    n: usize,
) -> Result<ClientConfig, (i32, String)> {
    if n == 0 {
        return Ok(ClientConfig::new());
    }
    if kv.is_null() {
        return Err((KMIDI_INVALID_ARG, "config is NULL but n_config > 0".into()));
    }
    // SAFETY: `n` valid entries per the caller's contract.
    let entries = unsafe { std::slice::from_raw_parts(kv, n) };
    let mut config = ClientConfig::new();
    for e in entries {
        // SAFETY: each entry holds valid C strings per the ABI.
        let key = unsafe { arg_str("a config key", e.key) }?;
        // SAFETY: as above.
        let value = unsafe { arg_str(&format!("config value of {key:?}"), e.value) }?;
        config.set(key, value);
    }
    Ok(config)
}

/// Runs a handle-less call (constructor, admin): panics and errors go to errbuf.
///
/// # Safety
/// `errbuf` is NULL or valid for `errlen` bytes.
pub(super) unsafe fn no_handle_call(
    errbuf: *mut c_char,
    errlen: usize,
    f: impl FnOnce() -> Result<(), (i32, String)>,
) -> i32 {
    let (rc, msg) = match guard(f) {
        Ok(Ok(())) => return KMIDI_OK,
        Ok(Err((rc, msg))) => (rc, msg),
        Err(panic) => (KMIDI_PANICKED, format!("panicked: {panic}")),
    };
    // SAFETY: the caller's errbuf contract.
    unsafe { write_errbuf(errbuf, errlen, &msg) };
    rc
}

pub(super) fn failed(err: TransportError) -> (i32, String) {
    match err {
        // The host rebuilds this error from KMIDI_TIMEOUT around the text: pass only
        // the detail, or the user reads "cannot reach Kafka at ..." twice.
        TransportError::Unreachable { detail, .. } => (KMIDI_TIMEOUT, detail),
        other => (status_of(&other), other.to_string()),
    }
}
