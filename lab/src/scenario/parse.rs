//! Reading one step: `ACTION@TIME[:key=value]...`.

use std::collections::BTreeMap;
use std::time::Duration;

use kmidi_engine::churn::{ChurnEvent, ChurnScript};

use super::error::ScenarioError;
use super::fault::{FaultAction, FaultStep, Target, DEFAULT_EXEC_TIMEOUT, DEFAULT_WAIT_ISR};
use super::step::{
    LoadStep, LoadTopic, Ramp, RampUntil, DEFAULT_RECORD_SIZE, MAX_CONSUMERS, MAX_PARTITIONS,
    MAX_RAMP_LEVELS, MAX_RECORD_SIZE, MAX_REPLICATION_FACTOR, MAX_STEP_DURATION,
};
use super::units::{parse_rate, parse_size, parse_time, Rate, ValueProblem};

/// One step, parsed.
#[derive(Debug)]
pub enum Parsed {
    Churn(ChurnEvent),
    Load(LoadStep),
    Ramp(Ramp),
    Fault(FaultStep),
}

const LOAD_KEYS: &str = "rate, size, for, topic, partitions, rf, consumers";
const RAMP_KEYS: &str = "from, to, step, every, size, topic, partitions, rf, consumers, until";
const KILL_KEYS: &str = "broker, leader-of, for, wait-isr";
const PAUSE_KEYS: &str = "broker, leader-of, for, wait-isr";
const RESTART_KEYS: &str = "broker, leader-of, wait-isr";
const ROLLING_KEYS: &str = "wait-isr";
const EXEC_KEYS: &str = "run, timeout";

pub fn parse_step(step: &str) -> Result<Parsed, ScenarioError> {
    let mut parts = step.split(':');
    let head = parts.next().unwrap_or_default();
    let (action, time) = head
        .split_once('@')
        .ok_or_else(|| ScenarioError::Shape(step.to_string()))?;
    let action = action.trim().to_ascii_lowercase();
    let pairs: Vec<&str> = parts.collect();
    match action.as_str() {
        "join" | "leave" | "kill" => {
            if !pairs.is_empty() {
                return Err(ScenarioError::ChurnKeys(step.to_string()));
            }
            // The engine's parser panics on a time too large for a Duration
            // (`Duration::from_secs_f64`): refuse those first.
            if parse_time(time.trim()).is_none() {
                return Err(ScenarioError::Time(step.to_string(), time.to_string()));
            }
            // The churn script's own parser: one grammar, one set of rules and messages.
            let script: ChurnScript = head.parse()?;
            let event = script
                .events
                .first()
                .copied()
                .ok_or_else(|| ScenarioError::Shape(step.to_string()))?;
            Ok(Parsed::Churn(event))
        }
        "load" | "ramp" => {
            let at = parse_time(time.trim())
                .ok_or_else(|| ScenarioError::Time(step.to_string(), time.to_string()))?;
            if action == "load" {
                load(at, Keys::read(step, "load", LOAD_KEYS, &pairs)?).map(Parsed::Load)
            } else {
                ramp(at, Keys::read(step, "ramp", RAMP_KEYS, &pairs)?).map(Parsed::Ramp)
            }
        }
        "broker-kill" | "broker-pause" | "broker-restart" | "rolling-restart" | "exec" => {
            let at = parse_time(time.trim())
                .ok_or_else(|| ScenarioError::Time(step.to_string(), time.to_string()))?;
            let (name, allowed) = match action.as_str() {
                "broker-kill" => ("broker-kill", KILL_KEYS),
                "broker-pause" => ("broker-pause", PAUSE_KEYS),
                "broker-restart" => ("broker-restart", RESTART_KEYS),
                "rolling-restart" => ("rolling-restart", ROLLING_KEYS),
                _ => ("exec", EXEC_KEYS),
            };
            fault(at, name, Keys::read(step, name, allowed, &pairs)?).map(Parsed::Fault)
        }
        _ => Err(ScenarioError::Action(step.to_string(), action)),
    }
}

/// A step's `key=value` pairs, each taken once.
struct Keys<'a> {
    step: &'a str,
    values: BTreeMap<String, &'a str>,
}

impl<'a> Keys<'a> {
    fn read(
        step: &'a str,
        action: &'static str,
        allowed: &'static str,
        pairs: &[&'a str],
    ) -> Result<Self, ScenarioError> {
        let mut values = BTreeMap::new();
        for pair in pairs {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| ScenarioError::Pair(step.to_string(), pair.to_string()))?;
            let key = key.trim().to_ascii_lowercase();
            if !allowed.split(", ").any(|k| k == key) {
                return Err(ScenarioError::Key {
                    step: step.to_string(),
                    key,
                    action,
                    allowed,
                });
            }
            if values.insert(key.clone(), value.trim()).is_some() {
                return Err(ScenarioError::DuplicateKey(step.to_string(), key));
            }
        }
        Ok(Keys { step, values })
    }

