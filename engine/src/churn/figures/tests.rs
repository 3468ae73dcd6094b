use super::*;
use crate::churn::{AppliedEvent, MemberChange};

const START_US: u64 = 1_000_000_000_000;

fn parts(ps: &[i32]) -> Option<Vec<(String, i32)>> {
    Some(ps.iter().map(|p| ("t".to_string(), *p)).collect())
}

fn at(s: f64) -> u64 {
    START_US + (s * 1e6) as u64
}

/// Two partitions, a note on each every 100 ms for 10 s, arriving 5 ms after its time,
/// except what `drop` says was never heard.
fn song(drop: impl Fn(i32, f64) -> bool) -> (Vec<Sample>, Vec<u64>) {
    let (mut samples, mut scheduled) = (Vec::new(), Vec::new());
    for i in 0..200u64 {
        let (partition, t) = ((i % 2) as i32, (i / 2) as f64 * 0.1);
        scheduled.push((t * 1e6) as u64);
        if !drop(partition, t) {
            let arrived_ms = at(t + 0.005) as f64 / 1000.0;
            samples.push(Sample::heard(i, partition, t, arrived_ms));
        }
    }
    (samples, scheduled)
}

/// A member's assignment at a time (`None`: gone).
type Change = (f64, usize, Option<Vec<(String, i32)>>);

fn log(events: &[(&str, ChurnKind, f64)], changes: &[Change]) -> GroupLog {
    GroupLog {
        partitions: 2,
        reports_assignment: true,
        song_start_us: Some(START_US),
        events: events
            .iter()
            .map(|(name, kind, s)| AppliedEvent {
                event: name.to_string(),
                kind: *kind,
                at_score_s: *s,
                applied_us: at(*s),
                member: Some(1),
            })
            .collect(),
        changes: changes
            .iter()
            .map(|(s, member, partitions)| MemberChange {
                at_us: at(*s),
                member: *member,
                partitions: partitions.clone(),
            })
            .collect(),
        ..GroupLog::default()
    }
}

#[test]
fn a_kill_is_charged_the_orphaned_partitions_silence_losses_and_settling_time() {
    // Member 1 held partition 1 and is killed at 4 s; member 0 takes it over at 7 s.
    let (samples, scheduled) = song(|p, t| p == 1 && (4.0..7.0).contains(&t));
    let log = log(
        &[("kill@4s", ChurnKind::Kill, 4.0)],
        &[
            (0.0, 0, parts(&[0])),
            (0.0, 1, parts(&[1])),
            (4.0, 1, None),
            (7.0, 0, parts(&[0, 1])),
        ],
    );
    let f = event_figures(&log, &samples, &scheduled, at(10.5));
    assert_eq!(f.len(), 1);
    let e = &f[0];
    assert_eq!(e.lost, 30, "notes of partition 1 scheduled in [4 s, 7 s)");
    assert_eq!((e.late, e.duplicated, e.reordered), (0, 0, 0));
    assert_eq!(e.assignment_changes, 2);
    assert_eq!(e.stable_after_s, Some(3.0));
    let worst = e.worst_silence().unwrap();
    assert_eq!(worst.partition, 1);
    assert!((worst.silence_ms - 3100.0).abs() < 1.0, "{worst:?}");
    assert!((worst.beyond_score_ms - 3000.0).abs() < 1.0, "{worst:?}");
    let p0 = e.silences.iter().find(|s| s.partition == 0).unwrap();
    assert!(p0.beyond_score_ms < 1.0, "partition 0 played on: {p0:?}");
}

