//! The plugin-author side: turn a safe Rust [`Transport`] into a `.so` plugin.
//!
//! ```ignore
//! #[derive(Default)]
//! pub struct MyTransport;
//! impl kmidi_transport::Transport for MyTransport { /* ... */ }
//! kmidi_transport::export_transport!(MyTransport);
//! ```
//!
//! The macro emits the one exported function, `kmidi_transport_v1`, whose table points
//! at the thunks below. The thunks that need the transport type (constructors and
//! admin calls) are generic functions instantiated for it; the per-handle ones work on
//! `Box<dyn Producer>`/`Box<dyn Consumer>` and need no type. Every thunk runs its Rust
//! code inside `catch_unwind`: a panic returns `KMIDI_PANICKED`, keeps its message as
//! the handle's last error (or in errbuf) and poisons the handle. The functions are
//! plain `extern "C"`, so a panic that escaped anyway would abort, never unwind into C.
//!
//! `<T as Default>::default()` is called for every constructor and admin call (and once
//! for `info`): a transport type is expected to be a cheap value, with state in the
//! producers and consumers it creates.

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use crate::plugin::abi::{
    kmidi_consumer, kmidi_kv, kmidi_producer, kmidi_transport_table, KMIDI_CAP_CONSUMER_GROUPS,
    KMIDI_CAP_HEADERS, KMIDI_CAP_IDEMPOTENCE, KMIDI_CAP_SASL, KMIDI_CAP_TIMESTAMPS, KMIDI_CAP_TLS,
    KMIDI_ERROR, KMIDI_INVALID_ARG, KMIDI_OFFSET_EARLIEST, KMIDI_OK, KMIDI_PANICKED, KMIDI_TIMEOUT,
    KMIDI_TRANSIENT, KMIDI_TRANSPORT_ABI_VERSION, KMIDI_TRANSPORT_MAGIC,
    KMIDI_TRANSPORT_TABLE_V1_SIZE, KMIDI_UNSUPPORTED,
};
use crate::plugin::export_handles::{self, ConsumerHandle, ProducerHandle};
use crate::plugin::ffi::write_errbuf;
use crate::{ClientConfig, OffsetReset, Subscription, TopicSpec, Transport, TransportError};

/// Turns a type implementing `kmidi_transport::Transport + Default` into a kmidi
/// transport plugin: `kmidi_transport::export_transport!(MyTransport);` at the crate
/// root of a `cdylib`. Use it once per library.
#[macro_export]
macro_rules! export_transport {
    ($t:ty) => {
        /// The kmidi transport plugin entry point (ABI version 1).
        // The one unmangled symbol the host looks up: the plugin boundary itself.
        #[allow(unsafe_code)]
        #[no_mangle]
        pub extern "C" fn kmidi_transport_v1(
            host_abi_version: u32,
        ) -> *const $crate::plugin::abi::kmidi_transport_table {
            static TABLE: $crate::plugin::export::TableCell =
                $crate::plugin::export::TableCell::new();
            $crate::plugin::export::table_for::<$t>(&TABLE, host_abi_version)
        }
    };
}

/// The table and the strings it points to, built once on the first call.
pub struct Built {
    table: kmidi_transport_table,
    // The table's name/library/library_version point into these. They must be
    // 'static and NUL-terminated, but come from `Transport::info()`, which returns
    // owned Strings at run time: so they are built on the first call and kept in the
    // `static` cell for the life of the process (never freed, like the library).
    _strings: [CString; 3],
}

/// Storage for the table, one `static` per exporting library (the macro declares it).
pub struct TableCell(OnceLock<Built>);

// SAFETY: `Built` is written once (OnceLock) and then only read; its raw pointers point
// into the CStrings it owns, which live as long as the static.
unsafe impl Sync for TableCell {}
// SAFETY: as above; nothing in it is tied to a thread.
unsafe impl Send for Built {}
// SAFETY: as above.
unsafe impl Sync for Built {}

impl TableCell {
    #[allow(clippy::new_without_default)] // used in a `static`, needs a const fn
    pub const fn new() -> Self {
        Self(OnceLock::new())
    }
}

