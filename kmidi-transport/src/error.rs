//! Errors a transport reports, shaped so the CLI can tell the user what went wrong
//! and what would fix it.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("invalid client property {key:?}: {reason}")]
    Config { key: String, reason: String },

    #[error(
        "cannot reach Kafka at {bootstrap} within {}s: {detail}\n  \
         check that a broker listens there (-b HOST:PORT), or try `kmidi demo`, which needs no cluster",
        timeout.as_secs_f32()
    )]
    Unreachable {
        bootstrap: String,
        timeout: Duration,
        detail: String,
    },

    #[error(
        "topic {topic:?} does not exist on {bootstrap}\n  \
         create it with `kmidi topic create -t {topic} -b {bootstrap}`"
    )]
    TopicMissing { topic: String, bootstrap: String },

    #[error("{what} is not supported by the {transport} transport")]
    Unsupported { transport: String, what: String },

    #[error("timed out after {}s while {doing}", timeout.as_secs_f32())]
    Timeout { doing: String, timeout: Duration },

    /// A problem the client library expects to recover from by itself (a broker
    /// restarting, a rebalance): worth a warning, not the end of playback.
    #[error("{0}")]
    Transient(String),

    /// Anything else the client library reported.
    #[error("{0}")]
    Client(String),
}

impl TransportError {
    /// True when the caller should keep going and poll again.
    pub fn is_transient(&self) -> bool {
        matches!(self, TransportError::Transient(_))
    }
}
