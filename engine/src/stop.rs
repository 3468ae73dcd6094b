//! The request to stop that every engine loop watches: raised by the binary's signal
//! handlers (Ctrl-C, SIGTERM), by a test, or by a benchmark. The engines answer it
//! cleanly: the player stops scheduling and flushes, the instrument silences every
//! channel and writes its files.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Shared by every thread of a command; cloning shares the same flag.
#[derive(Clone, Debug, Default)]
pub struct Stop {
    flag: Arc<AtomicBool>,
    /// Set by the first [`Stop::requested`]: from then on an engine is running and
    /// will stop cleanly, so a signal handler need not end the process itself.
    engaged: Arc<AtomicBool>,
}

impl Stop {
    pub fn new() -> Self {
        Self::default()
    }

    /// The flag itself, for a signal handler to raise (it must be async-signal-safe:
    /// an atomic store is).
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.flag)
    }

    pub fn request(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was requested. The first call marks the command as engaged.
    pub fn requested(&self) -> bool {
        self.engaged.store(true, Ordering::SeqCst);
        self.flag.load(Ordering::SeqCst)
    }

    /// Whether an engine has started watching this flag.
    pub fn engaged(&self) -> bool {
        self.engaged.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_seen_by_every_clone_and_asking_engages() {
        let stop = Stop::new();
        let other = stop.clone();
        assert!(!other.engaged());
        assert!(!other.requested());
        assert!(
            stop.engaged(),
            "the clone's question engaged the shared flag"
        );
        stop.request();
        assert!(other.requested());
    }
}
