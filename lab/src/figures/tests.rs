use kmidi_engine::measure::Sample;

use super::*;
use crate::scenario::Scenario;

/// Ten notes a second: note `seq` is scored at `seq / 10` s.
const NOTES_PER_S: f64 = 10.0;
/// The song's start, wall clock, ms since the Unix epoch.
const START_MS: f64 = 1_700_000_000_000.0;

fn score(len_s: f64) -> Vec<f64> {
    (0..(len_s * NOTES_PER_S) as u64)
        .map(|seq| seq as f64 / NOTES_PER_S)
        .collect()
}

/// A note scored at `at_s`, heard `onset_ms` late with `latency_ms` of latency.
fn note(seq: u64, at_s: f64, onset_ms: f64, latency_ms: f64) -> Sample {
    let mut s = Sample::heard(seq, 0, at_s, START_MS + at_s * 1000.0 + onset_ms);
    s.onset_ms = onset_ms;
    s.latency_ms = Some(latency_ms);
    s
}

fn applied(scenario: &Scenario) -> Vec<AppliedStep> {
    scenario
        .load
        .iter()
        .enumerate()
        .map(|(i, l)| AppliedStep::planned(i, l, 1.0))
        .collect()
}

/// The notes the score puts in a window, counted as the windows count them.
fn sent_in(score: &[f64], w: &WindowFigures) -> u64 {
    let end = score.iter().copied().fold(0.0, f64::max);
    score
        .iter()
        .filter(|t| {
            w.from_s < w.to_s
                && **t >= w.from_s
                && (**t < w.to_s || (w.to_s >= end && **t <= w.to_s))
        })
        .count() as u64
}

/// A ramp of five levels whose onset error grows with the level: 1, 4, 8, 15, 30 ms.
const ONSET_BY_LEVEL_MS: [f64; 5] = [1.0, 4.0, 8.0, 15.0, 30.0];

/// Which notes are never heard, by seq.
type Lose<'a> = &'a dyn Fn(u64) -> bool;

fn ramp_run(lose: Lose<'_>) -> (Scenario, Vec<f64>, Vec<Sample>) {
    let scenario: Scenario = "ramp@10s:from=1MB/s:to=5MB/s:step=1MB/s:every=10s"
        .parse()
        .unwrap();
    let score = score(70.0);
    let samples = score
        .iter()
        .enumerate()
        .filter(|(seq, _)| !lose(*seq as u64))
        .map(|(seq, at)| {
            let level = ((at - 10.0) / 10.0).floor();
            let onset = if (0.0..5.0).contains(&level) {
                ONSET_BY_LEVEL_MS[level as usize]
            } else {
                0.5
            };
            note(seq as u64, *at, onset, 2.0 + onset)
        })
        .collect();
    (scenario, score, samples)
}

#[test]
fn the_knee_is_the_lowest_level_past_each_threshold() {
    let (scenario, score, samples) = ramp_run(&|_| false);
    let steps = applied(&scenario);
    let figures = step_figures(&FiguresInput {
        samples: &samples,
        scheduled_s: Some(&score),
        steps: &steps,
        ..FiguresInput::default()
    });
    assert_eq!(figures.len(), 5);
    for (f, onset) in figures.iter().zip(ONSET_BY_LEVEL_MS) {
        let p99 = f.during.onset_p99_ms.unwrap();
        // HDR histograms: 3 significant digits.
        assert!((p99 - onset).abs() <= onset * 1e-3, "{p99} vs {onset}");
        assert_eq!(f.during.notes, 100);
        assert_eq!(f.during.late, if onset > 6.0 { 100 } else { 0 });
    }
    let knees = knees(&figures);
    assert_eq!(
        knees,
        vec![RampKnee {
            ramp: 0,
            levels: 5,
            levels_run: 5,
            knee: Knee {
                out_of_time: Some(Rate::BytesPerSec(3e6)),
                wrong_melody: Some(Rate::BytesPerSec(5e6)),
            },
            out_of_time_step: Some(2),
            wrong_melody_step: Some(4),
        }]
    );
    let levels: Vec<&StepFigures> = figures.iter().collect();
    assert_eq!(knee(&levels), knees[0].knee);
    // Without the two top levels (the run ended early), the melody never went wrong.
    let knees = super::knees(&figures[..3]);
    assert_eq!(knees[0].levels_run, 3);
    assert_eq!(knees[0].knee.out_of_time, Some(Rate::BytesPerSec(3e6)));
    assert_eq!(knees[0].knee.wrong_melody, None);
    assert!(super::knees(&figures[..2])[0].knee == Knee::default());
}

