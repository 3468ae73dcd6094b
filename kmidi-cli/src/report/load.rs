//! The load's part of every export: the `--report` section (the steps as applied, what
//! each achieved beside what it asked, and per side what it cost the music before,
//! during and after it, with the ramps' knees) and the printed table.

use std::fmt::Write as _;

use kmidi_lab::{LoadReport, RampKnee, Rate, StepFigures, WindowFigures};
use serde::Serialize;

use crate::load::{LoadOutcome, StepState};

/// The run's load, in `--report` (top level: it is one load for every side).
#[derive(Clone, Debug, Serialize)]
pub struct LoadSection {
    /// The scenario as kmidi read it (canonical form).
    pub scenario: String,
    pub driver: String,
    pub steps: Vec<StepDoc>,
    /// Stopping the load left something running: what.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_error: Option<String>,
}

/// One load step as applied.
#[derive(Clone, Debug, Serialize)]
pub struct StepDoc {
    pub step: usize,
    pub label: String,
    /// `done`, `skipped`, `failed` (a step never started has no times).
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The driver's name for it: the Trogdor task id prefix, or the load process id.
    pub id: Option<String>,
    /// Song time, s (after speed).
    pub started_s: Option<f64>,
    pub ended_s: Option<f64>,
    pub asked: Rate,
    pub record_size: u64,
    /// The asked rate in bytes/s and records/s, whichever unit it was asked in.
    pub asked_bytes_per_sec: f64,
    pub asked_records_per_sec: f64,
    pub achieved: Option<LoadReport>,
}

/// One side's load figures, in its `--report` side.
#[derive(Clone, Debug, Serialize)]
pub struct SideLoad {
    pub steps: Vec<StepFigures>,
    pub knees: Vec<RampKnee>,
}

impl LoadSection {
    pub fn of(outcome: &LoadOutcome) -> Self {
        let steps = outcome
            .log
            .steps
            .iter()
            .enumerate()
            .map(|(i, run)| {
                let (state, reason) = match &run.state {
                    StepState::Skipped(r) => ("skipped", Some(r.clone())),
                    StepState::Failed(r) => ("failed", Some(r.clone())),
                    StepState::Pending => ("skipped", Some("never started".into())),
                    StepState::Running(_) | StepState::Done => ("done", None),
                };
                let load = &outcome.steps[i];
                StepDoc {
                    step: i,
                    label: load.label(),
                    state,
                    reason,
                    id: run.id.clone(),
                    started_s: run.started_s,
                    ended_s: run.ended_s,
                    asked: load.rate,
                    record_size: load.record_size,
                    asked_bytes_per_sec: load.bytes_per_sec(),
                    asked_records_per_sec: load.records_per_sec(),
                    achieved: run.report.clone(),
                }
            })
            .collect();
        LoadSection {
            scenario: outcome.scenario.clone(),
            driver: outcome.driver.clone(),
            steps,
            stop_error: outcome.log.stop_error.clone(),
        }
    }
}

impl SideLoad {
    pub fn of(outcome: &LoadOutcome, side: usize) -> Option<Self> {
        outcome.sides.get(side).map(|(steps, knees)| SideLoad {
            steps: steps.clone(),
            knees: knees.clone(),
        })
    }
}

fn mb(bytes_per_sec: f64) -> String {
    format!("{:.2} MB/s", bytes_per_sec / 1e6)
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1}"))
}

fn window(w: &WindowFigures) -> String {
    opt_ms(w.onset_p99_ms)
}

/// The printed table: each step with what it achieved, then each side's music before,
/// during and after it; then each ramp's knee per side.
pub fn table(section: &LoadSection, sides: &[(&str, &SideLoad)]) -> String {
    let mut out = format!("load: {}\n  made by {}\n", section.scenario, section.driver);
    for step in &section.steps {
        let asked = step.asked.bytes_per_sec(step.record_size);
        let _ = write!(out, "  {}: asked {}", step.label, mb(asked));
        match (&step.achieved, step.state) {
            (Some(a), _) => {
                let _ = write!(
                    out,
                    ", achieved {} ({:.0} rec/s, {} sent, {} errors), ack p50/p99 {}/{} ms",
                    mb(a.achieved_bytes_per_sec),
                    a.achieved_records_per_sec,
                    a.records_sent,
                    a.errors,
                    opt_ms(a.ack_latency_p50_ms),
                    opt_ms(a.ack_latency_p99_ms)
                );
            }
            (None, state) => {
                let _ = write!(out, ", {state}");
                if let Some(r) = &step.reason {
                    let _ = write!(out, ": {r}");
                }
            }
        }
        out.push('\n');
        for (label, side) in sides {
            let Some(f) = side.steps.iter().find(|f| f.step == step.step) else {
                continue;
            };
            let d = &f.during;
            let _ = writeln!(
                out,
                "    {label}: onset p99 {} → {} → {} ms (before → during → after), \
                 latency p50/p99 {}/{} ms, late {}, lost {}, tempo {}, \
                 player lateness p99 {}, processing p99 {}",
                window(&f.before),
                window(d),
                window(&f.after),
                opt_ms(d.latency_p50_ms),
                opt_ms(d.latency_p99_ms),
                d.late,
                d.lost,
                d.tempo.map_or("-".into(), |t| format!("{t:.3}")),
                d.player_lateness_p99_us
                    .map_or("-".into(), |u| format!("{u} µs")),
                d.processing_p99_us
                    .map_or("-".into(), |u| format!("{u} µs")),
            );
        }
    }
    for (label, side) in sides {
        for k in &side.knees {
            let at = |r: Option<Rate>| r.map_or("not reached".to_string(), |r| format!("at {r}"));
            let _ = writeln!(
                out,
                "  knee of ramp {} for {label}: out of time (onset p99 > 6 ms) {}, wrong \
                 melody (> 20 ms) {} ({} of {} levels run)",
                k.ramp + 1,
                at(k.knee.out_of_time),
                at(k.knee.wrong_melody),
                k.levels_run,
                k.levels
            );
        }
    }
    out
}
