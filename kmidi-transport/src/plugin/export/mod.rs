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
//! The table declares the 192-byte size: all four entries appended to the first v1
//! table are filled (see `queries` for what `consumer_assignment` answers for a consumer
//! that cannot report its assignment, `leaders` for what `partition_leaders` answers
//! for a transport that cannot tell leaders).
//!
//! `<T as Default>::default()` is called for every constructor and admin call (and once
//! for `info`): a transport type is expected to be a cheap value, with state in the
//! producers and consumers it creates.

mod entry;
mod guard;
mod handles;
mod leaders;
mod queries;

use std::ffi::CString;
use std::panic::catch_unwind;
use std::sync::OnceLock;

use self::entry::{consumer_new, create_topic, producer_new, topic_partitions};
use self::guard::panic_message;
use crate::plugin::abi::{
    kmidi_transport_table, KMIDI_CAP_CONSUMER_GROUPS, KMIDI_CAP_CONSUMER_PROTOCOL,
    KMIDI_CAP_HEADERS, KMIDI_CAP_IDEMPOTENCE, KMIDI_CAP_SASL, KMIDI_CAP_SHARE_GROUPS,
    KMIDI_CAP_TIMESTAMPS, KMIDI_CAP_TLS, KMIDI_TRANSPORT_ABI_VERSION, KMIDI_TRANSPORT_MAGIC,
    KMIDI_TRANSPORT_TABLE_SIZE,
};
use crate::Transport;

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
        (c.consumer_protocol, KMIDI_CAP_CONSUMER_PROTOCOL),
        (c.share_groups, KMIDI_CAP_SHARE_GROUPS),
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
        struct_size: KMIDI_TRANSPORT_TABLE_SIZE as u32,
        reserved: 0,
        name: strings[0].as_ptr(),
        library: strings[1].as_ptr(),
        library_version: strings[2].as_ptr(),
        capabilities: bits,
        producer_new: Some(producer_new::<T>),
        produce: Some(handles::produce),
        flush: Some(handles::flush),
        producer_stats: Some(handles::producer_stats),
        producer_take_failure: Some(handles::producer_take_failure),
        producer_last_error: Some(handles::producer_last_error),
        producer_free: Some(handles::producer_free),
        consumer_new: Some(consumer_new::<T>),
        poll: Some(handles::poll),
        commit: Some(handles::commit),
        consumer_last_error: Some(handles::consumer_last_error),
        consumer_free: Some(handles::consumer_free),
        topic_partitions: Some(topic_partitions::<T>),
        create_topic: Some(create_topic::<T>),
        consumer_assignment: Some(queries::consumer_assignment),
        producer_settings: Some(queries::producer_settings),
        consumer_settings: Some(queries::consumer_settings),
        partition_leaders: Some(leaders::partition_leaders::<T>),
    };
    Built {
        table,
        _strings: strings,
    }
}
