//! The plugin-side thunk for `partition_leaders`, the entry appended after the 184-byte
//! table: [`Admin::partition_leaders`](crate::Admin::partition_leaders) of the wrapped
//! transport, laid out into the host's buffers (`kmidi_leadership`).
//!
//! A transport that cannot tell leaders (the trait's default, `known: false`) answers
//! `KMIDI_UNSUPPORTED`, which the host takes as a NULL entry: it then counts the
//! partitions through `topic_partitions` itself.

use std::ffi::c_char;

use super::guard::{arg_str, config_from, duration, failed, no_handle_call};
use crate::plugin::abi::{
    kmidi_kv, kmidi_leadership, kmidi_partition_leader, KMIDI_INVALID_ARG, KMIDI_UNSUPPORTED,
};
use crate::{Leadership, Transport};

/// `partition_leaders` for `T`.
///
/// # Safety
/// Called by the host per the ABI: valid config array, topic, out (whose buffers are
/// valid for their caps) and errbuf.
pub unsafe extern "C" fn partition_leaders<T: Transport + Default + 'static>(
    config: *const kmidi_kv,
    n_config: usize,
    topic: *const c_char,
    timeout_ms: i32,
    out: *mut kmidi_leadership,
    errbuf: *mut c_char,
    errlen: usize,
) -> i32 {
    // SAFETY: errbuf and every pointer used in the closure are valid per the ABI.
    unsafe {
        no_handle_call(errbuf, errlen, || {
            // SAFETY: `out` is NULL or valid for reads and writes per the ABI.
            let Some(out) = out.as_mut() else {
                return Err((KMIDI_INVALID_ARG, "out is NULL".into()));
            };
            if (out.partitions.is_null() && out.partitions_cap > 0)
                || (out.brokers.is_null() && out.brokers_cap > 0)
                || (out.ids.is_null() && out.ids_cap > 0)
            {
                return Err((
                    KMIDI_INVALID_ARG,
                    "a buffer in out is NULL with a cap > 0".into(),
                ));
            }
            let config = config_from(config, n_config)?;
            let topic = arg_str("topic", topic)?;
            let admin = T::default().admin(&config).map_err(failed)?;
            let leadership = admin
                .partition_leaders(topic, duration(timeout_ms))
                .map_err(failed)?;
            if !leadership.known {
                return Err((
                    KMIDI_UNSUPPORTED,
                    "this transport cannot tell partition leaders".into(),
                ));
            }
            let (partitions, brokers, ids) = layout(&leadership);
            // SAFETY: each buffer is valid for its cap (checked non-NULL when the cap is
            // not 0) per the ABI; `lend` writes at most cap entries.
            out.n_partitions = lend(&partitions, out.partitions, out.partitions_cap);
            out.n_brokers = lend(&brokers, out.brokers, out.brokers_cap);
            out.n_ids = lend(&ids, out.ids, out.ids_cap);
            Ok(())
        })
    }
}

/// Copies at most `cap` items of `items` to `dst`; returns the full count.
///
/// # Safety
/// `dst` is valid for `cap` writes (or `cap` is 0).
unsafe fn lend<T: Copy>(items: &[T], dst: *mut T, cap: usize) -> usize {
    let n = items.len().min(cap);
    if n > 0 {
        // SAFETY: `dst` is valid for `cap >= n` writes and cannot overlap our Vec.
        unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), dst, n) };
    }
    items.len()
}

/// The ABI's flat form: one entry per partition, whose replicas and ISR are runs of
/// the id list.
fn layout(l: &Leadership) -> (Vec<kmidi_partition_leader>, Vec<i32>, Vec<i32>) {
    let mut ids = Vec::new();
    let partitions = l
        .partitions
        .iter()
        .map(|p| {
            let replicas = ids.len();
            ids.extend_from_slice(&p.replicas);
            let isr = ids.len();
            ids.extend_from_slice(&p.isr);
            kmidi_partition_leader {
                partition: p.partition,
                leader: p.leader.unwrap_or(-1),
                replicas,
                n_replicas: p.replicas.len(),
                isr,
                n_isr: p.isr.len(),
            }
        })
        .collect();
    (partitions, l.brokers.clone(), ids)
}

#[cfg(test)]
mod tests {
    use super::layout;
    use crate::{Leadership, PartitionLeader};

    #[test]
    fn replicas_and_isr_become_runs_of_one_id_list() {
        let l = Leadership {
            known: true,
            brokers: vec![1, 2],
            partitions: vec![
                PartitionLeader {
                    partition: 0,
                    leader: Some(2),
                    replicas: vec![2, 1],
                    isr: vec![2],
                },
                PartitionLeader {
                    partition: 1,
                    leader: None,
                    replicas: vec![1, 2],
                    isr: vec![],
                },
            ],
        };
        let (parts, brokers, ids) = layout(&l);
        assert_eq!(brokers, [1, 2]);
        assert_eq!(ids, [2, 1, 2, 1, 2]);
        assert_eq!(
            (parts[0].leader, parts[0].replicas, parts[0].n_replicas),
            (2, 0, 2)
        );
        assert_eq!((parts[0].isr, parts[0].n_isr), (2, 1));
        assert_eq!(
            (parts[1].leader, parts[1].replicas, parts[1].isr),
            (-1, 3, 5)
        );
        assert_eq!(parts[1].n_isr, 0);
    }
}
