//! The `#[repr(C)]` mirror of `include/kmidi_transport.h`, version 1 (the 192-byte
//! table: the first 160-byte one plus four appended optional entries, the last of them,
//! `partition_leaders`, after the 184-byte table).
//!
//! Names follow the header (hence the lower-case type names) so a reader can put the
//! two side by side. Everything here is plain data; the unsafe code that uses it lives
//! in `host` (kmidi's side) and `export` (the plugin's side). A layout test
//! (`tests/plugin_abi.rs`) compiles the header and compares offsets with these.

#![allow(non_camel_case_types)]

use std::ffi::c_char;
use std::marker::{PhantomData, PhantomPinned};

pub const KMIDI_TRANSPORT_MAGIC: u32 = 0x4B4D_4944; // "KMID"
pub const KMIDI_TRANSPORT_ABI_VERSION: u32 = 1;
/// The exported symbol, NUL-terminated for `dlsym`.
pub const KMIDI_TRANSPORT_SYMBOL: &[u8] = b"kmidi_transport_v1\0";

pub const KMIDI_OK: i32 = 0;
pub const KMIDI_TIMEOUT: i32 = 1;
pub const KMIDI_TRANSIENT: i32 = 2;
pub const KMIDI_ERROR: i32 = -1;
pub const KMIDI_INVALID_ARG: i32 = -2;
pub const KMIDI_PANICKED: i32 = -3;
pub const KMIDI_UNSUPPORTED: i32 = -4;

pub const KMIDI_CAP_CONSUMER_GROUPS: u64 = 1 << 0;
pub const KMIDI_CAP_TIMESTAMPS: u64 = 1 << 1;
pub const KMIDI_CAP_HEADERS: u64 = 1 << 2;
pub const KMIDI_CAP_TLS: u64 = 1 << 3;
pub const KMIDI_CAP_SASL: u64 = 1 << 4;
pub const KMIDI_CAP_IDEMPOTENCE: u64 = 1 << 5;
pub const KMIDI_CAP_CONSUMER_PROTOCOL: u64 = 1 << 6;
pub const KMIDI_CAP_SHARE_GROUPS: u64 = 1 << 7;

pub const KMIDI_OFFSET_LATEST: i32 = 0;
pub const KMIDI_OFFSET_EARLIEST: i32 = 1;

/// Opaque producer handle, owned by the plugin (the pattern the Rustonomicon
/// recommends for opaque C types: not constructible, not `Send`/`Sync`/`Unpin`).
#[repr(C)]
pub struct kmidi_producer {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// Opaque consumer handle, owned by the plugin.
#[repr(C)]
pub struct kmidi_consumer {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// One client property.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kmidi_kv {
    pub key: *const c_char,
    pub value: *const c_char,
}

/// A consumed record, borrowed until the next poll or free.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kmidi_message {
    pub topic: *const c_char,
    pub partition: i32,
    pub offset: i64,
    pub key: *const u8,
    pub key_len: usize,
    pub value: *const u8,
    pub value_len: usize,
    pub timestamp_ms: i64,
}

impl kmidi_message {
    /// An all-NULL message for the host to pass as `poll`'s out parameter.
    pub const EMPTY: kmidi_message = kmidi_message {
        topic: std::ptr::null(),
        partition: 0,
        offset: 0,
        key: std::ptr::null(),
        key_len: 0,
        value: std::ptr::null(),
        value_len: 0,
        timestamp_ms: -1,
    };
}

/// One partition of a consumer's assignment; `topic` is borrowed from the plugin until
/// the next call on the consumer.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kmidi_topic_partition {
    pub topic: *const c_char,
    pub partition: i32,
}

impl kmidi_topic_partition {
    /// A NULL entry, for the host to fill a buffer with before the call.
    pub const EMPTY: kmidi_topic_partition = kmidi_topic_partition {
        topic: std::ptr::null(),
        partition: -1,
    };
}

/// One partition's leadership, written by `partition_leaders`. Its replicas and
/// in-sync replicas are runs of the caller's id buffer: `ids[replicas..replicas +
/// n_replicas]` and `ids[isr..isr + n_isr]` ([`kmidi_leadership::ids`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct kmidi_partition_leader {
    pub partition: i32,
    /// The leader's broker id; -1 when the partition has none right now.
    pub leader: i32,
    pub replicas: usize,
    pub n_replicas: usize,
    pub isr: usize,
    pub n_isr: usize,
}

/// The caller's buffers `partition_leaders` fills: each `*_cap` is the buffer's length,
/// each `n_*` the plugin's full count (the host calls again with bigger buffers when a
/// count exceeds its cap).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kmidi_leadership {
    pub partitions: *mut kmidi_partition_leader,
    pub partitions_cap: usize,
    pub n_partitions: usize,
    pub brokers: *mut i32,
    pub brokers_cap: usize,
    pub n_brokers: usize,
    /// Replica and in-sync replica ids of every partition, back to back.
    pub ids: *mut i32,
    pub ids_cap: usize,
    pub n_ids: usize,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct kmidi_producer_stats {
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
}

