//! The exported thunks that need the transport type: constructors and admin calls,
//! generic over `T` and instantiated by the table `export_transport!` builds.

use std::ffi::c_char;

use super::guard::{arg_str, config_from, duration, failed, no_handle_call};
use super::handles::{ConsumerHandle, ProducerHandle};
use crate::plugin::abi::{
    kmidi_consumer, kmidi_kv, kmidi_producer, KMIDI_INVALID_ARG, KMIDI_OFFSET_EARLIEST,
};
use crate::{OffsetReset, Subscription, TopicSpec, Transport};
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
            let timeout = duration(timeout_ms);
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
                .create_topic(&spec, duration(timeout_ms))
                .map_err(failed)
        })
    }
}