#[test]
fn each_event_is_charged_only_its_own_stretch() {
    let (samples, scheduled) = song(|p, t| p == 0 && (6.0..6.5).contains(&t));
    let log = log(
        &[
            ("join@2s", ChurnKind::Join, 2.0),
            ("leave@5s", ChurnKind::Leave, 5.0),
        ],
        &[
            (0.0, 0, parts(&[0, 1])),
            (2.5, 0, parts(&[0])),
            (2.6, 1, parts(&[1])),
        ],
    );
    let f = event_figures(&log, &samples, &scheduled, at(10.5));
    assert_eq!(f.iter().map(|e| e.lost).collect::<Vec<_>>(), vec![0, 5]);
    let stable = f[0].stable_after_s.unwrap();
    assert!((stable - 0.6).abs() < 1e-6, "{stable}");
    // The leave changed no assignment in its stretch: the group was already settled.
    assert_eq!(f[1].stable_after_s, Some(0.0));
}

#[test]
fn a_partition_held_twice_or_by_nobody_is_not_stable() {
    let (samples, scheduled) = song(|_, _| false);
    let twice = log(
        &[("join@2s", ChurnKind::Join, 2.0)],
        &[(0.0, 0, parts(&[0, 1])), (2.5, 1, parts(&[1]))],
    );
    assert_eq!(
        event_figures(&twice, &samples, &scheduled, at(10.5))[0].stable_after_s,
        None
    );
    let orphaned = log(
        &[("kill@2s", ChurnKind::Kill, 2.0)],
        &[(0.0, 0, parts(&[0])), (0.0, 1, parts(&[1])), (2.0, 1, None)],
    );
    assert_eq!(
        event_figures(&orphaned, &samples, &scheduled, at(10.5))[0].stable_after_s,
        None
    );
}

#[test]
fn a_partition_never_heard_again_is_silent_to_the_end() {
    let (samples, scheduled) = song(|p, t| p == 1 && t >= 4.0);
    let log = log(
        &[("kill@4s", ChurnKind::Kill, 4.0)],
        &[(0.0, 0, parts(&[0])), (0.0, 1, parts(&[1])), (4.0, 1, None)],
    );
    let e = &event_figures(&log, &samples, &scheduled, at(12.0))[0];
    let p1 = e.silences.iter().find(|s| s.partition == 1).unwrap();
    assert!(!p1.resumed);
    // Heard last at 3.905 s; the song ends at 9.9 s, resting at most 0.1 s in between.
    assert!((p1.silence_ms - 5995.0).abs() < 1.0, "{p1:?}");
    assert!((p1.beyond_score_ms - 5895.0).abs() < 1.0, "{p1:?}");
    assert_eq!(e.lost, 60);
}

#[test]
fn a_silence_and_a_replay_are_charged_to_the_event_they_are_heard_after() {
    // Partition 1 goes quiet at 4.9 s, just before a kill at 5 s applied after a leave
    // at 3 s; it is heard again from 8 s, its notes of 4.9..8 s replayed late then.
    let (mut samples, scheduled) = song(|p, t| p == 1 && (4.9..8.0).contains(&t));
    for i in 0..31u64 {
        let t = 4.9 + i as f64 * 0.1;
        let mut s = Sample::heard(99 + 2 * i, 1, t, at(8.0 + i as f64 * 0.001) as f64 / 1000.0);
        s.onset_ms = (8.0 - t) * 1000.0;
        samples.push(s);
    }
    let log = log(
        &[
            ("leave@3s", ChurnKind::Leave, 3.0),
            ("kill@5s", ChurnKind::Kill, 5.0),
        ],
        &[(0.0, 0, parts(&[0])), (0.0, 1, parts(&[1]))],
    );
    let f = event_figures(&log, &samples, &scheduled, at(10.5));
    let worst = |e: &EventFigures| e.worst_silence().map(|w| w.partition);
    assert!(
        f[0].silences.iter().all(|s| s.beyond_score_ms < 1.0),
        "{:?}",
        f[0]
    );
    assert_eq!(worst(&f[1]), Some(1));
    assert_eq!(
        (f[0].late, f[1].late),
        (0, 31),
        "the replay is heard after the kill"
    );
}
