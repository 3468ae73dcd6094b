//! kmidi's engines without a terminal: the player's scheduler loop, the instrument's
//! listening loop, and what they measure. The `kmidi` binary wires them to arguments
//! and output; the benchmarks (`kmidi-bench`) drive the same code, so what they
//! measure is what users run.
//!
//! The note format on the topic (`wire`) lives here too: transports move bytes, and
//! only the engines know those bytes are notes.

pub mod assignment;
pub mod churn;
pub mod heard;
pub mod listen;
pub mod measure;
pub mod observe;
pub mod perform;
pub mod playout;
pub mod realtime;
pub mod session;
pub mod stop;
pub mod wire;

pub use stop::Stop;