#[test]
fn heard_plus_lost_is_what_the_score_sent_in_every_window() {
    // Every 7th note lost (never the first or the last), and a run of 30 from a level's
    // first note on.
    let lose = |seq: u64| (seq % 7 == 3 && seq < 690) || (200..230).contains(&seq);
    // Without the score, a lost note's time is interpolated: exact for evenly spaced
    // notes, give or take a rounding error, so none lost on a step's edge here.
    let lose_inside = |seq: u64| seq % 7 == 3 && seq < 690 && !seq.is_multiple_of(100);
    let runs: [(bool, Lose); 2] = [(true, &lose), (false, &lose_inside)];
    for (with_score, lose) in runs {
        let (scenario, score, samples) = ramp_run(lose);
        let scheduled_s = with_score.then_some(score.as_slice());
        let heard_at: Vec<f64> = samples.iter().map(|s| s.at_s).collect();
        let figures = step_figures(&FiguresInput {
            samples: &samples,
            scheduled_s,
            steps: &applied(&scenario),
            ..FiguresInput::default()
        });
        let mut lost_total = 0;
        for f in &figures {
            for w in [&f.before, &f.during, &f.after] {
                assert_eq!(w.notes, sent_in(&heard_at, w), "{w:?}");
                assert_eq!(w.notes + w.lost, sent_in(&score, w), "{w:?}");
            }
            lost_total += f.during.lost;
        }
        let lost_in_ramp = (100..600).filter(|seq| lose(*seq)).count() as u64;
        assert!(lost_in_ramp > 70);
        assert_eq!(lost_total, lost_in_ramp);
    }
}

#[test]
fn windows_are_as_long_as_the_step_and_clipped_to_the_song() {
    let scenario: Scenario = "load@5s:rate=1MB/s:for=10s,load@25s:rate=2MB/s:for=10s"
        .parse()
        .unwrap();
    let score = score(30.0);
    let samples: Vec<Sample> = score
        .iter()
        .enumerate()
        .map(|(seq, at)| note(seq as u64, *at, 0.5, 1.0))
        .collect();
    let figures = step_figures(&FiguresInput {
        samples: &samples,
        scheduled_s: Some(&score),
        steps: &applied(&scenario),
        ..FiguresInput::default()
    });
    let spans = |f: &StepFigures| [&f.before, &f.during, &f.after].map(|w| (w.from_s, w.to_s));
    assert_eq!(spans(&figures[0]), [(0.0, 5.0), (5.0, 15.0), (15.0, 25.0)]);
    // The song's last note is at 29.9 s: the after window is empty, the last note
    // belongs to the window reaching the song's end.
    let last = score[score.len() - 1];
    assert_eq!(
        spans(&figures[1]),
        [(15.0, 25.0), (25.0, 35.0), (35.0, last.max(35.0))]
    );
    assert_eq!(figures[1].during.notes, 50);
    assert_eq!(figures[1].after.notes, 0);
    assert_eq!(figures[1].after.length_s(), 0.0);
    assert_eq!(figures[0].before.notes, 50);
    assert_eq!(figures[0].label, "load@5s:rate=1MB/s:size=10KB:for=10s");
    assert_eq!(figures[1].asked, Rate::BytesPerSec(2e6));
    assert_eq!(figures[1].asked_records_per_sec(), 200.0);
    assert_eq!(figures[1].asked_bytes_per_sec(), 2e6);
    assert!(figures[0].ramp.is_none());
    assert!(knees(&figures).is_empty());
}

#[test]
fn a_step_at_a_speed_ratio_of_two_falls_at_twice_the_song_time() {
    let scenario: Scenario = "load@10s:rate=1MB/s:for=4s".parse().unwrap();
    let a = AppliedStep::planned(0, &scenario.load[0], 2.0);
    assert_eq!((a.started_s, a.ended_s), (20.0, 28.0));
    let a = AppliedStep::planned(0, &scenario.load[0], 0.0);
    assert_eq!((a.started_s, a.ended_s), (10.0, 14.0));
}

