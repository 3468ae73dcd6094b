//! What the testkit says about partition leaders, chosen by `testkit.leaders`: one
//! broker (id 1) leading its topics' one partition (`one`, the default), a wide
//! cluster whose answer overflows the host's first buffers (`many`: 100 partitions
//! spread over 20 brokers, replication 3, to exercise the ABI's second call), or
//! "cannot tell" (`unknown`, the `Admin` default).

use kmidi_transport::{
    spread_assignment, ClientConfig, Leadership, PartitionLeader, TransportError,
};

/// The cluster shape `testkit.leaders` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Leaders {
    One,
    Many,
    Unknown,
}

impl Leaders {
    pub(crate) fn of(config: &ClientConfig) -> Result<Self, TransportError> {
        match config.get("testkit.leaders").unwrap_or("one") {
            "one" => Ok(Leaders::One),
            "many" => Ok(Leaders::Many),
            "unknown" => Ok(Leaders::Unknown),
            other => Err(TransportError::Config {
                key: "testkit.leaders".into(),
                reason: format!("unknown value {other:?}; use one|many|unknown"),
            }),
        }
    }

    /// Leadership of a topic of `partitions` partitions (`None`: no such topic), or
    /// `None` for `unknown`.
    pub(crate) fn leadership(self, partitions: Option<i32>) -> Option<Leadership> {
        let (brokers, replicas): (Vec<i32>, Vec<Vec<i32>>) = match self {
            Leaders::Unknown => return None,
            Leaders::One => (vec![1], vec![vec![1]; partitions.unwrap_or(0) as usize]),
            Leaders::Many => {
                let brokers: Vec<i32> = (1..=20).collect();
                let replicas = if partitions.is_some() {
                    spread_assignment(&brokers, 5, 3)
                } else {
                    Vec::new()
                };
                (brokers, replicas)
            }
        };
        Some(Leadership {
            known: true,
            brokers,
            partitions: (0..)
                .zip(replicas)
                .map(|(partition, replicas)| PartitionLeader {
                    partition,
                    leader: replicas.first().copied(),
                    isr: replicas.clone(),
                    replicas,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Leaders;

    #[test]
    fn many_overflows_the_hosts_first_buffers() {
        let l = Leaders::Many.leadership(Some(1)).expect("known");
        assert_eq!((l.partitions.len(), l.brokers.len()), (100, 20));
        assert!(l.partitions.iter().all(|p| p.replicas.len() == 3));
        assert_eq!(
            Leaders::One.leadership(Some(1)).expect("known").led_by(1),
            [0]
        );
        assert!(Leaders::One
            .leadership(None)
            .expect("known")
            .partitions
            .is_empty());
        assert!(Leaders::Unknown.leadership(Some(1)).is_none());
    }
}
