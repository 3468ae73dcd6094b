//! One player and one instrument in this process, on one topic: what `kmidi demo` runs
//! once, `kmidi compare` twice side by side, and the benchmarks in their music mode.
//! The player's engine runs on its scheduler thread, the instrument's on the caller's;
//! the session ends when the instrument has handled everything the player sent, when
//! nothing more arrives for [`DRAIN`] after the player is done, or on a stop; a consumer
//! that fails fatally stops the player too.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kmidi_midi::score::Score;
use kmidi_midi::sink::Sink;
use kmidi_transport::{Consumer, Producer};

use crate::listen::{self, ListenOptions, ListenReport, Live};
use crate::perform::{self, PlayOptions, PlayReport, Progress};
use crate::stop::Stop;

/// How long the instrument waits for notes still on their way once the player is done.
pub const DRAIN: Duration = Duration::from_secs(5);
/// How long the player's final flush may take.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the progress callback is called while the player plays.
const WATCH_EVERY: Duration = Duration::from_millis(100);

/// The session's instrument: its consumer, what it plays to, and its jitter buffer
/// (`--playout-delay`), if any.
pub struct Listener<'a> {
    pub consumer: &'a mut dyn Consumer,
    pub sinks: &'a mut [Box<dyn Sink>],
    pub playout_delay: Option<Duration>,
}

/// What a session heard and played.
pub struct Outcome {
    pub listened: ListenReport,
    pub played: PlayReport,
    /// The player's final flush: `Err` with the client's text if it failed.
    pub flushed: Result<(), String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("starting the {0} thread: {1}")]
    Spawn(&'static str, #[source] std::io::Error),
    #[error("the player's scheduler thread panicked")]
    PlayerPanicked,
}

/// Plays `songs` through `producer` while `consumer` listens, playing what arrives to
/// `sinks` (each `playout_delay` after where the score puts it, if given).
/// `watch(progress, finished)` is called from another thread every 100 ms
/// while the player plays, and once with `finished` when it is done (to draw a bar).
pub fn play_and_listen(
    producer: Box<dyn Producer>,
    listener: Listener,
    songs: Vec<Score>,
    opts: PlayOptions,
    stop: &Stop,
    mut watch: impl FnMut(&Progress, bool) + Send + 'static,
) -> Result<Outcome, SessionError> {
    // The player starts the song once the instrument heard its warm-up record.
    let ready = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(Progress {
        listener_ready: Some(Arc::clone(&ready)),
        ..Progress::default()
    });
    // Unknown until the player is done; then the number of notes it sent.
    let target = Arc::new(AtomicU64::new(u64::MAX));
    let observer = opts.observer.clone();
    let play = perform::spawn(
        producer,
        songs,
        opts,
        stop.clone(),
        Arc::clone(&progress),
        FLUSH_TIMEOUT,
    )
    .map_err(|e| SessionError::Spawn("scheduler", e))?;
    let watcher = {
        let target = Arc::clone(&target);
        std::thread::Builder::new()
            .name("kmidi-session".to_string())
            .spawn(move || {
                while !play.is_finished() {
                    watch(&progress, false);
                    std::thread::sleep(WATCH_EVERY);
                }
                watch(&progress, true);
                let joined = play.join();
                let sent = joined.as_ref().map_or(0, |(r, _)| r.sent);
                target.store(sent, Ordering::Relaxed);
                joined
            })
            .map_err(|e| SessionError::Spawn("session", e))?
    };
    let listen_opts = ListenOptions {
        idle_exit: Some(DRAIN),
        idle_after_target: true,
        max_messages: None,
        target,
        observer,
        playout_delay: listener.playout_delay,
        warm_up_seen: Some(ready),
    };
    let listened = listen::listen(
        listener.consumer,
        listener.sinks,
        &listen_opts,
        stop,
        &Live::default(),
    );
    if listened.fatal.is_some() {
        // Nobody listens any more: playing on would only delay the error by a song.
        stop.request();
    }
    let (played, flushed) = watcher
        .join()
        .ok()
        .and_then(|r| r.ok())
        .ok_or(SessionError::PlayerPanicked)?;
    Ok(Outcome {
        listened,
        played,
        flushed,
    })
}
