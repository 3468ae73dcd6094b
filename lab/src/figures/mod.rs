//! What each load step cost the music: the notes of the stretch of song time the step
//! ran (during), of as long a stretch before it (before) and after it ended (after,
//! clipped to the song), beside the load it asked for and the load it achieved; and,
//! for a ramp, the knee: the lowest load at which the music was heard out of time, and
//! at which it became a wrong melody.
//!
//! Notes are charged by where the score puts them (`Sample::at_s`), not by when they
//! arrived: a lost note has only that time, and charging heard and lost notes alike is
//! what makes heard + lost add up to what the score sent in every window. All of it is
//! pure computation over what the run recorded.

mod knee;
mod window;

use kmidi_engine::measure::Sample;

use crate::driver::LoadReport;
use crate::scenario::{LoadStep, RampInfo, Rate};

pub use self::knee::{knee, knees, Knee, RampKnee, WRONG_MELODY_US};
use self::window::Notes;
pub use self::window::WindowFigures;

/// A load step as it was applied, on the song's time axis (`Sample::at_s`: from the
/// song's start, after `--speed-ratio`).
#[derive(Clone, Debug, PartialEq)]
pub struct AppliedStep {
    /// The step's index in `Scenario::load`.
    pub step: usize,
    pub load: LoadStep,
    pub started_s: f64,
    pub ended_s: f64,
}

impl AppliedStep {
    /// Where the step falls when applied at its score time at `speed`, the player's
    /// `--speed-ratio` (a time stretch: at 2.0, score time 10 s is song time 20 s).
    pub fn planned(step: usize, load: &LoadStep, speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        AppliedStep {
            step,
            load: load.clone(),
            started_s: load.at.as_secs_f64() * speed,
            ended_s: load.end().as_secs_f64() * speed,
        }
    }

    /// The same step on the axis of a side whose song started `lag_s` later: its
    /// window comes that much earlier in that side's song.
    pub fn moved_back(&self, lag_s: f64) -> Self {
        AppliedStep {
            started_s: self.started_s - lag_s,
            ended_s: self.ended_s - lag_s,
            ..self.clone()
        }
    }
}

/// What the run recorded, for [`step_figures`].
#[derive(Clone, Copy, Debug, Default)]
pub struct FiguresInput<'a> {
    /// The notes heard of one playing of the song (one song, one pass).
    pub samples: &'a [Sample],
    /// `scheduled_s[seq]`: where the score puts note `seq`, song time after speed, s.
    /// Without it, a lost note's time is interpolated between its heard neighbours.
    pub scheduled_s: Option<&'a [f64]>,
    pub steps: &'a [AppliedStep],
    /// What the driver reported, matched to steps by `LoadReport::step`.
    pub reports: &'a [LoadReport],
    /// The player's scheduling lateness, `(song time s, µs)`, when it ran here.
    pub player_lateness: Option<&'a [(f64, u64)]>,
    /// The instrument's processing time per note, `(song time s, µs)`, when it ran here.
    pub processing: Option<&'a [(f64, u64)]>,
}

/// What one load step cost the music.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StepFigures {
    /// The step's index in `Scenario::load`.
    pub step: usize,
    pub label: String,
    pub ramp: Option<RampInfo>,
    pub before: WindowFigures,
    pub during: WindowFigures,
    pub after: WindowFigures,
    pub asked: Rate,
    pub record_size: u64,
    /// The step's report; `None` if the driver never reported it.
    pub achieved: Option<LoadReport>,
}

impl StepFigures {
    pub fn asked_bytes_per_sec(&self) -> f64 {
        self.asked.bytes_per_sec(self.record_size)
    }

    pub fn asked_records_per_sec(&self) -> f64 {
        self.asked.records_per_sec(self.record_size)
    }
}

/// The figures of every applied step, in the order given.
pub fn step_figures(input: &FiguresInput<'_>) -> Vec<StepFigures> {
    let notes = Notes::new(input.samples, input.scheduled_s);
    let window =
        |from: f64, to: f64| notes.window(from, to, input.player_lateness, input.processing);
    input
        .steps
        .iter()
        .map(|a| {
            let (start, end) = (a.started_s.max(0.0), a.ended_s.max(a.started_s.max(0.0)));
            let len = end - start;
            let after_end = (end + len).min(notes.end_s.max(end));
            StepFigures {
                step: a.step,
                label: a.load.label(),
                ramp: a.load.ramp,
                before: window((start - len).max(0.0), start),
                during: window(start, end),
                after: window(end, after_end),
                asked: a.load.rate,
                record_size: a.load.record_size,
                achieved: input.reports.iter().find(|r| r.step == a.step).cloned(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
