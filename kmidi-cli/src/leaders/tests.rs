use super::*;
use kmidi_transport::PartitionLeader;

const B: &str = "127.0.0.1:9092";

/// Six partitions preferring 1, 2, 3, 1, 2, 3 with every replica in sync, led by
/// `leaders`; `brokers` listed.
fn reading(brokers: &[i32], leaders: [Option<i32>; 6]) -> Leadership {
    Leadership {
        known: true,
        brokers: brokers.to_vec(),
        partitions: (0..6)
            .map(|p| {
                let first = p % 3 + 1;
                PartitionLeader {
                    partition: p,
                    leader: leaders[p as usize],
                    replicas: vec![first, first % 3 + 1, (first + 1) % 3 + 1],
                    isr: brokers.to_vec(),
                }
            })
            .collect(),
    }
}

const SPREAD: [Option<i32>; 6] = [Some(1), Some(2), Some(3), Some(1), Some(2), Some(3)];
/// Broker 2 failed over: its partitions went to 3 and 1.
const FAILED: [Option<i32>; 6] = [Some(1), Some(3), Some(3), Some(1), Some(3), Some(3)];

fn all(brokers: &[i32]) -> BTreeSet<i32> {
    brokers.iter().copied().collect()
}

#[test]
fn a_spread_topic_draws_no_warning() {
    assert_eq!(
        check_spread(&reading(&[1, 2, 3], SPREAD), &all(&[1, 2, 3]), "t", B),
        None
    );
    assert_eq!(
        check_spread(&Leadership::unknown(6), &all(&[1, 2, 3]), "t", B),
        None
    );
}

#[test]
fn a_broker_gone_from_the_metadata_is_missed_with_how_to_restore_it() {
    let text =
        check_spread(&reading(&[1, 3], FAILED), &all(&[1, 2, 3]), "t", B).unwrap_or_default();
    assert!(
        text.contains("broker 2 is gone from the cluster's metadata"),
        "{text}"
    );
    assert!(
        text.contains("(now: 1 -> broker 3, 4 -> broker 3)"),
        "{text}"
    );
    assert!(
        text.contains("once it is back and in sync, restore it")
            && text.contains(
                "kafka-leader-election.sh --bootstrap-server 127.0.0.1:9092 \
                 --election-type PREFERRED --all-topic-partitions"
            ),
        "{text}"
    );
}

#[test]
fn a_broker_back_but_leading_nothing_gets_the_election_for_its_partition() {
    let mut l = reading(&[1, 2, 3], FAILED);
    l.partitions.truncate(3);
    let text = check_spread(&l, &all(&[1, 2, 3]), "t", B).unwrap_or_default();
    assert!(
        text.contains("broker 2 is up but leads no partition of t"),
        "{text}"
    );
    assert!(
        text.contains("\n  restore it with") && text.contains("--topic t --partition 1"),
        "{text}"
    );
}

#[test]
fn a_broker_no_partition_prefers_is_told_to_re_create_and_leaderless_partitions_show() {
    let mut l = reading(&[1, 2, 3], SPREAD);
    for p in &mut l.partitions {
        p.replicas = vec![1];
    }
    l.partitions[0].leader = None;
    let text = check_spread(&l, &all(&[1, 2, 3, 4]), "t", B).unwrap_or_default();
    assert!(text.contains("broker 4 is gone"), "{text}");
    assert!(
        text.contains("delete the topic") && text.contains("--per-broker"),
        "{text}"
    );
    assert!(
        text.contains("partition(s) 0 of t have no leader"),
        "{text}"
    );
}

#[test]
fn the_watch_reads_every_period_and_says_each_change_once() {
    let start = Instant::now();
    let mut w = LeaderWatch::new("t", B, Duration::from_secs(5));
    assert!(w.due(start));
    assert!(w.tick(start, || Ok(reading(&[1, 2, 3], SPREAD))).is_empty());
    assert_eq!(w.current().map(|l| l.led_by(2)), Some(vec![1, 4]));
    let early = start + Duration::from_secs(1);
    assert!(!w.due(early));
    assert!(w.tick(early, || panic!("not due")).is_empty());

    // Broker 2 dies: what moved, then the warning, once.
    let t1 = start + Duration::from_secs(5);
    let n = w.tick(t1, || Ok(reading(&[1, 3], FAILED)));
    assert_eq!(n.len(), 2, "{n:?}");
    assert_eq!(
        n[0],
        Notice::Moved(
            "leaders of t moved: partition 1: broker 2 -> broker 3, \
             partition 4: broker 2 -> broker 3"
                .to_string()
        )
    );
    assert!(matches!(&n[1], Notice::Warning(t) if t.contains("broker 2 is gone")));
    let t2 = t1 + Duration::from_secs(5);
    assert!(w.tick(t2, || Ok(reading(&[1, 3], FAILED))).is_empty());

    // It is back but leads nothing: a new warning; then the election restores it.
    let t3 = t2 + Duration::from_secs(5);
    let n = w.tick(t3, || Ok(reading(&[1, 2, 3], FAILED)));
    assert!(
        matches!(&n[..], [Notice::Warning(t)] if t.contains("is up but")),
        "{n:?}"
    );
    let t4 = t3 + Duration::from_secs(5);
    let n = w.tick(t4, || Ok(reading(&[1, 2, 3], SPREAD)));
    assert!(matches!(&n[0], Notice::Moved(_)), "{n:?}");
    assert_eq!(
        n[1],
        Notice::Restored("every broker leads a partition of t again".to_string())
    );
    assert_eq!(n[1].text(), "every broker leads a partition of t again");
}

#[test]
fn an_unreadable_cluster_is_said_once_and_unknown_leaders_say_nothing() {
    let start = Instant::now();
    let mut w = LeaderWatch::new("t", B, Duration::from_secs(5));
    let fail = || Err(TransportError::Client("down".to_string()));
    let n = w.observe(start, fail());
    assert!(
        matches!(&n[..], [Notice::Unreadable(t)] if t.contains("t: down")),
        "{n:?}"
    );
    assert!(w.observe(start, fail()).is_empty());
    assert!(w.observe(start, Ok(Leadership::unknown(6))).is_empty());
    assert_eq!(w.current().map(|l| l.known), Some(false));
    assert!(w.observe(start, fail()).len() == 1);
}
