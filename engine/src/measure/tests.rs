//! Unit tests of the meter: figures per note, passes and runs, and the bounds on memory.

use std::time::Duration;

use super::*;

fn note(seq: u64, offset_ms: u64) -> Measure {
    Measure {
        run: Some("r".into()),
        pass: Some(0),
        song: Some("s.mid".into()),
        seq: Some(seq),
        total: Some(5),
        offset_us: Some(offset_ms * 1000),
        sent_us: None,
        warmup: false,
    }
}

#[test]
fn notes_on_the_score_have_no_onset_error_and_full_tempo() {
    let mut m = Meter::default();
    let t0 = Instant::now();
    for (i, ms) in [0u64, 250, 500, 750, 1000].iter().enumerate() {
        m.observe(
            t0 + Duration::from_millis(*ms),
            0,
            "t",
            0,
            &note(i as u64, *ms),
        );
    }
    assert!(m.onset_us.max() <= 1);
    assert_eq!(m.late, 0);
    assert!((m.tempo().unwrap() - 1.0).abs() < 1e-6);
    assert_eq!(m.songs()[0].lost, 0);
}

#[test]
fn a_late_note_is_late_and_slows_the_tempo() {
    let mut m = Meter::default();
    let t0 = Instant::now();
    m.observe(t0, 0, "t", 0, &note(0, 0));
    m.observe(t0 + Duration::from_millis(1100), 0, "t", 0, &note(1, 1000));
    assert_eq!(m.late, 1);
    assert!(m.onset_us.max() >= 99_000);
    assert!((m.tempo().unwrap() - 1.0 / 1.1).abs() < 1e-3);
}

#[test]
fn a_late_first_note_does_not_make_the_others_early() {
    let mut m = Meter::default();
    let t0 = Instant::now();
    m.observe(t0 + Duration::from_millis(80), 0, "t", 0, &note(0, 0));
    for (i, ms) in [250u64, 500, 750].iter().enumerate() {
        m.observe(
            t0 + Duration::from_millis(*ms),
            0,
            "t",
            0,
            &note(i as u64 + 1, *ms),
        );
    }
    m.finish();
    assert_eq!(m.late, 1, "only the first note was late");
    assert!(
        m.onset_us.value_at_quantile(0.5) <= 1,
        "the others are on time"
    );
    assert!(m.onset_us.max() >= 79_000);
}

#[test]
fn gaps_reorders_and_duplicates_are_counted() {
    let mut m = Meter::default();
    let t0 = Instant::now();
    m.observe(t0, 0, "t", 0, &note(0, 0));
    m.observe(t0, 0, "t", 0, &note(3, 300));
    m.observe(t0, 0, "t", 0, &note(1, 100));
    m.observe(t0, 0, "t", 0, &note(1, 100));
    let song = &m.songs()[0];
    assert_eq!(song.lost, 1, "seq 2 never came");
    assert_eq!(song.missed_end, 1, "seq 4 not heard yet");
    assert_eq!(m.reordered, 2);
    assert_eq!(m.reordered_audible, 2, "300 ms apart in the score");
    assert_eq!(m.duplicates, 1);
}

fn in_pass(pass: u64, run: &str, m: Measure) -> Measure {
    Measure {
        pass: Some(pass),
        run: Some(run.to_string()),
        ..m
    }
}

