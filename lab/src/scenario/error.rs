//! What is wrong with a scenario, naming the step as written and how to write it.

use kmidi_engine::churn::ScriptError;

/// Every message names the step as written, and most say what to write instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScenarioError {
    #[error(
        "step '{0}': expected ACTION@TIME[:key=value]..., e.g. join@10s, \
         load@10s:rate=5MB/s:for=20s or ramp@10s:from=1MB/s:to=50MB/s:step=5MB/s:every=10s"
    )]
    Shape(String),
    #[error(
        "step '{0}': unknown action '{1}' (join, leave, kill, load or ramp), e.g. \
         join@10s, kill@30s, load@10s:rate=5MB/s:for=20s or \
         ramp@10s:from=1MB/s:to=50MB/s:step=5MB/s:every=10s; or a broker step \
         (broker-kill, broker-pause, broker-restart, rolling-restart, exec), e.g. \
         broker-kill@20s:leader-of=0:for=10s or exec@20s:run=NAME (with --exec NAME=CMD)"
    )]
    Action(String, String),
    #[error("step '{0}': '{1}' is not a time (e.g. 10s, 2.5s or 1500ms)")]
    Time(String, String),
    #[error("step '{0}': a churn step takes no keys (write e.g. kill@30s)")]
    ChurnKeys(String),
    #[error(transparent)]
    Churn(#[from] ScriptError),
    #[error("step '{0}': '{1}' is not key=value (e.g. rate=5MB/s)")]
    Pair(String, String),
    #[error("step '{step}': unknown key '{key}' (a {action} step takes {allowed})")]
    Key {
        step: String,
        key: String,
        action: &'static str,
        allowed: &'static str,
    },
    #[error("step '{0}': '{1}' is given twice")]
    DuplicateKey(String, String),
    #[error("step '{step}': '{key}' is missing ({hint})")]
    Missing {
        step: String,
        key: &'static str,
        hint: &'static str,
    },
    #[error("step '{step}': {key}={value}: the unit must be {expected}")]
    Unit {
        step: String,
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("step '{step}': {key}={value} is not {expected}")]
    Value {
        step: String,
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("step '{0}': for=0 loads nothing (give a duration, e.g. for=20s)")]
    ZeroDuration(String),
    #[error("step '{step}': {key}={value} is longer than {max_s} s, the most a step may last")]
    TooLong {
        step: String,
        key: &'static str,
        value: String,
        max_s: u64,
    },
    #[error("step '{0}': from is above to (a ramp goes up: from=1MB/s:to=50MB/s)")]
    RampOrder(String),
    #[error("step '{0}': step must be above zero (e.g. step=5MB/s)")]
    RampStep(String),
    #[error("step '{0}': from, to and step must all be bytes/s or all rec/s")]
    RampUnits(String),
    #[error(
        "step '{0}': {1} levels, more than the {2} a ramp may have \
         (raise step or narrow from..to)"
    )]
    RampLevels(String, u64, u64),
    #[error(
        "step '{0}': topic '{1}' is not a Kafka topic name \
         (1 to 249 of a-z, A-Z, 0-9, '.', '_', '-'; not '.' or '..')"
    )]
    Topic(String, String),
    #[error("step '{0}': give broker=ID or leader-of=P, not both")]
    TwoTargets(String),
    #[error(
        "step '{0}': run={1} is not a command name (1 to 64 of a-z, A-Z, 0-9, '_', '-', \
         '.'; the command itself goes in --exec {1}=CMD)"
    )]
    ExecName(String, String),
    #[error("the scenario is empty: give steps like join@10s,load@20s:rate=5MB/s:for=20s")]
    Empty,
}
