//! Which broker leads each partition of a topic, as the cluster's metadata says: what
//! lets kmidi hear a broker apart from the others (a probe topic with a partition led
//! by every broker, kminion's idea) and notice when a failover moved leadership.

/// Who leads the partitions of one topic, and which brokers the cluster lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Leadership {
    /// False when the transport cannot tell leaders (the default of
    /// [`crate::Admin::partition_leaders`]): then every leader, `brokers`, `replicas`
    /// and `isr` are empty and only the partition numbers are real.
    pub known: bool,
    /// Ids of the brokers in the cluster's metadata, ascending. A broker that is down
    /// drops out of it after its session times out.
    pub brokers: Vec<i32>,
    /// Every partition of the topic, ascending; empty when the topic does not exist.
    pub partitions: Vec<PartitionLeader>,
}

/// One partition's leader and replicas.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionLeader {
    pub partition: i32,
    /// `None`: no leader right now (an election under way, every replica down), or
    /// the transport cannot tell ([`Leadership::known`]).
    pub leader: Option<i32>,
    /// The assigned replicas, the preferred leader first.
    pub replicas: Vec<i32>,
    /// The in-sync replicas.
    pub isr: Vec<i32>,
}

impl Leadership {
    /// Leadership a transport cannot tell, for a topic of `partitions` partitions.
    pub fn unknown(partitions: i32) -> Self {
        Leadership {
            known: false,
            brokers: Vec::new(),
            partitions: (0..partitions)
                .map(|partition| PartitionLeader {
                    partition,
                    ..PartitionLeader::default()
                })
                .collect(),
        }
    }

    /// Whether the topic exists (a topic has at least one partition).
    pub fn topic_exists(&self) -> bool {
        !self.partitions.is_empty()
    }

    /// The partitions `broker` leads, ascending.
    pub fn led_by(&self, broker: i32) -> Vec<i32> {
        self.partitions
            .iter()
            .filter(|p| p.leader == Some(broker))
            .map(|p| p.partition)
            .collect()
    }

    /// (partition, leader) pairs, ascending by partition.
    pub fn leaders(&self) -> Vec<(i32, Option<i32>)> {
        self.partitions
            .iter()
            .map(|p| (p.partition, p.leader))
            .collect()
    }
}

/// A replica assignment that spreads leadership evenly: `per_broker` partitions led by
/// each of `brokers`, partition `i` led by `brokers[i % n]` with its followers the
/// next brokers round the ring, so every broker is the preferred leader of
/// `per_broker` partitions and a preferred-leader election restores the spread.
/// `replication` is capped at the broker count. Empty when there are no brokers.
pub fn spread_assignment(brokers: &[i32], per_broker: i32, replication: i32) -> Vec<Vec<i32>> {
    let n = brokers.len();
    if n == 0 || per_broker < 1 {
        return Vec::new();
    }
    let rf = usize::try_from(replication).unwrap_or(1).clamp(1, n);
    let total = n * usize::try_from(per_broker).unwrap_or(1);
    (0..total)
        .map(|i| {
            // The followers come from the ring of the other brokers, starting further
            // along each round, so a broker's partitions do not all fail over to the
            // same neighbour.
            let others: Vec<i32> = (1..n).map(|j| brokers[(i + j) % n]).collect();
            let shift = i / n;
            std::iter::once(brokers[i % n])
                .chain((0..rf - 1).map(|k| others[(shift + k) % others.len()]))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spread_gives_every_broker_its_share_of_preferred_leaders() {
        let a = spread_assignment(&[1, 2, 3], 2, 3);
        assert_eq!(a.len(), 6);
        let mut firsts: Vec<i32> = a.iter().map(|r| r[0]).collect();
        firsts.sort_unstable();
        assert_eq!(firsts, [1, 1, 2, 2, 3, 3]);
        for replicas in &a {
            let mut distinct = replicas.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), 3, "{replicas:?}");
        }
    }

    #[test]
    fn the_spread_varies_followers_between_rounds_and_caps_replication() {
        let a = spread_assignment(&[1, 2, 3, 4], 2, 2);
        assert_eq!(a[0], [1, 2]);
        assert_eq!(a[4], [1, 3]);
        let wide = spread_assignment(&[1, 2, 3, 4], 3, 4);
        assert!(wide.iter().all(|r| {
            let mut d = r.clone();
            d.sort_unstable();
            d == [1, 2, 3, 4]
        }));
        assert!(spread_assignment(&[5], 3, 3).iter().all(|r| r == &[5]));
        assert!(spread_assignment(&[], 1, 1).is_empty());
    }

    #[test]
    fn unknown_leadership_keeps_the_partitions_only() {
        let l = Leadership::unknown(3);
        assert!(!l.known && l.topic_exists());
        assert_eq!(l.leaders(), [(0, None), (1, None), (2, None)]);
        assert!(l.led_by(1).is_empty());
        assert!(!Leadership::unknown(0).topic_exists());
    }
}