/// The body of `kmidi_transport_v1` for transport type `T`.
pub fn table_for<T: Transport + Default + 'static>(
    cell: &'static TableCell,
    host_abi_version: u32,
) -> *const kmidi_transport_table {
    // Tables are only ever appended to, so a newer host can read a v1 table; version 0
    // does not exist.
    if host_abi_version < KMIDI_TRANSPORT_ABI_VERSION {
        return std::ptr::null();
    }
    match catch_unwind(|| &cell.0.get_or_init(build::<T>).table as *const _) {
        Ok(p) => p,
        Err(panic) => {
            // No handle and no errbuf to report through; NULL makes the host refuse
            // the plugin, and stderr says why.
            eprintln!(
                "kmidi transport plugin: Transport::info() panicked: {}",
                panic_message(&*panic)
            );
            std::ptr::null()
        }
    }
}

fn static_string(s: String) -> CString {
    // Interior NULs would silently cut the string short in C; replace them instead.
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

fn build<T: Transport + Default + 'static>() -> Built {
    let info = T::default().info();
    let c = info.capabilities;
    let bits = [
        (c.consumer_groups, KMIDI_CAP_CONSUMER_GROUPS),
        (c.timestamps, KMIDI_CAP_TIMESTAMPS),
        (c.headers, KMIDI_CAP_HEADERS),
        (c.tls, KMIDI_CAP_TLS),
        (c.sasl, KMIDI_CAP_SASL),
        (c.idempotence, KMIDI_CAP_IDEMPOTENCE),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(0u64, |acc, (_, bit)| acc | bit);
    let strings = [
        static_string(info.name),
        static_string(info.library),
        static_string(info.library_version),
    ];
    let table = kmidi_transport_table {
        magic: KMIDI_TRANSPORT_MAGIC,
        abi_version: KMIDI_TRANSPORT_ABI_VERSION,
        struct_size: KMIDI_TRANSPORT_TABLE_V1_SIZE as u32,
        reserved: 0,
        name: strings[0].as_ptr(),
        library: strings[1].as_ptr(),
        library_version: strings[2].as_ptr(),
        capabilities: bits,
        producer_new: Some(producer_new::<T>),
        produce: Some(export_handles::produce),
        flush: Some(export_handles::flush),
        producer_stats: Some(export_handles::producer_stats),
        producer_take_failure: Some(export_handles::producer_take_failure),
        producer_last_error: Some(export_handles::producer_last_error),
        producer_free: Some(export_handles::producer_free),
        consumer_new: Some(consumer_new::<T>),
        poll: Some(export_handles::poll),
        commit: Some(export_handles::commit),
        consumer_last_error: Some(export_handles::consumer_last_error),
        consumer_free: Some(export_handles::consumer_free),
        topic_partitions: Some(topic_partitions::<T>),
        create_topic: Some(create_topic::<T>),
    };
    Built {
        table,
        _strings: strings,
    }
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
unsafe fn config_from(kv: *const kmidi_kv, n: usize) -> Result<ClientConfig, (i32, String)> {
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
unsafe fn no_handle_call(
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

fn failed(err: TransportError) -> (i32, String) {
    match err {
        // The host rebuilds this error from KMIDI_TIMEOUT around the text: pass only
        // the detail, or the user reads "cannot reach Kafka at ..." twice.
        TransportError::Unreachable { detail, .. } => (KMIDI_TIMEOUT, detail),
        other => (status_of(&other), other.to_string()),
    }
}

/// `producer_new` for `T`.
///
/// # Safety
/// Called by the host per the ABI: valid config array, out pointer and errbuf.
pub unsafe extern "C" fn producer_new<T: Transport + Default + 'static>(
    config: *const kmidi_kv,
    n_config: usize,
    out: *mut *mut kmidi_producer,
    errbuf: *mut c_char,
    errlen: usize,
) -> i32 {
    // SAFETY: errbuf per the ABI; the closure's pointers per the ABI.
    unsafe {
        no_handle_call(errbuf, errlen, || {
            if out.is_null() {
                return Err((KMIDI_INVALID_ARG, "out is NULL".into()));
            }
            let config = config_from(config, n_config)?;
            let producer = T::default().producer(&config).map_err(failed)?;
            *out = ProducerHandle::into_raw(producer);
            Ok(())
        })
    }
}

/// `consumer_new` for `T`.
///
/// # Safety
/// Called by the host per the ABI.
#[allow(clippy::too_many_arguments)] // the ABI's signature
pub unsafe extern "C" fn consumer_new<T: Transport + Default + 'static>(
    config: *const kmidi_kv,
    n_config: usize,
    group: *const c_char,
    topics: *const *const c_char,
    n_topics: usize,
    offset_reset: i32,
    out: *mut *mut kmidi_consumer,
    errbuf: *mut c_char,
    errlen: usize,
) -> i32 {
    // SAFETY: errbuf and every pointer used in the closure are valid per the ABI.
    unsafe {
        no_handle_call(errbuf, errlen, || {
            if out.is_null() || (topics.is_null() && n_topics > 0) {
                return Err((KMIDI_INVALID_ARG, "out or topics is NULL".into()));
            }
            let config = config_from(config, n_config)?;
            let names = if n_topics == 0 {
                &[][..]
            } else {
                std::slice::from_raw_parts(topics, n_topics)
            };
            let subscription = Subscription {
                topics: names
                    .iter()
                    .map(|t| arg_str("a topic", *t).map(str::to_string))
                    .collect::<Result<_, _>>()?,
                group: arg_str("group", group)?.to_string(),
                offset_reset: if offset_reset == KMIDI_OFFSET_EARLIEST {
                    OffsetReset::Earliest
                } else {
                    OffsetReset::Latest
                },
            };
            let consumer = T::default()
                .consumer(&config, &subscription)
                .map_err(failed)?;
            *out = ConsumerHandle::into_raw(consumer);
            Ok(())
        })
    }
}

/// `topic_partitions` for `T`.
///
/// # Safety
/// Called by the host per the ABI.
pub unsafe extern "C" fn topic_partitions<T: Transport + Default + 'static>(
    config: *const kmidi_kv,
    n_config: usize,
    topic: *const c_char,
    timeout_ms: i32,
    partitions: *mut i32,
    errbuf: *mut c_char,
    errlen: usize,
) -> i32 {
    // SAFETY: errbuf and every pointer used in the closure are valid per the ABI.
    unsafe {
        no_handle_call(errbuf, errlen, || {
            if partitions.is_null() {
                return Err((KMIDI_INVALID_ARG, "partitions is NULL".into()));
            }
            let config = config_from(config, n_config)?;
            let topic = arg_str("topic", topic)?;
            let timeout = export_handles::duration(timeout_ms);
            let admin = T::default().admin(&config).map_err(failed)?;
            let n = admin.topic_partitions(topic, timeout).map_err(failed)?;
            *partitions = n.unwrap_or(-1);
            Ok(())
        })
    }
}

/// `create_topic` for `T`.
///
/// # Safety
/// Called by the host per the ABI.
#[allow(clippy::too_many_arguments)] // the ABI's signature
pub unsafe extern "C" fn create_topic<T: Transport + Default + 'static>(
    config: *const kmidi_kv,
    n_config: usize,
    topic: *const c_char,
    partitions: i32,
    replication_factor: i32,
    topic_config: *const kmidi_kv,
    n_topic_config: usize,
    timeout_ms: i32,
    errbuf: *mut c_char,
    errlen: usize,
) -> i32 {
    // SAFETY: errbuf and every pointer used in the closure are valid per the ABI.
    unsafe {
        no_handle_call(errbuf, errlen, || {
            let config = config_from(config, n_config)?;
            let configs = config_from(topic_config, n_topic_config)?
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let spec = TopicSpec {
                name: arg_str("topic", topic)?.to_string(),
                partitions,
                replication_factor,
                configs,
            };
            let admin = T::default().admin(&config).map_err(failed)?;
            admin
                .create_topic(&spec, export_handles::duration(timeout_ms))
                .map_err(failed)
        })
    }
}
