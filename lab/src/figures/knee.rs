//! The knee of a ramp: the lowest load level at which the music was heard out of time
//! (onset error p99 above 6 ms), and at which it became a wrong melody (above 20 ms).

use std::collections::BTreeMap;

use kmidi_engine::measure::{AUDIBLE_FLIP_US, AUDIBLE_SHIFT_US};

use super::{StepFigures, WindowFigures};
use crate::scenario::Rate;

/// Notes off the score by more than this are heard in another order than written: the
/// engine's threshold for an audible swap, used here on the onset error p99.
pub const WRONG_MELODY_US: u64 = AUDIBLE_FLIP_US;

impl WindowFigures {
    /// Notes the score put here and none was heard: the music stopped, which is as
    /// broken as it gets (and leaves no onset error to measure).
    pub fn silenced(&self) -> bool {
        self.notes == 0 && self.lost > 0
    }

    /// Heard out of time: onset error p99 above [`AUDIBLE_SHIFT_US`] (6 ms).
    pub fn out_of_time(&self) -> bool {
        self.silenced()
            || self
                .onset_p99_ms
                .is_some_and(|p| p * 1000.0 > AUDIBLE_SHIFT_US as f64)
    }

    /// A wrong melody: onset error p99 above [`WRONG_MELODY_US`] (20 ms). A ramp stops
    /// raising the load once its level's music is this broken.
    pub fn wrong_melody(&self) -> bool {
        self.silenced()
            || self
                .onset_p99_ms
                .is_some_and(|p| p * 1000.0 > WRONG_MELODY_US as f64)
    }
}

/// The lowest load of a ramp at which the music broke, each way; `None`: it did not.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Knee {
    pub out_of_time: Option<Rate>,
    pub wrong_melody: Option<Rate>,
}

/// The knee of one ramp of the scenario.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RampKnee {
    /// `RampInfo::index`.
    pub ramp: usize,
    /// Levels the ramp has, and levels with figures (a ramp stops early at the end of
    /// the song, or once the melody is wrong).
    pub levels: usize,
    pub levels_run: usize,
    pub knee: Knee,
    /// The steps (`Scenario::load` indices) of the two knee levels, to show what the
    /// load achieved there.
    pub out_of_time_step: Option<usize>,
    pub wrong_melody_step: Option<usize>,
}

/// The knee of a ramp's levels (any order).
pub fn knee(levels: &[&StepFigures]) -> Knee {
    let (out_of_time, wrong_melody) = knee_steps(levels);
    Knee {
        out_of_time: out_of_time.map(|s| s.asked),
        wrong_melody: wrong_melody.map(|s| s.asked),
    }
}

fn knee_steps<'a>(
    levels: &[&'a StepFigures],
) -> (Option<&'a StepFigures>, Option<&'a StepFigures>) {
    let lowest = |broke: fn(&WindowFigures) -> bool| {
        levels
            .iter()
            .copied()
            .filter(|s| broke(&s.during))
            .min_by(|a, b| a.asked.value().total_cmp(&b.asked.value()))
    };
    (
        lowest(WindowFigures::out_of_time),
        lowest(WindowFigures::wrong_melody),
    )
}

/// The knee of every ramp with figures, by ramp index; steps outside ramps are ignored.
pub fn knees(figures: &[StepFigures]) -> Vec<RampKnee> {
    let mut ramps: BTreeMap<usize, (usize, Vec<&StepFigures>)> = BTreeMap::new();
    for f in figures {
        if let Some(r) = f.ramp {
            ramps
                .entry(r.index)
                .or_insert((r.levels, Vec::new()))
                .1
                .push(f);
        }
    }
    ramps
        .into_iter()
        .map(|(ramp, (levels, steps))| {
            let (oot, wrong) = knee_steps(&steps);
            RampKnee {
                ramp,
                levels,
                levels_run: steps.len(),
                knee: Knee {
                    out_of_time: oot.map(|s| s.asked),
                    wrong_melody: wrong.map(|s| s.asked),
                },
                out_of_time_step: oot.map(|s| s.step),
                wrong_melody_step: wrong.map(|s| s.step),
            }
        })
        .collect()
}
