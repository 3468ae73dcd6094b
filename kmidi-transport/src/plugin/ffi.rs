//! Small helpers both sides of the ABI share: owned `kmidi_kv` arrays built from a
//! `ClientConfig`, reading borrowed C strings, and writing the caller's `errbuf`.
//!
//! Kept apart from `loader`/`host`/`export` so each unsafe rule (NUL termination,
//! lifetimes of borrowed pointers) is written down once.

use std::ffi::{c_char, CStr, CString};

use crate::plugin::abi::kmidi_kv;
use crate::{ClientConfig, TransportError};

/// `key=value` pairs as C strings plus the `kmidi_kv` array pointing into them.
///
/// The CStrings own heap buffers that never move while the list exists, so the
/// pointers in `kvs` stay valid for the list's lifetime, even if the list is moved.
pub struct KvList {
    _strings: Vec<CString>,
    kvs: Vec<kmidi_kv>,
}

// SAFETY: the raw pointers in `kvs` point only into `_strings`, which this value owns
// and never mutates; sending the whole list to another thread moves both together.
unsafe impl Send for KvList {}
// SAFETY: never mutated after construction; shared reads of C strings are fine.
unsafe impl Sync for KvList {}

impl KvList {
    /// Converts properties; a NUL byte inside a key or value cannot cross a C API.
    pub fn new<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, TransportError> {
        let mut strings = Vec::new();
        let mut kvs = Vec::new();
        for (k, v) in pairs {
            let key = c_string(k, k)?;
            let value = c_string(k, v)?;
            kvs.push(kmidi_kv {
                key: key.as_ptr(),
                value: value.as_ptr(),
            });
            strings.push(key);
            strings.push(value);
        }
        Ok(Self {
            _strings: strings,
            kvs,
        })
    }

    pub fn from_config(config: &ClientConfig) -> Result<Self, TransportError> {
        Self::new(config.iter())
    }

    pub fn as_ptr(&self) -> *const kmidi_kv {
        self.kvs.as_ptr()
    }

    #[allow(clippy::len_without_is_empty)] // only ever passed to C with its pointer
    pub fn len(&self) -> usize {
        self.kvs.len()
    }
}

/// A C string for a property, with an error naming the property on interior NULs.
pub fn c_string(key: &str, s: &str) -> Result<CString, TransportError> {
    CString::new(s).map_err(|_| TransportError::Config {
        key: key.to_string(),
        reason: "contains a NUL byte, which cannot be passed to a plugin".to_string(),
    })
}

/// Copies a C string the other side lent us; NULL reads as `None`, and invalid UTF-8
/// is replaced rather than refused because this is only used for error text.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for the duration of the call.
pub unsafe fn lossy(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// The text a plugin wrote into `errbuf`, up to the first NUL (or the buffer's end if
/// the plugin forgot to terminate it).
pub fn errbuf_text(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).trim().to_string()
}

/// Writes `msg` into a caller's buffer, truncated at a UTF-8 boundary to fit, always
/// NUL-terminated; does nothing if there is no buffer.
///
/// # Safety
/// `buf` is NULL or valid for writes of `len` bytes.
pub unsafe fn write_errbuf(buf: *mut c_char, len: usize, msg: &str) {
    if buf.is_null() || len == 0 {
        return;
    }
    let mut n = msg.len().min(len - 1);
    while !msg.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: n + 1 <= len bytes are written, within the caller-guaranteed buffer;
    // source and destination cannot overlap (msg is Rust-owned).
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), n);
        *buf.add(n) = 0;
    }
}

/// Size of the constructor error buffers the host hands to plugins.
pub const ERRBUF_LEN: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errbuf_writing_truncates_on_a_char_boundary_and_terminates() {
        let mut buf = [0x55u8; 6];
        // SAFETY: buf is a live 6-byte array.
        unsafe { write_errbuf(buf.as_mut_ptr().cast(), buf.len(), "héllo wörld") };
        assert_eq!(errbuf_text(&buf), "héll");
        assert_eq!(buf[5], 0);
    }

    #[test]
    fn unterminated_errbuf_is_read_to_its_end() {
        assert_eq!(errbuf_text(b"abc"), "abc");
    }

    #[test]
    fn properties_with_nul_bytes_are_refused_by_name() {
        let err = KvList::new([("sasl.password", "a\0b")])
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("sasl.password"));
    }
}
