//! The host's side of `partition_leaders`, the entry appended after the 184-byte table:
//! lending the plugin three buffers (partitions, broker ids, replica ids), calling
//! again with bigger ones when the plugin says its answer did not fit, and turning what
//! it wrote into a [`Leadership`] after checking every index it wrote stays inside the
//! buffers. Nothing the plugin returns is borrowed past the call: the buffers are ours.

use std::ffi::CStr;
use std::time::{Duration, Instant};

use super::call::millis;
use crate::plugin::abi::{kmidi_leadership, kmidi_partition_leader, PartitionLeadersFn, KMIDI_OK};
use crate::plugin::ffi::{errbuf_text, KvList, ERRBUF_LEN};
use crate::{Leadership, PartitionLeader};

/// First buffer sizes: enough for most topics and clusters in one call.
const FIRST_PARTITIONS: usize = 64;
const FIRST_BROKERS: usize = 16;
const FIRST_IDS: usize = 512;

/// Counts past these are garbage, refused before anything is allocated for them.
const MAX_PARTITIONS: usize = 1 << 20;
const MAX_BROKERS: usize = 1 << 16;
const MAX_IDS: usize = 1 << 24;

/// How often the host grows the buffers before giving up on metadata that keeps
/// growing between calls.
const MAX_ATTEMPTS: usize = 4;

/// What one `partition_leaders` round came to.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Fetched {
    Known(Leadership),
    /// A status other than OK, with the plugin's errbuf text.
    Status(i32, String),
    /// OK with something no cluster could have said.
    Bogus(String),
}

/// Calls `entry` for `topic`, growing the buffers as the plugin asks, within `timeout`
/// overall (each call gets what is left of it).
///
/// # Safety
/// `entry` is the `partition_leaders` entry of a loaded plugin (its library is never
/// unloaded).
pub(super) unsafe fn fetch(
    entry: PartitionLeadersFn,
    kv: &KvList,
    topic: &CStr,
    timeout: Duration,
) -> Fetched {
    let started = Instant::now();
    let mut caps = (FIRST_PARTITIONS, FIRST_BROKERS, FIRST_IDS);
    for _ in 0..MAX_ATTEMPTS {
        let mut partitions = vec![kmidi_partition_leader::default(); caps.0];
        let mut brokers = vec![0i32; caps.1];
        let mut ids = vec![0i32; caps.2];
        let mut out = kmidi_leadership {
            partitions: partitions.as_mut_ptr(),
            partitions_cap: partitions.len(),
            n_partitions: 0,
            brokers: brokers.as_mut_ptr(),
            brokers_cap: brokers.len(),
            n_brokers: 0,
            ids: ids.as_mut_ptr(),
            ids_cap: ids.len(),
            n_ids: 0,
        };
        let mut errbuf = vec![0u8; ERRBUF_LEN];
        let left = timeout.saturating_sub(started.elapsed());
        // SAFETY: every pointer points into a buffer this function owns for the call,
        // each as long as the cap beside it; `entry` per the caller's contract.
        let rc = unsafe {
            entry(
                kv.as_ptr(),
                kv.len(),
                topic.as_ptr(),
                millis(left),
                &mut out,
                errbuf.as_mut_ptr().cast(),
                errbuf.len(),
            )
        };
        if rc != KMIDI_OK {
            return Fetched::Status(rc, errbuf_text(&errbuf));
        }
        let counts = (out.n_partitions, out.n_brokers, out.n_ids);
        if counts.0 > MAX_PARTITIONS || counts.1 > MAX_BROKERS || counts.2 > MAX_IDS {
            return Fetched::Bogus(format!(
                "{} partitions, {} brokers and {} replica ids (more than any cluster has)",
                counts.0, counts.1, counts.2
            ));
        }
        if counts.0 <= caps.0 && counts.1 <= caps.1 && counts.2 <= caps.2 {
            return match decode(
                &partitions[..counts.0],
                &brokers[..counts.1],
                &ids[..counts.2],
            ) {
                Ok(l) => Fetched::Known(l),
                Err(nonsense) => Fetched::Bogus(nonsense),
            };
        }
        caps = (
            caps.0.max(counts.0),
            caps.1.max(counts.1),
            caps.2.max(counts.2),
        );
    }
    Fetched::Bogus(format!(
        "metadata that outgrew the buffers at each of {MAX_ATTEMPTS} calls"
    ))
}