    fn value_error(&self, key: &str, expected: &'static str) -> ScenarioError {
        ScenarioError::Value {
            step: self.step.to_string(),
            key: key.to_string(),
            value: self
                .values
                .get(key)
                .copied()
                .unwrap_or_default()
                .to_string(),
            expected,
        }
    }

    fn required(&self, key: &'static str, hint: &'static str) -> Result<&'a str, ScenarioError> {
        self.values
            .get(key)
            .copied()
            .ok_or_else(|| ScenarioError::Missing {
                step: self.step.to_string(),
                key,
                hint,
            })
    }

    /// A rate above zero.
    fn rate(&self, key: &'static str, hint: &'static str) -> Result<Rate, ScenarioError> {
        let text = self.required(key, hint)?;
        let not_up =
            text.trim_start().starts_with('-') || parse_rate(text).is_ok_and(|r| r.value() == 0.0);
        if key == "step" && not_up {
            return Err(ScenarioError::RampStep(self.step.to_string()));
        }
        match parse_rate(text) {
            Ok(r) if r.value() > 0.0 => Ok(r),
            Ok(_) | Err(ValueProblem::Number) => {
                Err(self.value_error(key, "a rate above zero (e.g. 5MB/s)"))
            }
            Err(ValueProblem::Unit) => Err(ScenarioError::Unit {
                step: self.step.to_string(),
                key: key.to_string(),
                value: text.to_string(),
                expected: "MB/s, KB/s, B/s (decimal: 1 MB = 10^6 bytes) or rec/s",
            }),
        }
    }

    /// A duration above zero and at most [`MAX_STEP_DURATION`].
    fn duration(&self, key: &'static str, hint: &'static str) -> Result<Duration, ScenarioError> {
        let text = self.required(key, hint)?;
        let d = parse_time(text)
            .ok_or_else(|| ScenarioError::Time(self.step.to_string(), text.to_string()))?;
        if d.is_zero() {
            return Err(if key == "for" {
                ScenarioError::ZeroDuration(self.step.to_string())
            } else {
                self.value_error(key, "a duration above zero (e.g. 10s)")
            });
        }
        if d > MAX_STEP_DURATION {
            return Err(ScenarioError::TooLong {
                step: self.step.to_string(),
                key,
                value: text.to_string(),
                max_s: MAX_STEP_DURATION.as_secs(),
            });
        }
        Ok(d)
    }

    fn size(&self) -> Result<u64, ScenarioError> {
        let Some(text) = self.values.get("size") else {
            return Ok(DEFAULT_RECORD_SIZE);
        };
        match parse_size(text) {
            Ok(b) if (1..=MAX_RECORD_SIZE).contains(&b) => Ok(b),
            Err(ValueProblem::Unit) => Err(ScenarioError::Unit {
                step: self.step.to_string(),
                key: "size".to_string(),
                value: text.to_string(),
                expected: "B, KB or MB (decimal: 1 KB = 1000 bytes)",
            }),
            _ => Err(self.value_error("size", "whole bytes from 1B to 10MB (e.g. 10KB)")),
        }
    }

    /// An optional whole number in `min..=max`.
    fn count(&self, key: &str, default: i64, min: i64, max: i64) -> Result<i64, ScenarioError> {
        let Some(text) = self.values.get(key) else {
            return Ok(default);
        };
        match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.value_error(
                key,
                match key {
                    "partitions" => "a whole number from 1 to 1000",
                    "rf" => "a whole number from 1 to 16",
                    _ => "a whole number from 0 to 32",
                },
            )),
        }
    }

    fn topic(&self) -> Result<LoadTopic, ScenarioError> {
        let d = LoadTopic::default();
        let name = match self.values.get("topic") {
            None => d.name,
            Some(name) if is_topic_name(name) => name.to_string(),
            Some(name) => {
                return Err(ScenarioError::Topic(
                    self.step.to_string(),
                    name.to_string(),
                ))
            }
        };
        let partitions = self.count("partitions", d.partitions.into(), 1, MAX_PARTITIONS.into())?;
        let rf = self.count(
            "rf",
            d.replication_factor.into(),
            1,
            MAX_REPLICATION_FACTOR.into(),
        )?;
        Ok(LoadTopic {
            name,
            // Both were bounded above, well inside i32.
            partitions: partitions as i32,
            replication_factor: rf as i32,
        })
    }

    /// `until=broken` (the default) or `until=end`.
    fn until(&self) -> Result<RampUntil, ScenarioError> {
        match self.values.get("until").map(|v| v.to_ascii_lowercase()) {
            None => Ok(RampUntil::default()),
            Some(v) if v == "broken" => Ok(RampUntil::Broken),
            Some(v) if v == "end" => Ok(RampUntil::End),
            Some(_) => Err(self.value_error(
                "until",
                "broken (stop rising once the music broke on every side) or end (run every level)",
            )),
        }
    }

    fn consumers(&self) -> Result<u32, ScenarioError> {
        // Bounded to 0..=MAX_CONSUMERS above: the cast is exact.
        Ok(self.count("consumers", 0, 0, MAX_CONSUMERS.into())? as u32)
    }
}

