//! How one load step is spread over a coordinator's agents: whole records per second
//! per producer (Trogdor's rate is a Java `int`), the step's records in total.

use std::time::Duration;

/// One producer's share of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerShare {
    /// Which agent, as an index into the driver's agent list (before its rotation).
    pub agent: usize,
    pub rate: i32,
    pub max_messages: u64,
}

/// Splits `records_per_sec` over up to `agents` producers, each at least 1 record/s
/// (a slower step is one producer at 1/s that stops after the step's records). The
/// shares' `max_messages` add up to the step's records, `rate × duration` rounded up
/// per share, so the load ends when it was asked to even though the rate is rounded.
pub fn producer_shares(
    records_per_sec: f64,
    duration: Duration,
    agents: usize,
) -> Vec<ProducerShare> {
    if !(records_per_sec.is_finite() && records_per_sec > 0.0) || agents == 0 {
        return Vec::new();
    }
    let total = records_per_sec.round().clamp(1.0, i32::MAX as f64) as u64;
    let k = (agents as u64).min(total);
    (0..k)
        .map(|i| {
            let rate = total / k + u64::from(i < total % k);
            // This share of the true rate, not of the rounded one.
            let true_rate = records_per_sec * rate as f64 / total as f64;
            ProducerShare {
                agent: i as usize,
                rate: rate as i32,
                max_messages: (true_rate * duration.as_secs_f64()).ceil().max(1.0) as u64,
            }
        })
        .collect()
}

/// Splits `consumers` group members over up to `agents` consume tasks: (agent index,
/// threads) pairs.
pub fn consumer_shares(consumers: u32, agents: usize) -> Vec<(usize, u32)> {
    let k = (agents as u32).min(consumers);
    (0..k)
        .map(|i| (i as usize, consumers / k + u32::from(i < consumers % k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn one_agent_makes_the_whole_step() {
        assert_eq!(
            producer_shares(200.0, secs(3), 1),
            vec![ProducerShare {
                agent: 0,
                rate: 200,
                max_messages: 600
            }]
        );
    }

    #[test]
    fn agents_share_the_rate_and_the_records() {
        let s = producer_shares(1001.0, secs(10), 3);
        assert_eq!(
            s.iter().map(|s| s.rate).collect::<Vec<_>>(),
            vec![334, 334, 333]
        );
        assert_eq!(s.iter().map(|s| s.agent).collect::<Vec<_>>(), vec![0, 1, 2]);
        let records: u64 = s.iter().map(|s| s.max_messages).sum();
        assert!((10_010..=10_013).contains(&records), "{records}");
    }

    #[test]
    fn a_slow_step_is_one_producer_that_stops_after_its_records() {
        // 0.4 records/s for 10 s: 4 records, one producer at its least rate.
        assert_eq!(
            producer_shares(0.4, secs(10), 5),
            vec![ProducerShare {
                agent: 0,
                rate: 1,
                max_messages: 4
            }]
        );
        // More agents than records per second: one record/s each.
        assert_eq!(producer_shares(2.0, secs(1), 5).len(), 2);
    }

    #[test]
    fn nothing_to_make_is_no_share() {
        assert!(producer_shares(0.0, secs(1), 2).is_empty());
        assert!(producer_shares(f64::NAN, secs(1), 2).is_empty());
        assert!(producer_shares(f64::INFINITY, secs(1), 2).is_empty());
        assert!(producer_shares(5.0, secs(1), 0).is_empty());
    }

    #[test]
    fn consumers_are_spread_over_the_agents() {
        assert_eq!(consumer_shares(5, 2), vec![(0, 3), (1, 2)]);
        assert_eq!(consumer_shares(1, 3), vec![(0, 1)]);
        assert!(consumer_shares(0, 3).is_empty());
        assert!(consumer_shares(3, 0).is_empty());
    }
}
