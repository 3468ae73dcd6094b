//! Ctrl-C and SIGTERM: the first asks the running command to stop cleanly (the player
//! flushes, the instrument silences every channel); a second Ctrl-C exits at once for
//! when a clean stop itself hangs.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};

/// Set once a stop was requested; shared with every worker thread.
#[derive(Clone)]
pub struct Stop {
    flag: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
}

impl Stop {
    fn new() -> Self {
        Self {
            flag: Arc::new(AtomicBool::new(false)),
            signal: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A stop flag raised by SIGINT or SIGTERM.
    pub fn from_signals() -> Result<Self> {
        let stop = Self::new();
        for sig in [SIGINT, SIGTERM] {
            // Registered first, so the second signal finds the flag already set and
            // terminates the process instead of being swallowed.
            signal_hook::flag::register_conditional_shutdown(sig, 1, Arc::clone(&stop.flag))
                .context("installing the signal handler")?;
            signal_hook::flag::register_usize(sig, Arc::clone(&stop.signal), sig as usize)
                .context("installing the signal handler")?;
            signal_hook::flag::register(sig, Arc::clone(&stop.flag))
                .context("installing the signal handler")?;
        }
        Ok(stop)
    }

    pub fn requested(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// The process exit code a signal-initiated stop should end with (128 + signal),
    /// or `None` when no signal arrived.
    pub fn exit_code(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            sig => Some(128 + sig as i32),
        }
    }
}
