//! Whether a topic is whole again after a fault: every partition has a leader and its
//! ISR holds every assigned replica.

use kmidi_transport::Leadership;

/// The partitions without a leader or with a replica out of the ISR, as
/// `P (why)`; empty when the topic is whole. A transport that cannot tell leaders is
/// never whole (there is nothing to wait on).
pub fn not_full(l: &Leadership) -> Vec<String> {
    if !l.known {
        return vec!["the transport cannot tell leaders".into()];
    }
    if l.partitions.is_empty() {
        return vec!["the topic has no partitions (yet)".into()];
    }
    l.partitions
        .iter()
        .filter_map(|p| {
            if p.leader.is_none() {
                return Some(format!("{} (no leader)", p.partition));
            }
            let missing: Vec<String> = p
                .replicas
                .iter()
                .filter(|r| !p.isr.contains(r))
                .map(|r| r.to_string())
                .collect();
            (!missing.is_empty()).then(|| {
                format!(
                    "{} (replica {} out of the ISR)",
                    p.partition,
                    missing.join("+")
                )
            })
        })
        .collect()
}

pub fn full_isr(l: &Leadership) -> bool {
    not_full(l).is_empty()
}

#[cfg(test)]
mod tests {
    use kmidi_transport::PartitionLeader;

    use super::*;

    fn p(partition: i32, leader: Option<i32>, isr: &[i32]) -> PartitionLeader {
        PartitionLeader {
            partition,
            leader,
            replicas: vec![1, 2, 3],
            isr: isr.to_vec(),
        }
    }

    #[test]
    fn whole_needs_a_leader_and_every_replica_in_sync() {
        let mut l = Leadership {
            known: true,
            brokers: vec![1, 2, 3],
            partitions: vec![p(0, Some(1), &[1, 2, 3]), p(1, Some(2), &[3, 2, 1])],
        };
        assert!(full_isr(&l));
        l.partitions[1].isr = vec![2, 3];
        assert_eq!(not_full(&l), vec!["1 (replica 1 out of the ISR)"]);
        l.partitions[0].leader = None;
        assert_eq!(not_full(&l).len(), 2);
        assert!(!full_isr(&Leadership::unknown(3)));
        assert!(!full_isr(&Leadership {
            known: true,
            ..Leadership::default()
        }));
    }
}