/// What the plugin wrote, as a [`Leadership`]: partitions and brokers ascending, a
/// negative leader read as "none"; an index outside `ids` or a repeated partition is
/// refused.
pub(super) fn decode(
    partitions: &[kmidi_partition_leader],
    brokers: &[i32],
    ids: &[i32],
) -> Result<Leadership, String> {
    let run = |what: &str, p: i32, start: usize, n: usize| -> Result<Vec<i32>, String> {
        start
            .checked_add(n)
            .and_then(|end| ids.get(start..end))
            .map(<[i32]>::to_vec)
            .ok_or_else(|| {
                format!(
                    "partition {p}'s {what} at ids[{start}..+{n}], outside the {} ids written",
                    ids.len()
                )
            })
    };
    let mut out = Vec::with_capacity(partitions.len());
    for p in partitions {
        if p.partition < 0 {
            return Err(format!("a negative partition number ({})", p.partition));
        }
        out.push(PartitionLeader {
            partition: p.partition,
            leader: (p.leader >= 0).then_some(p.leader),
            replicas: run("replicas", p.partition, p.replicas, p.n_replicas)?,
            isr: run("in-sync replicas", p.partition, p.isr, p.n_isr)?,
        });
    }
    out.sort_by_key(|p| p.partition);
    if let Some(w) = out.windows(2).find(|w| w[0].partition == w[1].partition) {
        return Err(format!("partition {} listed twice", w[0].partition));
    }
    let mut brokers = brokers.to_vec();
    brokers.sort_unstable();
    brokers.dedup();
    Ok(Leadership {
        known: true,
        brokers,
        partitions: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(
        partition: i32,
        leader: i32,
        replicas: (usize, usize),
        isr: (usize, usize),
    ) -> kmidi_partition_leader {
        kmidi_partition_leader {
            partition,
            leader,
            replicas: replicas.0,
            n_replicas: replicas.1,
            isr: isr.0,
            n_isr: isr.1,
        }
    }

    #[test]
    fn runs_of_ids_become_each_partitions_replicas_sorted_by_partition() {
        let ids = [2, 1, 2, 1, 2, 1];
        let l = decode(
            &[part(1, -1, (4, 2), (6, 0)), part(0, 2, (0, 2), (2, 2))],
            &[2, 1, 2],
            &ids,
        )
        .expect("valid");
        assert!(l.known);
        assert_eq!(l.brokers, [1, 2]);
        assert_eq!(l.leaders(), [(0, Some(2)), (1, None)]);
        assert_eq!(l.partitions[0].replicas, [2, 1]);
        assert_eq!(l.partitions[0].isr, [2, 1]);
        assert_eq!(l.partitions[1].replicas, [2, 1]);
        assert!(l.partitions[1].isr.is_empty());
    }

    #[test]
    fn indexes_outside_the_ids_and_repeated_partitions_are_refused() {
        let err = decode(&[part(0, 1, (1, 2), (0, 0))], &[1], &[1, 1]).expect_err("past");
        assert!(err.contains("outside the 2 ids"), "{err}");
        let err = decode(&[part(0, 1, (usize::MAX, 2), (0, 0))], &[1], &[1]).expect_err("wrap");
        assert!(err.contains("partition 0's replicas"), "{err}");
        let err = decode(
            &[part(3, 1, (0, 0), (0, 0)), part(3, 1, (0, 0), (0, 0))],
            &[1],
            &[],
        )
        .expect_err("twice");
        assert!(err.contains("partition 3 listed twice"), "{err}");
        assert!(decode(&[part(-2, 1, (0, 0), (0, 0))], &[], &[]).is_err());
    }

    #[test]
    fn a_missing_topic_is_known_with_no_partitions() {
        let l = decode(&[], &[1], &[]).expect("valid");
        assert!(l.known && !l.topic_exists());
        assert_eq!(l.brokers, [1]);
    }
}
