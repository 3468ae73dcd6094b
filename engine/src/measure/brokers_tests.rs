//! Unit tests of the figures per broker: charging by leader at arrival, silence while
//! notes were due, and loss from offset gaps.

use super::*;

/// Partitions 0, 1, 2 led by brokers 1, 2, 3 from t = 0.
fn spread() -> LeaderTimeline {
    let mut t = LeaderTimeline::default();
    t.record(0.0, [(0, Some(1)), (1, Some(2)), (2, Some(3))]);
    t
}

/// A note of `partition` scored at `at_ms` from a song starting at t = 1000 ms,
/// heard `late_ms` after its time.
fn note(partition: i32, at_ms: f64, late_ms: f64) -> Sample {
    let mut s = Sample::heard(0, partition, at_ms / 1000.0, 1000.0 + at_ms + late_ms);
    s.onset_ms = late_ms;
    s.latency_ms = Some(5.0 + late_ms);
    s
}

#[test]
fn a_held_back_broker_is_silent_and_the_others_are_not() {
    let mut samples = Vec::new();
    for i in 0..40 {
        let at = f64::from(i) * 100.0;
        // Broker 2 (partition 1) holds its notes from 1.0 s to 3.0 s of the song.
        let late = if (1000.0..3000.0).contains(&at) {
            3000.0 - at
        } else {
            0.0
        };
        samples.push(note(i % 3, at, if i % 3 == 1 { late } else { 0.0 }));
    }
    let figures = by_broker(&samples, &spread(), None);
    let b: Vec<i32> = figures.iter().map(|f| f.broker).collect();
    assert_eq!(b, [1, 2, 3]);
    let silence = |broker: usize| figures[broker].longest_silence_us;
    assert!(silence(1) >= 1_800_000, "broker 2: {}", silence(1));
    assert_eq!(silence(0), 0);
    assert_eq!(silence(2), 0);
    assert!(figures[1].late > 0 && figures[0].late == 0);
    assert!(figures[1].latency_us.value_at_quantile(0.99) > 1_000_000);
    assert_eq!(figures.iter().map(|f| f.notes).sum::<u64>(), 40);
    assert_eq!(figures[1].partitions, [1]);
    assert!(figures[1].lost.is_none());
}

#[test]
fn a_note_is_charged_to_the_leader_when_it_was_heard() {
    let mut t = spread();
    // Broker 2 fails over to broker 3 at t = 1500 ms.
    t.record(1500.0, [(0, Some(1)), (1, Some(3)), (2, Some(3))]);
    t.record(1600.0, [(0, Some(1)), (1, Some(3)), (2, Some(3))]);
    assert_eq!(t.leader_at(1, 500.0), Some(2));
    assert_eq!(t.leader_at(1, 1500.0), Some(3));
    assert_eq!(t.leader_at(1, -5.0), Some(2), "before the first reading");
    assert_eq!(t.moves(), [(1500.0, 1, Some(2), Some(3))]);
    let figures = by_broker(&[note(1, 0.0, 0.0), note(1, 1000.0, 0.0)], &t, None);
    let notes: Vec<(i32, u64)> = figures.iter().map(|f| (f.broker, f.notes)).collect();
    assert_eq!(notes, [(1, 0), (2, 1), (3, 1)], "every broker listed");
    assert_eq!(figures[2].partitions, [1, 2]);
}

#[test]
fn a_rest_in_the_score_is_not_a_silence() {
    // Notes of one broker 2 s apart in the score, each on time.
    let samples = [note(0, 0.0, 0.0), note(0, 2000.0, 0.0)];
    let figures = by_broker(&samples, &spread(), None);
    assert_eq!(figures[0].longest_silence_us, 0);
}

#[test]
fn silence_runs_from_the_later_of_the_previous_arrival_and_the_due_time() {
    assert_eq!(silence_us(None, 10_000, 0), 0);
    assert_eq!(silence_us(None, 10_000, 4_000), 4_000);
    assert_eq!(silence_us(Some(8_000), 10_000, 4_000), 2_000);
    assert_eq!(silence_us(Some(1_000), 10_000, 4_000), 4_000);
    assert_eq!(silence_us(Some(1_000), 10_000, -4_000), 0);
}

#[test]
fn skipped_offsets_are_charged_as_lost_to_the_partitions_leader() {
    let mut gaps = OffsetGaps::default();
    gaps.observe(1, 10, 100.0);
    gaps.observe(1, 11, 200.0);
    gaps.observe(1, 15, 300.0);
    gaps.observe(1, 3, 400.0);
    gaps.observe(0, 7, 100.0);
    assert_eq!(gaps.gaps, [(1, 300.0, 3)]);
    let figures = by_broker(&[], &spread(), Some(&gaps));
    let lost: Vec<Option<u64>> = figures.iter().map(|f| f.lost).collect();
    assert_eq!(lost, [Some(0), Some(3), Some(0)]);
}

#[test]
fn an_unchanged_reading_is_not_kept() {
    let mut t = spread();
    t.record(5.0, [(0, Some(1)), (1, Some(2)), (2, Some(3))]);
    assert_eq!(t.readings.len(), 1);
    assert!(LeaderTimeline::default().leader_at(0, 1.0).is_none());
}

#[test]
fn a_partition_without_a_leader_stays_its_last_leaders() {
    let mut t = spread();
    t.record(10.0, [(0, Some(1)), (1, None), (2, Some(3))]);
    assert_eq!(t.leader_at(1, 20.0), Some(2));
    assert_eq!(t.moves(), [(10.0, 1, Some(2), None)]);
    let mut never = LeaderTimeline::default();
    never.record(0.0, [(0, None)]);
    assert_eq!(never.leader_at(0, 5.0), None);
}
