//! The load runner's thread: starts each load step when the song reaches its time,
//! follows it to its report, judges each ramp level as it ends and raises the load no
//! further once the music broke on every side, and stops everything it started when
//! told (the song ended, Ctrl-C, an error) or when every step is done.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kmidi_engine::measure::unix_us;
use kmidi_lab::figures::{step_figures, AppliedStep, FiguresInput};
use kmidi_lab::{LoadReport, LoadStep, RampUntil, StepHandle};

use super::driver::Driver;
use super::watch::SideWatch;

/// How often the runner looks at the clock, and how often it asks a running step.
const TICK: Duration = Duration::from_millis(20);
const POLL_EVERY: Duration = Duration::from_millis(250);

/// Told as the load goes (the `--metrics` series).
pub trait LoadEvents: Send + Sync {
    fn started(&self, step: &LoadStep);
    fn finished(&self, step: &LoadStep, report: Option<&LoadReport>);
}

/// What became of one load step.
#[derive(Clone, Debug, Default)]
pub enum StepState {
    #[default]
    Pending,
    Running(StepHandle),
    Done,
    /// Not started: the reason (the music broke earlier in its ramp, the run ended).
    Skipped(String),
    Failed(String),
}

/// One step's run, on the song's time axis (s, after speed).
#[derive(Clone, Debug, Default)]
pub struct StepRun {
    pub state: StepState,
    /// The driver's name for it: a Trogdor task id, a process id.
    pub id: Option<String>,
    pub started_s: Option<f64>,
    pub ended_s: Option<f64>,
    pub report: Option<LoadReport>,
    last_poll: Option<Instant>,
    judged: bool,
}

/// What the runner did, shared with whoever started it.
#[derive(Clone, Debug, Default)]
pub struct RunLog {
    pub song_start_us: Option<u64>,
    pub steps: Vec<StepRun>,
    /// `(ramp index, step)` of each ramp stopped because its level `step` broke the
    /// music on every side.
    // The skipped steps' reasons say it to the user; the tests check it here.
    #[cfg_attr(not(test), allow(dead_code))]
    pub broken_ramps: Vec<(usize, usize)>,
    /// Stopping left something running.
    pub stop_error: Option<String>,
}

pub struct Runner {
    pub driver: Driver,
    pub steps: Vec<LoadStep>,
    pub bootstrap: String,
    pub speed: f64,
    pub sides: Vec<Arc<SideWatch>>,
    /// Where the score puts each note (song time s), when this process plays it.
    pub scheduled_s: Option<Vec<f64>>,
    pub events: Option<Arc<dyn LoadEvents>>,
}