/// Kafka's rule for topic names.
fn is_topic_name(name: &str) -> bool {
    (1..=249).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn load(at: Duration, keys: Keys<'_>) -> Result<LoadStep, ScenarioError> {
    Ok(LoadStep {
        at,
        rate: keys.rate("rate", "e.g. rate=5MB/s or rate=1000rec/s")?,
        record_size: keys.size()?,
        duration: keys.duration("for", "how long the load lasts, e.g. for=20s")?,
        topic: keys.topic()?,
        consumers: keys.consumers()?,
        ramp: None,
    })
}

fn ramp(at: Duration, keys: Keys<'_>) -> Result<Ramp, ScenarioError> {
    let from = keys.rate("from", "the first level's rate, e.g. from=1MB/s")?;
    let to = keys.rate("to", "the last level's rate, e.g. to=50MB/s")?;
    let step = keys.rate("step", "how much each level adds, e.g. step=5MB/s")?;
    let every = keys.duration("every", "how long each level lasts, e.g. every=10s")?;
    let step_text = keys.step.to_string();
    if !(from.same_unit(&to) && from.same_unit(&step)) {
        return Err(ScenarioError::RampUnits(step_text));
    }
    if from.value() > to.value() {
        return Err(ScenarioError::RampOrder(step_text));
    }
    let ramp = Ramp {
        at,
        from,
        to,
        step,
        every,
        record_size: keys.size()?,
        topic: keys.topic()?,
        consumers: keys.consumers()?,
        until: keys.until()?,
    };
    let levels = ramp.levels();
    if levels > MAX_RAMP_LEVELS {
        return Err(ScenarioError::RampLevels(
            step_text,
            levels,
            MAX_RAMP_LEVELS,
        ));
    }
    Ok(ramp)
}

/// A broker or exec step; `action` is its canonical name.
fn fault(at: Duration, action: &'static str, keys: Keys<'_>) -> Result<FaultStep, ScenarioError> {
    let optional = |key: &'static str| -> Result<Option<Duration>, ScenarioError> {
        match keys.values.get(key) {
            None => Ok(None),
            Some(_) => keys.duration(key, "").map(Some),
        }
    };
    let wait_isr = optional("wait-isr")?.unwrap_or(DEFAULT_WAIT_ISR);
    let action = match action {
        "broker-kill" => FaultAction::Kill {
            target: keys.target()?,
            down_for: optional("for")?,
        },
        "broker-pause" => FaultAction::Pause {
            target: keys.target()?,
            paused_for: keys.duration("for", "how long the broker stays paused, e.g. for=5s")?,
        },
        "broker-restart" => FaultAction::Restart {
            target: keys.target()?,
        },
        "rolling-restart" => FaultAction::RollingRestart,
        _ => {
            let name = keys.required(
                "run",
                "the name of a command given with --exec NAME=CMD, e.g. run=bounce",
            )?;
            if !is_exec_name(name) {
                return Err(ScenarioError::ExecName(
                    keys.step.to_string(),
                    name.to_string(),
                ));
            }
            FaultAction::Exec {
                name: name.to_string(),
                timeout: optional("timeout")?.unwrap_or(DEFAULT_EXEC_TIMEOUT),
            }
        }
    };
    Ok(FaultStep {
        at,
        action,
        wait_isr,
    })
}

/// The name an `exec` step and its `--exec NAME=CMD` share.
pub fn is_exec_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl Keys<'_> {
    /// `broker=ID` or `leader-of=PARTITION`, exactly one.
    fn target(&self) -> Result<Target, ScenarioError> {
        let number = |key: &str, text: &str| -> Result<i32, ScenarioError> {
            text.parse::<i32>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                self.value_error(key, "a whole number from 0 (a node id or a partition)")
            })
        };
        match (self.values.get("broker"), self.values.get("leader-of")) {
            (Some(_), Some(_)) => Err(ScenarioError::TwoTargets(self.step.to_string())),
            (None, None) => Err(ScenarioError::Missing {
                step: self.step.to_string(),
                key: "broker",
                hint: "which broker: broker=ID (its node.id) or leader-of=P (the leader of \
                       partition P of the music topic)",
            }),
            (Some(text), None) => Ok(Target::Broker(number("broker", text)?)),
            (None, Some(text)) => Ok(Target::LeaderOf(number("leader-of", text)?)),
        }
    }
}
