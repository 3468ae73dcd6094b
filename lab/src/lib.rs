//! kmidi's load lab: what happens to the cluster during a song, and what it cost the
//! music. The scenario script (`scenario`) says when members join, leave or die and when
//! load runs, in score time; load drivers (`driver`) make that load outside kmidi's own
//! threads; `figures` measures the music before, during and after each load step, and
//! finds the load at which a ramp broke it (the knee). Broker and exec steps (`fault`)
//! kill, pause and restart the brokers of a cluster the project's script started, or
//! run the user's own command, and say what it cost the music.
//!
//! Everything that talks HTTP or runs processes lives here, never in the engine.

pub mod driver;
pub mod fault;
pub mod figures;
pub mod local;
pub mod scenario;
pub mod trogdor;

pub use driver::{DriverError, LoadDriver, LoadReport, StepHandle};
pub use figures::{
    knees, step_figures, AppliedStep, FiguresInput, Knee, RampKnee, StepFigures, WindowFigures,
};
pub use scenario::{
    FaultAction, FaultStep, LoadStep, LoadTopic, RampInfo, RampUntil, Rate, Scenario,
    ScenarioError, Target,
};