#[test]
fn three_passes_of_a_looped_song_are_three_playings_not_duplicates() {
    let mut m = Meter::default();
    let t0 = Instant::now();
    let offsets = [0u64, 250, 500, 750, 1000];
    for pass in 0..3u64 {
        // Each pass starts 20 ms after the previous one ended, as the player does.
        let start = t0 + Duration::from_millis(pass * 1020);
        for (i, ms) in offsets.iter().enumerate() {
            let n = in_pass(pass, "r", note(i as u64, *ms));
            m.observe(start + Duration::from_millis(*ms), 0, "t", 0, &n);
        }
    }
    m.finish();
    assert_eq!((m.duplicates, m.reordered, m.late), (0, 0, 0));
    assert!((m.tempo().unwrap() - 1.0).abs() < 1e-6, "{:?}", m.tempo());
    assert!(m.onset_us.max() <= 1);
    let songs = m.songs();
    assert_eq!(songs.iter().map(|s| s.pass).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(songs.iter().all(|s| s.heard == 5 && s.lost == 0));
}

#[test]
fn two_runs_of_one_song_interleaved_keep_their_own_anchors() {
    let mut m = Meter::default();
    let t0 = Instant::now();
    let later = Duration::from_millis(50);
    for (i, ms) in [0u64, 250, 500, 750, 1000].iter().enumerate() {
        let at = t0 + Duration::from_millis(*ms);
        m.observe(at, 0, "t", 0, &in_pass(0, "r1", note(i as u64, *ms)));
        m.observe(
            at + later,
            0,
            "t",
            0,
            &in_pass(0, "r2", note(i as u64, *ms)),
        );
    }
    m.finish();
    assert_eq!((m.duplicates, m.reordered, m.late), (0, 0, 0));
    assert!(m.onset_us.max() <= 1, "run r2 is not 50 ms late against r1");
    assert!((m.tempo().unwrap() - 1.0).abs() < 1e-6);
    assert_eq!(m.songs().len(), 2);
}

#[test]
fn a_day_of_looping_keeps_a_bounded_number_of_songs_and_loses_no_figure() {
    let mut m = Meter::default();
    let t0 = Instant::now();
    let passes = 3 * MAX_TRACKS as u64;
    for pass in 0..passes {
        let start = t0 + Duration::from_millis(pass * 1020);
        for (i, ms) in [0u64, 250, 500, 750, 1000].iter().enumerate() {
            let n = in_pass(pass, "r", note(i as u64, *ms));
            m.observe(start + Duration::from_millis(*ms), 0, "t", 0, &n);
        }
    }
    m.finish();
    assert_eq!(
        m.songs().len(),
        MAX_TRACKS,
        "detail for the newest songs only"
    );
    let folded = m.folded();
    assert_eq!(folded.tracks, passes - MAX_TRACKS as u64);
    let heard: u64 = m.songs().iter().map(|s| s.heard).sum::<u64>() + folded.heard;
    assert_eq!(heard, 5 * passes, "every note still counted");
    assert_eq!((m.lost(), m.duplicates, m.late), (0, 0, 0));
    assert!((m.tempo().unwrap() - 1.0).abs() < 1e-6);
    assert_eq!(m.onset_us.len(), 5 * passes);
}

#[test]
fn samples_are_windowed_and_dropped_ones_still_count_in_the_onset_figures() {
    let mut m = Meter::default();
    let t0 = Instant::now();
    let n = 2 * SAMPLES_KEPT as u64 + 10;
    for seq in 0..n {
        let mut note = note(seq, seq * 10);
        note.total = Some(n);
        // Every 1000th note is 50 ms late.
        let late = if seq % 1000 == 999 { 50 } else { 0 };
        m.observe(
            t0 + Duration::from_millis(seq * 10 + late),
            0,
            "t",
            0,
            &note,
        );
    }
    m.finish();
    assert!(m.samples.len() < 2 * SAMPLES_KEPT, "{}", m.samples.len());
    assert_eq!(
        m.samples.last().map(|s| s.seq),
        Some(n - 1),
        "the newest kept"
    );
    assert_eq!(m.onset_us.len(), n, "dropped samples still counted");
    assert_eq!(m.late, n / 1000, "and their lateness too");
}

#[test]
fn records_without_kmidi_fields_are_unmeasured_not_zero() {
    let mut m = Meter::default();
    m.observe(Instant::now(), 0, "t", 0, &Measure::default());
    assert_eq!(m.unmeasured, 1);
    assert!(m.latency_us.is_empty());
    assert!(m.tempo().is_none());
}

#[test]
fn latency_is_arrival_minus_send_time_in_microseconds() {
    let mut m = Meter::default();
    let mut n = note(0, 0);
    n.sent_us = Some(1_000_000);
    m.observe(Instant::now(), 1_003_250, "t", 2, &n);
    assert!(
        m.latency_us.equivalent(m.latency_us.max(), 3_250),
        "µs, not ms"
    );
    assert_eq!(m.partitions[&("t".to_string(), 2)].count, 1);
}
