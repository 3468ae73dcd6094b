//! Setting up an in-process session: its clients are both created (and so both checked
//! against the cluster) before any note is played, then handed to the engine's session
//! (`kmidi_engine::session`), which runs it with the player's progress bar. What `demo`
//! runs once and `compare` twice.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use kmidi_engine::assignment::wait_for_assignment;
use kmidi_engine::churn::{GroupLog, GroupPlan};
use kmidi_engine::observe::Observer;
use kmidi_engine::perform::{KeyBy, PlayOptions};
use kmidi_engine::session::{self, Outcome};
use kmidi_midi::score::Score;
use kmidi_midi::sink::Sink;
use kmidi_transport::{ClientConfig, OffsetReset, Subscription, Transport};

use crate::signals::SignalStop;
use crate::term::progress;

/// How long a session waits for its consumer group to assign partitions.
const ASSIGNMENT_WAIT: Duration = Duration::from_secs(15);

/// Effective settings, `(key, value)` by librdkafka's names.
pub type Settings = Vec<(String, String)>;

/// What one in-process session needs before it can connect.
pub struct SessionSetup {
    pub transport: Box<dyn Transport>,
    pub producer_config: ClientConfig,
    pub consumer_config: ClientConfig,
    pub topic: String,
    pub group: String,
    pub score: Score,
    pub speed: f64,
    pub run_id: String,
    /// Fed what the session's player sends and its instrument hears (`--metrics`).
    pub observer: Option<Arc<dyn Observer>>,
    /// `--playout-delay`: the instrument's jitter buffer.
    pub playout_delay: Option<Duration>,
    pub key_by: KeyBy,
    /// Listen through a churned group of member processes instead of one consumer.
    pub group_plan: Option<GroupPlan>,
}

/// A session with its clients created: creating them is where a transport refuses a
/// cluster, so both sides of a compare are checked before either starts playing.
pub struct Connected {
    setup: SessionSetup,
    consumer: Box<dyn kmidi_transport::Consumer>,
    producer: Box<dyn kmidi_transport::Producer>,
    /// What a churned group did, filled in while it listens.
    pub group_log: Option<Arc<Mutex<GroupLog>>>,
}

impl SessionSetup {
    pub fn connect(self, stop: &SignalStop) -> Result<Connected> {
        let name = self.transport.info().name;
        if let Some(plan) = self.group_plan.clone() {
            let (group, log) = crate::lab::start_group(plan, &name)?;
            let producer = self
                .transport
                .producer(&self.producer_config)
                .with_context(|| format!("{name}: cannot produce to {}", self.topic))?;
            return Ok(Connected {
                setup: self,
                consumer: Box::new(group),
                producer,
                group_log: Some(log),
            });
        }
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
        if self.transport.info().capabilities.consumer_groups && consumer.reports_assignment() {
            // From `latest`, only notes sent after the group assigned us partitions are
            // heard: wait for that before the player starts.
            let assigned = wait_for_assignment(consumer.as_mut(), ASSIGNMENT_WAIT, stop.engine())
                .with_context(|| {
                format!("{name}: waiting for the group to assign {}", self.topic)
            })?;
            if !assigned {
                tracing::warn!(
                    "{name}: no partitions assigned within {}s; playing anyway (the first \
                     notes may not be heard)",
                    ASSIGNMENT_WAIT.as_secs()
                );
            }
        }
        let producer = self
            .transport
            .producer(&self.producer_config)
            .with_context(|| format!("{name}: cannot produce to {}", self.topic))?;
        Ok(Connected {
            setup: self,
            consumer,
            producer,
            group_log: None,
        })
    }
}

impl Connected {
    /// Plays the song and listens until done; `show_progress` draws the player's bar.
    pub fn run(
        self,
        sinks: &mut [Box<dyn Sink>],
        stop: &SignalStop,
        show_progress: bool,
    ) -> Result<Outcome> {
        let Connected {
            setup: s,
            mut consumer,
            producer,
            group_log: _,
        } = self;
        let opts = PlayOptions {
            topic: s.topic.clone(),
            speed: s.speed,
            record_size: 0,
            repeat: false,
            run_id: s.run_id.clone(),
            realtime: false,
            observer: s.observer.clone(),
            key_by: s.key_by,
        };
        let bar = progress::progress_bar(!show_progress);
        let listener = session::Listener {
            consumer: consumer.as_mut(),
            sinks,
            playout_delay: s.playout_delay,
        };
        Ok(session::play_and_listen(
            producer,
            listener,
            vec![s.score.clone()],
            opts,
            stop.engine(),
            move |progress, finished| {
                if finished {
                    bar.finish_and_clear();
                } else {
                    progress::update_bar(&bar, progress);
                }
            },
        )?)
    }

    pub fn transport(&self) -> &dyn Transport {
        self.setup.transport.as_ref()
    }

    /// The effective latency settings of the producer and the consumer, as their
    /// library reports them.
    pub fn settings(&self) -> (Settings, Settings) {
        (self.producer.settings(), self.consumer.settings())
    }
}
