//! Load steps and ramps, as parsed, and how a ramp becomes load steps.

use std::fmt;
use std::time::Duration;

use kmidi_transport::TopicSpec;

use super::units::{format_size, format_time, Rate};

/// The load's own topic unless told otherwise: never the music's.
pub const DEFAULT_TOPIC: &str = "kmidi_load";
pub const DEFAULT_PARTITIONS: i32 = 6;
pub const DEFAULT_REPLICATION_FACTOR: i32 = 1;
/// 10 KB, the record size of the by-hand ProducerPerformance run.
pub const DEFAULT_RECORD_SIZE: u64 = 10_000;
/// The longest a load step (or one ramp level) may last: every load loop is bounded.
pub const MAX_STEP_DURATION: Duration = Duration::from_secs(3600);
/// The most levels a ramp may have.
pub const MAX_RAMP_LEVELS: u64 = 100;
/// Kafka's own default limit on a batch is about 1 MB; 10 MB leaves room for brokers
/// configured for more, and refuses typos.
pub const MAX_RECORD_SIZE: u64 = 10_000_000;
pub const MAX_PARTITIONS: i32 = 1000;
pub const MAX_REPLICATION_FACTOR: i32 = 16;
/// Members of a step's load consumer group: each is a process or a Trogdor worker.
pub const MAX_CONSUMERS: u32 = 32;

/// The topic a load step writes (and its consumers read).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LoadTopic {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
}

impl Default for LoadTopic {
    fn default() -> Self {
        LoadTopic {
            name: DEFAULT_TOPIC.to_string(),
            partitions: DEFAULT_PARTITIONS,
            replication_factor: DEFAULT_REPLICATION_FACTOR,
        }
    }
}

impl LoadTopic {
    /// The topic to create through a transport.
    pub fn spec(&self) -> TopicSpec {
        TopicSpec {
            name: self.name.clone(),
            partitions: self.partitions,
            replication_factor: self.replication_factor,
            configs: Vec::new(),
        }
    }

    /// The keys that differ from the defaults, as a step writes them.
    fn write_keys(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = LoadTopic::default();
        if self.name != d.name {
            write!(f, ":topic={}", self.name)?;
        }
        if self.partitions != d.partitions {
            write!(f, ":partitions={}", self.partitions)?;
        }
        if self.replication_factor != d.replication_factor {
            write!(f, ":rf={}", self.replication_factor)?;
        }
        Ok(())
    }
}

/// Where a load step sits in a ramp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RampInfo {
    /// Which ramp of the scenario, from 0, in score order.
    pub index: usize,
    /// Which level of the ramp, from 0 (the `from` rate).
    pub level: usize,
    /// How many levels the ramp has.
    pub levels: usize,
    /// Whether the ramp stops rising once the music broke on every side.
    pub until: RampUntil,
}

/// How far a ramp rises: by default it stops once the music broke on every side (the
/// knee is found, more load only hurts the cluster); `until=end` runs every level, for
/// the whole curve.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RampUntil {
    #[default]
    Broken,
    End,
}

/// One load step: produce at `rate` for `duration` from score time `at`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LoadStep {
    /// Where in the score (before `--speed-ratio`).
    pub at: Duration,
    pub rate: Rate,
    pub record_size: u64,
    /// How long, in score time too.
    pub duration: Duration,
    pub topic: LoadTopic,
    /// Members of a consumer group reading the load topic; 0: none.
    pub consumers: u32,
    /// Set when the step is a level of a ramp.
    pub ramp: Option<RampInfo>,
}

impl LoadStep {
    /// Where in the score it ends.
    pub fn end(&self) -> Duration {
        self.at + self.duration
    }

    pub fn records_per_sec(&self) -> f64 {
        self.rate.records_per_sec(self.record_size)
    }

    pub fn bytes_per_sec(&self) -> f64 {
        self.rate.bytes_per_sec(self.record_size)
    }

    /// For tables and plots: the step as written, or which level of which ramp.
    pub fn label(&self) -> String {
        match self.ramp {
            None => self.to_string(),
            Some(r) => {
                // Levels are `every` apart from the ramp's start, exactly (Duration math).
                let ramp_at = self.at.saturating_sub(self.duration * r.level as u32);
                let ramp = if r.index == 0 {
                    String::new()
                } else {
                    format!(" {}", r.index + 1)
                };
                format!(
                    "ramp{ramp}@{} level {}/{}: {}",
                    format_time(ramp_at),
                    r.level + 1,
                    r.levels,
                    self.rate
                )
            }
        }
    }
}

/// As the load step of the grammar (a ramp level too, as the plain step it amounts to):
/// `load@10s:rate=5MB/s:size=10KB:for=20s`, then the keys that are not the defaults.
impl fmt::Display for LoadStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "load@{}:rate={}:size={}:for={}",
            format_time(self.at),
            self.rate,
            format_size(self.record_size),
            format_time(self.duration)
        )?;
        self.topic.write_keys(f)?;
        if self.consumers != 0 {
            write!(f, ":consumers={}", self.consumers)?;
        }
        Ok(())
    }
}

/// A ramp as written: load rising from `from` by `step` every `every`, up to `to`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Ramp {
    pub at: Duration,
    pub from: Rate,
    pub to: Rate,
    pub step: Rate,
    /// How long each level lasts.
    pub every: Duration,
    pub record_size: u64,
    pub topic: LoadTopic,
    pub consumers: u32,
    pub until: RampUntil,
}

impl Ramp {
    /// from, from + step, ... while not above `to` (a rounding error's worth of slack,
    /// so 1..=50 by 0.1 reaches 50).
    pub fn levels(&self) -> u64 {
        let span = (self.to.value() - self.from.value()) / self.step.value();
        if !span.is_finite() || span < 0.0 {
            return 0;
        }
        (span + 1e-9).floor() as u64 + 1
    }

    /// The ramp's levels as consecutive load steps; `index` is the ramp's place in the
    /// scenario. Callers bound `levels()` first ([`MAX_RAMP_LEVELS`]).
    pub fn expand(&self, index: usize) -> Vec<LoadStep> {
        let levels = self.levels().min(MAX_RAMP_LEVELS) as usize;
        (0..levels)
            .map(|level| LoadStep {
                at: self.at + self.every * level as u32,
                rate: self
                    .from
                    .with_value(self.from.value() + level as f64 * self.step.value()),
                record_size: self.record_size,
                duration: self.every,
                topic: self.topic.clone(),
                consumers: self.consumers,
                ramp: Some(RampInfo {
                    index,
                    level,
                    levels,
                    until: self.until,
                }),
            })
            .collect()
    }
}

impl fmt::Display for Ramp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ramp@{}:from={}:to={}:step={}:every={}:size={}",
            format_time(self.at),
            self.from,
            self.to,
            self.step,
            format_time(self.every),
            format_size(self.record_size)
        )?;
        self.topic.write_keys(f)?;
        if self.consumers != 0 {
            write!(f, ":consumers={}", self.consumers)?;
        }
        if self.until == RampUntil::End {
            write!(f, ":until=end")?;
        }
        Ok(())
    }
}