#[test]
fn latency_tempo_and_the_hosts_own_figures_are_per_window() {
    let scenario: Scenario = "load@10s:rate=1MB/s:for=10s".parse().unwrap();
    let score = score(30.0);
    let mut samples: Vec<Sample> = score
        .iter()
        .enumerate()
        .map(|(seq, at)| {
            let mut s = note(seq as u64, *at, 0.0, if *at < 10.0 { 2.0 } else { 9.0 });
            // During the load the music is heard at 80 % of its tempo.
            if (10.0..20.0).contains(at) {
                s.arrived_unix_ms = START_MS + 10_000.0 + (at - 10.0) * 1250.0;
            }
            s
        })
        .collect();
    // A redelivery counts once.
    let mut dup = samples[150].clone();
    dup.duplicate = true;
    dup.onset_ms = 500.0;
    samples.push(dup);
    let lateness: Vec<(f64, u64)> = (0..300)
        .map(|i| (i as f64 / 10.0, if i < 100 { 100 } else { 2000 }))
        .collect();
    let reports = [LoadReport::nothing(0, Rate::BytesPerSec(1e6))];
    let figures = step_figures(&FiguresInput {
        samples: &samples,
        scheduled_s: Some(&score),
        steps: &applied(&scenario),
        reports: &reports,
        player_lateness: Some(&lateness),
        processing: None,
    });
    let f = &figures[0];
    assert_eq!(f.before.latency_p50_ms, Some(2.0));
    assert_eq!(f.before.latency_p99_ms, Some(2.0));
    let p99 = f.during.latency_p99_ms.unwrap();
    assert!((p99 - 9.0).abs() < 0.01, "{p99}");
    assert_eq!(f.during.notes, 100);
    assert!(f.during.onset_p99_ms.unwrap() < 0.01);
    let tempo = f.during.tempo.unwrap();
    assert!((tempo - 0.8).abs() < 1e-6, "{tempo}");
    let tempo = f.before.tempo.unwrap();
    assert!((tempo - 1.0).abs() < 1e-6, "{tempo}");
    assert_eq!(f.before.player_lateness_p99_us, Some(100));
    assert_eq!(f.during.player_lateness_p99_us, Some(2000));
    assert_eq!(f.during.processing_p99_us, None);
    assert_eq!(f.achieved.as_ref().map(|r| r.step), Some(0));
}

#[test]
fn a_level_that_silenced_the_music_is_past_both_thresholds() {
    // Level 1 (20..30 s) loses every note; the knee's out-of-time level stays the
    // first past 6 ms (level 2 here has 8 ms, but level 1 is lower and silent).
    let (scenario, score, samples) = ramp_run(&|seq| (200..300).contains(&seq));
    let figures = step_figures(&FiguresInput {
        samples: &samples,
        scheduled_s: Some(&score),
        steps: &applied(&scenario),
        ..FiguresInput::default()
    });
    assert!(figures[1].during.silenced());
    assert_eq!(figures[1].during.onset_p99_ms, None);
    assert_eq!(figures[1].during.tempo, None);
    let k = &knees(&figures)[0];
    assert_eq!(k.knee.out_of_time, Some(Rate::BytesPerSec(2e6)));
    assert_eq!(k.knee.wrong_melody, Some(Rate::BytesPerSec(2e6)));
    assert!(!figures[0].during.out_of_time());
}

#[test]
fn nothing_heard_gives_empty_figures() {
    let scenario: Scenario = "load@1s:rate=1MB/s:for=1s".parse().unwrap();
    let figures = step_figures(&FiguresInput {
        steps: &applied(&scenario),
        ..FiguresInput::default()
    });
    let w = &figures[0].during;
    assert_eq!((w.notes, w.lost, w.late), (0, 0, 0));
    assert_eq!(
        (w.latency_p50_ms, w.onset_p99_ms, w.tempo),
        (None, None, None)
    );
    assert!(!w.silenced() && !w.out_of_time());
    assert!(figures[0].achieved.is_none());
}
