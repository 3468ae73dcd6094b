//! One player and one instrument in this process, on one topic: what `demo` runs once
//! and `compare` runs twice side by side. The session ends when the instrument has
//! handled everything the player sent (or after a quiet spell, or on Ctrl-C).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use kmidi_midi::score::Score;
use kmidi_midi::sink::Sink;
use kmidi_transport::{ClientConfig, OffsetReset, Subscription, Transport};

use crate::listen::{self, ListenOptions, ListenReport, Live};
use crate::perform::{self, PlayOptions, PlayReport, Progress};
use crate::player;
use crate::signals::Stop;

/// What one session needs.
pub struct Session {
    pub transport: Box<dyn Transport>,
    pub producer_config: ClientConfig,
    pub consumer_config: ClientConfig,
    pub topic: String,
    pub group: String,
    pub score: Score,
    pub speed: f64,
    pub run_id: String,
}

/// Its outcome.
pub struct Outcome {
    pub listened: ListenReport,
    pub played: PlayReport,
    pub flushed: Result<(), String>,
}

/// A session with its clients created: creating them is where a transport refuses a
/// cluster, so both sides of a compare are checked before either starts playing.
pub struct Ready {
    session: Session,
    consumer: Box<dyn kmidi_transport::Consumer>,
    producer: Box<dyn kmidi_transport::Producer>,
}

impl Session {
    pub fn connect(self, stop: &Stop) -> Result<Ready> {
        let name = self.transport.info().name;
        let subscription = Subscription {
            topics: vec![self.topic.clone()],
            group: self.group.clone(),
            // The topic holds only this session's notes after the warm-up (see below).
            offset_reset: OffsetReset::Latest,
        };
        let mut consumer = self
            .transport
            .consumer(&self.consumer_config, &subscription)
            .with_context(|| format!("{name}: cannot consume from {}", self.topic))?;
        if self.transport.info().capabilities.consumer_groups {
            // From `latest`, only notes sent after the group assigned us partitions are
            // heard: wait for that before the player starts.
            let _ = listen::wait_for_assignment(consumer.as_mut(), Duration::from_secs(15), stop);
        }
        let producer = self
            .transport
            .producer(&self.producer_config)
            .with_context(|| format!("{name}: cannot produce to {}", self.topic))?;
        Ok(Ready {
            session: self,
            consumer,
            producer,
        })
    }
}

impl Ready {
    /// Plays the song and listens until done; `show_progress` draws the player's bar.
    pub fn run(
        mut self,
        sinks: &mut [Box<dyn Sink>],
        stop: &Stop,
        show_progress: bool,
    ) -> Result<Outcome> {
        let s = &self.session;
        let progress = Arc::new(Progress::default());
        let opts = PlayOptions {
            topic: s.topic.clone(),
            speed: s.speed,
            record_size: 0,
            repeat: false,
            run_id: s.run_id.clone(),
            realtime: false,
        };
        let target = Arc::new(AtomicU64::new(u64::MAX));
        let play = perform::spawn(
            self.producer,
            vec![s.score.clone()],
            opts,
            stop.clone(),
            Arc::clone(&progress),
            Duration::from_secs(10),
        )
        .context("starting the scheduler thread")?;
        let watcher = {
            let target = Arc::clone(&target);
            std::thread::spawn(move || {
                let bar = player::progress_bar(!show_progress);
                while !play.is_finished() {
                    player::update_bar(&bar, &progress);
                    std::thread::sleep(Duration::from_millis(100));
                }
                bar.finish_and_clear();
                let joined = play.join();
                let sent = joined.as_ref().map(|(r, _)| r.sent).unwrap_or(0);
                target.store(sent, Ordering::Relaxed);
                joined
            })
        };
        let listen_opts = ListenOptions {
            idle_exit: Some(Duration::from_secs(5)),
            max_messages: None,
            target,
        };
        let live = Live::default();
        let listened = listen::listen(self.consumer.as_mut(), sinks, &listen_opts, stop, &live);
        let (played, flushed) = watcher
            .join()
            .ok()
            .and_then(|r| r.ok())
            .context("the player thread panicked")?;
        Ok(Outcome {
            listened,
            played,
            flushed,
        })
    }

    pub fn transport(&self) -> &dyn Transport {
        self.session.transport.as_ref()
    }
}
