//! Ctrl-C and SIGTERM: the first asks the running command to stop cleanly (the player
//! flushes, the instrument silences every channel); a second Ctrl-C exits at once for
//! when a clean stop itself hangs.
//!
//! A command only looks at the stop flag once it plays or listens. Before that it may
//! sit in a blocking call for the whole connect timeout (a broker that does not
//! answer), where a clean stop has nothing to do: no note was sent or played yet. So a
//! signal that arrives before an engine first asks `kmidi_engine::Stop::requested` ends the
//! process at once with 128 + signal, instead of being noticed only after the timeout.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The engines' stop flag, raised by SIGINT or SIGTERM, and which signal it was.
#[derive(Clone)]
pub struct SignalStop {
    engine: kmidi_engine::Stop,
    signal: Arc<AtomicUsize>,
    /// Set once the teardown watchdog of [`SignalStop::exit_code`] runs.
    teardown_bounded: Arc<AtomicBool>,
}

/// How long the clients' teardown may take after a signal-initiated stop.
pub const TEARDOWN_GRACE: Duration = Duration::from_secs(3);

impl SignalStop {
    /// A stop flag raised by SIGINT or SIGTERM.
    pub fn from_signals() -> Result<Self> {
        let stop = Self {
            engine: kmidi_engine::Stop::new(),
            signal: Arc::new(AtomicUsize::new(0)),
            teardown_bounded: Arc::new(AtomicBool::new(false)),
        };
        for sig in [SIGINT, SIGTERM] {
            // Registered first, so the second signal finds the flag already set and
            // terminates the process instead of being swallowed.
            signal_hook::flag::register_conditional_shutdown(sig, 1, stop.engine.flag())
                .context("installing the signal handler")?;
            signal_hook::flag::register_usize(sig, Arc::clone(&stop.signal), sig as usize)
                .context("installing the signal handler")?;
            signal_hook::flag::register(sig, stop.engine.flag())
                .context("installing the signal handler")?;
        }
        let mut signals =
            Signals::new([SIGINT, SIGTERM]).context("installing the signal handler")?;
        let engine = stop.engine.clone();
        std::thread::Builder::new()
            .name("kmidi-signals".to_string())
            .spawn(move || {
                for sig in signals.forever() {
                    if !engine.engaged() {
                        eprintln!("interrupted while connecting; nothing was played");
                        std::process::exit(128 + sig);
                    }
                }
            })
            .context("starting the signal thread")?;
        Ok(stop)
    }

    /// The flag the engines watch.
    pub fn engine(&self) -> &kmidi_engine::Stop {
        &self.engine
    }

    /// The process exit code a signal-initiated stop should end with (128 + signal),
    /// or `None` when no signal arrived.
    ///
    /// A command asks for it last, when its work is done (notes flushed, files
    /// written); what is left is the clients' teardown, which can wait long for a
    /// broker that is down (librdkafka's consumer close waited 45 s in tests). After a
    /// signal the user wants out, so the teardown gets [`TEARDOWN_GRACE`], then the
    /// process exits with this code anyway.
    pub fn exit_code(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            sig => {
                let code = 128 + sig as i32;
                if !self.teardown_bounded.swap(true, Ordering::SeqCst) {
                    let _ = std::thread::Builder::new()
                        .name("kmidi-teardown".to_string())
                        .spawn(move || {
                            std::thread::sleep(TEARDOWN_GRACE);
                            eprintln!(
                                "the Kafka client did not close within {}s; exiting",
                                TEARDOWN_GRACE.as_secs()
                            );
                            std::process::exit(code);
                        });
                }
                Some(code)
            }
        }
    }
}