impl Runner {
    /// Runs until every step is done or `stop` is set, then stops all load; returns
    /// what it did.
    pub fn run(mut self, stop: &AtomicBool) -> RunLog {
        let mut runs = vec![StepRun::default(); self.steps.len()];
        let mut broken: Vec<(usize, usize)> = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let Some(start) = self.song_start() else {
                std::thread::sleep(TICK);
                continue;
            };
            let song_s = (unix_us() as f64 - start as f64) / 1e6;
            self.judge_levels(&mut runs, &mut broken, start, song_s);
            self.start_due(&mut runs, &broken, start, song_s);
            self.poll_running(&mut runs, song_s);
            if runs
                .iter()
                .all(|r| !matches!(r.state, StepState::Pending | StepState::Running(_)))
            {
                break;
            }
            std::thread::sleep(TICK);
        }
        let stop_error = self.driver.stop_all().err().map(|e| e.to_string());
        let start = self.song_start();
        let song_s = start.map(|s| (unix_us() as f64 - s as f64) / 1e6);
        for (i, run) in runs.iter_mut().enumerate() {
            match &run.state {
                StepState::Running(handle) => {
                    // Stopped early: what it made until now still counts.
                    run.report = self.driver.poll(handle).ok().flatten();
                    run.ended_s = match (run.ended_s, song_s) {
                        (Some(e), Some(now)) => Some(e.min(now)),
                        (e, now) => e.or(now),
                    };
                    run.state = StepState::Done;
                    if let Some(ev) = &self.events {
                        ev.finished(&self.steps[i], run.report.as_ref());
                    }
                }
                StepState::Pending => {
                    run.state = StepState::Skipped("the run ended before its time".into());
                }
                _ => {}
            }
        }
        RunLog {
            song_start_us: start,
            steps: runs,
            broken_ramps: broken,
            stop_error,
        }
    }

    fn song_start(&self) -> Option<u64> {
        self.sides.iter().filter_map(|s| s.song_start_us()).min()
    }

    /// The step as the driver runs it: its duration stretched like the song.
    fn as_run(&self, i: usize) -> LoadStep {
        let mut step = self.steps[i].clone();
        step.duration = step.duration.mul_f64(self.speed);
        step
    }

    fn start_due(
        &mut self,
        runs: &mut [StepRun],
        broken: &[(usize, usize)],
        start: u64,
        song_s: f64,
    ) {
        for i in 0..runs.len() {
            if !matches!(runs[i].state, StepState::Pending) {
                continue;
            }
            let at_s = self.steps[i].at.as_secs_f64() * self.speed;
            if song_s < at_s {
                continue;
            }
            if let Some(ramp) = self.steps[i].ramp {
                if let Some((_, at)) = broken.iter().find(|(r, _)| *r == ramp.index) {
                    runs[i].state = StepState::Skipped(format!(
                        "the music broke at {} on every side",
                        self.steps[*at].label()
                    ));
                    continue;
                }
                // A level starts only once the one before it was judged.
                let before_unjudged = (0..runs.len()).any(|j| {
                    self.steps[j]
                        .ramp
                        .is_some_and(|r| r.index == ramp.index && r.level < ramp.level)
                        && !runs[j].judged
                        && !matches!(runs[j].state, StepState::Skipped(_) | StepState::Failed(_))
                });
                if before_unjudged {
                    continue;
                }
            }
            let step = self.as_run(i);
            match self.driver.start(i, &step, &self.bootstrap) {
                Ok(handle) => {
                    let started_s = (handle.started_us as f64 - start as f64) / 1e6;
                    runs[i].started_s = Some(started_s);
                    runs[i].ended_s = Some(started_s + step.duration.as_secs_f64());
                    runs[i].id = Some(handle.id.clone());
                    runs[i].state = StepState::Running(handle);
                    if let Some(ev) = &self.events {
                        ev.started(&self.steps[i]);
                    }
                }
                Err(e) => {
                    tracing::warn!("load step {} ({}): {e}", i, self.steps[i].label());
                    runs[i].state = StepState::Failed(e.to_string());
                }
            }
        }
    }

    fn poll_running(&mut self, runs: &mut [StepRun], song_s: f64) {
        for (i, run) in runs.iter_mut().enumerate() {
            let StepState::Running(handle) = &run.state else {
                continue;
            };
            if run.last_poll.is_some_and(|t| t.elapsed() < POLL_EVERY) {
                continue;
            }
            run.last_poll = Some(Instant::now());
            match self.driver.poll(handle) {
                Ok(None) => {}
                Ok(Some(report)) => {
                    run.report = Some(report);
                    run.ended_s = run.ended_s.map(|e| e.min(song_s)).or(Some(song_s));
                    run.state = StepState::Done;
                    if let Some(ev) = &self.events {
                        ev.finished(&self.steps[i], run.report.as_ref());
                    }
                }
                Err(e) => {
                    tracing::warn!("load step {i} ({}): {e}", self.steps[i].label());
                    run.state = StepState::Failed(e.to_string());
                    if let Some(ev) = &self.events {
                        ev.finished(&self.steps[i], None);
                    }
                }
            }
        }
    }

    /// Judges each ramp level whose time is over: broken when every side heard a wrong
    /// melody in it (onset error p99 above 20 ms) or nothing where notes were due.
    fn judge_levels(
        &self,
        runs: &mut [StepRun],
        broken: &mut Vec<(usize, usize)>,
        start_us: u64,
        song_s: f64,
    ) {
        for (i, run) in runs.iter_mut().enumerate() {
            let Some(ramp) = self.steps[i].ramp else {
                continue;
            };
            let (Some(from), Some(to)) = (run.started_s, run.ended_s) else {
                continue;
            };
            if run.judged || song_s < to {
                continue;
            }
            run.judged = true;
            if broken.iter().any(|(r, _)| *r == ramp.index) {
                continue;
            }
            let applied = AppliedStep {
                step: i,
                load: self.steps[i].clone(),
                started_s: from,
                ended_s: to,
            };
            let all_broke = self.sides.iter().all(|side| {
                let samples = side.samples();
                // On this side's own song axis: it may have started later than the
                // earliest side, and then it played this level's moment later in
                // its song (`SideWatch::lag_s`).
                let mine = applied.moved_back(side.lag_s(start_us));
                let f = step_figures(&FiguresInput {
                    samples: &samples,
                    scheduled_s: self.scheduled_s.as_deref(),
                    steps: std::slice::from_ref(&mine),
                    ..FiguresInput::default()
                });
                let Some(f) = f.first() else { return false };
                let (from, to) = (mine.started_s, mine.ended_s);
                let due = match &self.scheduled_s {
                    Some(score) => score.iter().any(|t| *t >= from && *t < to),
                    None => samples.iter().any(|s| s.at_s < from),
                };
                f.during.wrong_melody() || (f.during.notes == 0 && due)
            });
            if all_broke && ramp.until == RampUntil::End {
                tracing::info!(
                    "ramp {}: the music broke at {}; rising on, as until=end asks",
                    ramp.index,
                    self.steps[i].label()
                );
            } else if all_broke {
                tracing::info!(
                    "ramp {}: the music broke at {}; the load is raised no further",
                    ramp.index,
                    self.steps[i].label()
                );
                broken.push((ramp.index, i));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use kmidi_engine::listen::ListenReport;
    use kmidi_engine::measure::Sample;
    use kmidi_engine::observe::Observer;
    use kmidi_lab::{DriverError, LoadDriver, Scenario};

    use super::*;

    /// A driver that starts nothing: each step "runs" for its duration and reports
    /// what it was asked (the runner's decisions are what is tested here).
    #[derive(Default)]
    struct Recording {
        started: Arc<Mutex<Vec<usize>>>,
    }

    impl LoadDriver for Recording {
        fn start(&mut self, step: usize, _: &LoadStep, _: &str) -> Result<StepHandle, DriverError> {
            self.started.lock().unwrap().push(step);
            Ok(StepHandle {
                step,
                id: format!("fake-{step}"),
                started_us: unix_us(),
            })
        }

        fn poll(&mut self, _: &StepHandle) -> Result<Option<LoadReport>, DriverError> {
            Ok(None)
        }

        fn stop_all(&mut self) -> Result<(), DriverError> {
            Ok(())
        }
    }

    /// A side that heard notes every 50 ms of song time for `len_s`, `onset_ms` off the
    /// score from song time `broken_from_s` on; its song started now.
    fn side(len_s: f64, broken_from_s: f64, onset_ms: f64) -> Arc<SideWatch> {
        side_started_later(0.0, len_s, broken_from_s, onset_ms)
    }

    /// As [`side`], its song started `lag_s` from now.
    fn side_started_later(
        lag_s: f64,
        len_s: f64,
        broken_from_s: f64,
        onset_ms: f64,
    ) -> Arc<SideWatch> {
        let start_ms = unix_us() as f64 / 1000.0 + lag_s * 1000.0;
        let mut report = ListenReport::default();
        let notes = (len_s / 0.05) as u64;
        for seq in 0..notes {
            let at_s = seq as f64 * 0.05;
            let mut s = Sample::heard(seq, 0, at_s, start_ms + at_s * 1000.0);
            s.latency_ms = Some(1.0);
            if at_s >= broken_from_s {
                s.onset_ms = onset_ms;
            }
            report.meter.samples.push(s);
        }
        let watch = Arc::new(SideWatch::default());
        watch.live(&report);
        watch
    }

    fn run(sides: Vec<Arc<SideWatch>>, script: &str) -> (Vec<usize>, RunLog) {
        let scenario: Scenario = script.parse().unwrap();
        let driver = Recording::default();
        let started = Arc::clone(&driver.started);
        let runner = Runner {
            driver: Box::new(driver),
            steps: scenario.load.clone(),
            bootstrap: "127.0.0.1:9092".into(),
            speed: 1.0,
            sides,
            scheduled_s: None,
            events: None,
        };
        let stop = AtomicBool::new(false);
        let log = std::thread::scope(|s| {
            let run = s.spawn(|| runner.run(&stop));
            // The ramp's four levels end at 1.2 s: room for a busy machine.
            std::thread::sleep(Duration::from_millis(2500));
            stop.store(true, Ordering::Relaxed);
            run.join().unwrap()
        });
        let started = started.lock().unwrap().clone();
        (started, log)
    }

    const RAMP: &str = "ramp@0s:from=1MB/s:to=4MB/s:step=1MB/s:every=300ms";

    #[test]
    fn a_ramp_stops_rising_once_the_music_broke_on_every_side() {
        // Broken in level 2 (0.3-0.6 s) on both sides: levels 1 and 2 run, 3 and 4 not.
        let (started, log) = run(vec![side(3.0, 0.4, 30.0), side(3.0, 0.4, 25.0)], RAMP);
        assert_eq!(started, vec![0, 1]);
        assert_eq!(log.broken_ramps, vec![(0, 1)]);
        assert!(matches!(&log.steps[2].state, StepState::Skipped(r) if r.contains("broke")));
    }

    #[test]
    fn a_ramp_until_end_runs_every_level_though_the_music_broke() {
        let ramp = format!("{RAMP}:until=end");
        let (started, log) = run(vec![side(3.0, 0.4, 30.0), side(3.0, 0.4, 25.0)], &ramp);
        assert_eq!(started, vec![0, 1, 2, 3]);
        assert!(log.broken_ramps.is_empty());
    }

    #[test]
    fn a_ramp_rises_on_while_one_side_still_plays_in_time() {
        let (started, log) = run(vec![side(3.0, 0.4, 30.0), side(3.0, 9.0, 0.0)], RAMP);
        assert_eq!(started, vec![0, 1, 2, 3]);
        assert!(log.broken_ramps.is_empty());
    }

    #[test]
    fn a_side_that_started_later_is_judged_on_its_own_song_time() {
        // B breaks in level 2 (0.3-0.6 s). A started 0.3 s later and breaks at its own
        // song time 0.75 s, which is 1.05 s on B's clock: level 4 (0.9-1.2 s), whose
        // window on A's song is 0.6-0.9 s. Judged on B's axis, A would look broken
        // in level 3 already (its song time 0.6-0.9 s) and the ramp would stop there.
        let (started, log) = run(
            vec![
                side_started_later(0.3, 3.0, 0.75, 30.0),
                side(3.0, 0.4, 30.0),
            ],
            RAMP,
        );
        assert_eq!(started, vec![0, 1, 2, 3]);
        assert_eq!(log.broken_ramps, vec![(0, 3)]);
    }

    #[test]
    fn nothing_starts_before_the_first_note_gives_the_song_start() {
        let (started, log) = run(vec![Arc::new(SideWatch::default())], RAMP);
        assert!(started.is_empty());
        assert!(log
            .steps
            .iter()
            .all(|s| matches!(&s.state, StepState::Skipped(r) if r.contains("ended"))));
    }
}