pub type ProducerNewFn = unsafe extern "C" fn(
    config: *const kmidi_kv,
    n_config: usize,
    out: *mut *mut kmidi_producer,
    errbuf: *mut c_char,
    errlen: usize,
) -> i32;
pub type ProduceFn = unsafe extern "C" fn(
    p: *mut kmidi_producer,
    topic: *const c_char,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> i32;
pub type FlushFn = unsafe extern "C" fn(p: *mut kmidi_producer, timeout_ms: i32) -> i32;
pub type ProducerStatsFn =
    unsafe extern "C" fn(p: *mut kmidi_producer, out: *mut kmidi_producer_stats) -> i32;
pub type ProducerTakeFailureFn =
    unsafe extern "C" fn(p: *mut kmidi_producer, error: *mut *const c_char) -> i32;
pub type ProducerLastErrorFn = unsafe extern "C" fn(p: *mut kmidi_producer) -> *const c_char;
pub type ProducerFreeFn = unsafe extern "C" fn(p: *mut kmidi_producer);
pub type ConsumerNewFn = unsafe extern "C" fn(
    config: *const kmidi_kv,
    n_config: usize,
    group: *const c_char,
    topics: *const *const c_char,
    n_topics: usize,
    offset_reset: i32,
    out: *mut *mut kmidi_consumer,
    errbuf: *mut c_char,
    errlen: usize,
) -> i32;
pub type PollFn =
    unsafe extern "C" fn(c: *mut kmidi_consumer, timeout_ms: i32, out: *mut kmidi_message) -> i32;
pub type CommitFn = unsafe extern "C" fn(c: *mut kmidi_consumer) -> i32;
pub type ConsumerLastErrorFn = unsafe extern "C" fn(c: *mut kmidi_consumer) -> *const c_char;
pub type ConsumerFreeFn = unsafe extern "C" fn(c: *mut kmidi_consumer);
pub type TopicPartitionsFn = unsafe extern "C" fn(
    config: *const kmidi_kv,
    n_config: usize,
    topic: *const c_char,
    timeout_ms: i32,
    partitions: *mut i32,
    errbuf: *mut c_char,
    errlen: usize,
) -> i32;
pub type CreateTopicFn = unsafe extern "C" fn(
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
) -> i32;
pub type ConsumerAssignmentFn = unsafe extern "C" fn(
    c: *mut kmidi_consumer,
    out: *mut kmidi_topic_partition,
    cap: usize,
    n_out: *mut usize,
) -> i32;
pub type ProducerSettingsFn = unsafe extern "C" fn(p: *mut kmidi_producer) -> *const c_char;
pub type ConsumerSettingsFn = unsafe extern "C" fn(c: *mut kmidi_consumer) -> *const c_char;
pub type PartitionLeadersFn = unsafe extern "C" fn(
    config: *const kmidi_kv,
    n_config: usize,
    topic: *const c_char,
    timeout_ms: i32,
    out: *mut kmidi_leadership,
    errbuf: *mut c_char,
    errlen: usize,
) -> i32;

/// The table a plugin exports. `Option<fn>` has the same layout as a nullable C
/// function pointer, so NULL reads as `None` ("not supported").
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kmidi_transport_table {
    pub magic: u32,
    pub abi_version: u32,
    pub struct_size: u32,
    pub reserved: u32,

    pub name: *const c_char,
    pub library: *const c_char,
    pub library_version: *const c_char,
    pub capabilities: u64,

    pub producer_new: Option<ProducerNewFn>,
    pub produce: Option<ProduceFn>,
    pub flush: Option<FlushFn>,
    pub producer_stats: Option<ProducerStatsFn>,
    pub producer_take_failure: Option<ProducerTakeFailureFn>,
    pub producer_last_error: Option<ProducerLastErrorFn>,
    pub producer_free: Option<ProducerFreeFn>,

    pub consumer_new: Option<ConsumerNewFn>,
    pub poll: Option<PollFn>,
    pub commit: Option<CommitFn>,
    pub consumer_last_error: Option<ConsumerLastErrorFn>,
    pub consumer_free: Option<ConsumerFreeFn>,

    pub topic_partitions: Option<TopicPartitionsFn>,
    pub create_topic: Option<CreateTopicFn>,

    // Appended after the first table: a plugin whose struct_size stops before them
    // (built against the older header) has them read as NULL.
    pub consumer_assignment: Option<ConsumerAssignmentFn>,
    pub producer_settings: Option<ProducerSettingsFn>,
    pub consumer_settings: Option<ConsumerSettingsFn>,

    // Appended after the 184-byte table: a plugin built against that header has it
    // read as NULL (leadership unknown).
    pub partition_leaders: Option<PartitionLeadersFn>,
}

/// The size of the first version-1 table (up to and including `create_topic`; 160 bytes
/// on 64-bit): the least a v1 plugin may declare, and what a plugin built against the
/// older header declares.
pub const KMIDI_TRANSPORT_TABLE_V1_SIZE: usize =
    std::mem::offset_of!(kmidi_transport_table, consumer_assignment);

/// The size of the second version-1 table (up to and including `consumer_settings`;
/// 184 bytes on 64-bit): what a plugin built against the header before
/// `partition_leaders` declares.
pub const KMIDI_TRANSPORT_TABLE_V1_REPORTS_SIZE: usize =
    std::mem::offset_of!(kmidi_transport_table, partition_leaders);

/// `sizeof(kmidi_transport_table)` as this crate knows it (192 bytes on 64-bit): what
/// `export_transport!` declares, and the most the host reads of a bigger table.
pub const KMIDI_TRANSPORT_TABLE_SIZE: usize = std::mem::size_of::<kmidi_transport_table>();

#[cfg(target_pointer_width = "64")]
const _: () = assert!(
    KMIDI_TRANSPORT_TABLE_V1_SIZE == 160
        && KMIDI_TRANSPORT_TABLE_V1_REPORTS_SIZE == 184
        && KMIDI_TRANSPORT_TABLE_SIZE == 192
);

/// The entry point's type: `kmidi_transport_v1(host_abi_version)`.
pub type EntryFn = unsafe extern "C" fn(host_abi_version: u32) -> *const kmidi_transport_table;
