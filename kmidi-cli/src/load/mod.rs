//! `--scenario`'s load steps in a listening command (`compare`, `instrument`): the
//! driver the user chose (`driver`), a runner thread that starts each step at its song
//! time (`runner`), what it learns from each side while the song plays (`watch`), and
//! what each step cost each side's music once the run is over.
//!
//! The load is on the cluster, so one load serves both sides of a compare. It never
//! outlives kmidi: [`LoadRun::finish`] (and dropping the run, on any error) stops and
//! joins the runner, which stops everything its driver started.

mod driver;
mod runner;
mod watch;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use kmidi_engine::measure::Sample;
use kmidi_engine::observe::Observer;
use kmidi_lab::figures::{knees, step_figures, AppliedStep, FiguresInput};
use kmidi_lab::{LoadReport, RampKnee, Scenario, StepFigures};

pub use driver::WorkerSetup;
use runner::Runner;
pub use runner::{LoadEvents, RunLog, StepState};
pub use watch::SideWatch;

use crate::cli::{LoadArgs, LoadDriverSpec};

/// What a command hands over to load its cluster.
pub struct LoadSetup<'a> {
    pub scenario: &'a Scenario,
    pub args: &'a LoadArgs,
    pub bootstrap: String,
    pub worker: WorkerSetup<'a>,
    pub speed: f64,
    /// Where the score puts each note (song time s), when this process plays it.
    pub scheduled_s: Option<Vec<f64>>,
    /// How many sides listen (1, or 2 for a compare).
    pub sides: usize,
    pub run_id: &'a str,
    pub events: Option<Arc<dyn LoadEvents>>,
}

/// The load of a run while the song plays.
pub struct LoadRun {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<RunLog>>,
    sides: Vec<Arc<SideWatch>>,
    scenario: Scenario,
    scheduled_s: Option<Vec<f64>>,
    pub driver: String,
}

/// What the load did and what it cost each side.
pub struct LoadOutcome {
    pub scenario: String,
    pub driver: String,
    pub log: RunLog,
    pub steps: Vec<kmidi_lab::LoadStep>,
    /// Per side: each applied step's figures, and the ramps' knees.
    pub sides: Vec<(Vec<StepFigures>, Vec<RampKnee>)>,
}

/// Builds the driver (checking it can work: a Trogdor coordinator that answers, a
/// cluster on loopback unless `--load-remote`), says what it will do, and starts the
/// runner, which waits for the song to start.
pub fn start(setup: LoadSetup<'_>) -> Result<LoadRun> {
    if !setup.args.remote && !kmidi_lab::driver::bootstrap_is_loopback(&setup.bootstrap) {
        anyhow::bail!(
            "refusing to load {}: it is not on loopback, and --scenario's load steps would \
             load it; add --load-remote if that cluster is yours to load",
            setup.bootstrap
        );
    }
    let transport_workers = matches!(
        setup.args.driver,
        LoadDriverSpec::Local | LoadDriverSpec::LocalTransport(_)
    );
    if let Some(step) = setup.scenario.load.iter().find(|s| s.consumers > 0) {
        if transport_workers {
            anyhow::bail!(
                "{}: kmidi's load workers only produce; a load consumer group (consumers=N) \
                 needs --load-driver local=java (Kafka's ConsumerPerformance) or trogdor=URL",
                step.label()
            );
        }
    }
    let (driver, what) = driver::build(
        &setup.args.driver,
        setup.worker,
        setup.args.remote,
        setup.run_id,
    )?;
    let scenario = setup.scenario.clone();
    eprintln!(
        "load: {} step(s) on {} ({}), made by {what}; all of it stops when kmidi stops",
        scenario.load.len(),
        setup.bootstrap,
        scenario
    );
    let sides: Vec<Arc<SideWatch>> = (0..setup.sides.max(1))
        .map(|_| Arc::new(SideWatch::default()))
        .collect();
    let runner = Runner {
        driver,
        steps: scenario.load.clone(),
        bootstrap: setup.bootstrap,
        speed: setup.speed,
        sides: sides.clone(),
        scheduled_s: setup.scheduled_s.clone(),
        events: setup.events,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("kmidi-load".into())
            .spawn(move || runner.run(&stop))
            .context("starting the load runner's thread")?
    };
    Ok(LoadRun {
        stop,
        thread: Some(thread),
        sides,
        scenario,
        scheduled_s: setup.scheduled_s,
        driver: what,
    })
}

impl LoadRun {
    /// Side `i`'s observer: how the runner learns the song's start and its notes.
    pub fn observer(&self, i: usize) -> Option<Arc<dyn Observer>> {
        self.sides
            .get(i)
            .map(|w| Arc::clone(w) as Arc<dyn Observer>)
    }

    /// Stops the load, and the figures of every step for each side's `samples` (the
    /// notes it heard, in side order).
    pub fn finish(mut self, samples: &[&[Sample]]) -> LoadOutcome {
        let log = self.stop_and_join().unwrap_or_default();
        if let Some(e) = &log.stop_error {
            eprintln!("kmidi: load: {e}");
        }
        let applied: Vec<AppliedStep> = log
            .steps
            .iter()
            .enumerate()
            .filter_map(|(i, run)| {
                Some(AppliedStep {
                    step: i,
                    load: self.scenario.load[i].clone(),
                    started_s: run.started_s?,
                    ended_s: run.ended_s?,
                })
            })
            .collect();
        let reports: Vec<LoadReport> = log.steps.iter().filter_map(|r| r.report.clone()).collect();
        let sides = samples
            .iter()
            .enumerate()
            .map(|(i, samples)| {
                let watch = self.sides.get(i);
                // Each side's figures on its own song axis (`SideWatch::lag_s`).
                let lag = match (watch, log.song_start_us) {
                    (Some(w), Some(start)) => w.lag_s(start),
                    _ => 0.0,
                };
                let mine: Vec<AppliedStep> = applied.iter().map(|a| a.moved_back(lag)).collect();
                let (lateness, processing) = match (watch, log.song_start_us) {
                    (Some(w), Some(start)) => w.host_series(w.song_start_us().unwrap_or(start)),
                    _ => (Vec::new(), Vec::new()),
                };
                let figures = step_figures(&FiguresInput {
                    samples,
                    scheduled_s: self.scheduled_s.as_deref(),
                    steps: &mine,
                    reports: &reports,
                    player_lateness: (!lateness.is_empty()).then_some(lateness.as_slice()),
                    processing: (!processing.is_empty()).then_some(processing.as_slice()),
                });
                let knees = knees(&figures);
                (figures, knees)
            })
            .collect();
        LoadOutcome {
            scenario: self.scenario.to_string(),
            driver: self.driver.clone(),
            steps: self.scenario.load.clone(),
            log,
            sides,
        }
    }

    /// Stops the runner and takes what it did (`None` once taken, or if it panicked).
    fn stop_and_join(&mut self) -> Option<RunLog> {
        self.stop.store(true, Ordering::Relaxed);
        let joined = self.thread.take()?.join();
        if joined.is_err() {
            eprintln!("kmidi: the load runner's thread panicked; its load processes are stopped as the driver is dropped");
        }
        joined.ok()
    }
}

impl Drop for LoadRun {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}
