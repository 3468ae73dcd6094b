//! Broker steps and `exec` steps, as parsed: what is done to the cluster at a song time.
//!
//! - `broker-kill@20s:broker=2[:for=10s]` SIGKILLs a broker (restarted after `for`, or
//!   when kmidi exits);
//! - `broker-pause@20s:broker=2:for=5s` SIGSTOPs it, then SIGCONTs it (a broker stalled
//!   by GC or a full disk);
//! - `broker-restart@20s:broker=2` stops it cleanly and starts it again;
//! - `rolling-restart@20s` restarts every broker in turn, each once the ISR is full again;
//! - `exec@20s:run=NAME[:timeout=60s]` runs the command `--exec NAME=CMD` gave (a
//!   command has spaces, colons and commas: it is named here and written in its own flag).
//!
//! A broker step aims at `broker=ID` or at `leader-of=P`, the broker leading partition
//! P of the music topic when the step starts. After it, kmidi waits (at most `wait-isr`,
//! 60 s unless told) until every partition has a leader and a full ISR again.

use std::fmt;
use std::time::Duration;

use super::units::format_time;

/// How long a step waits for a full ISR unless `wait-isr` says.
pub const DEFAULT_WAIT_ISR: Duration = Duration::from_secs(60);
/// How long an `exec` command may run unless `timeout` says.
pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(60);

/// Which broker a step hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// By node id.
    Broker(i32),
    /// The leader of this partition of the music topic when the step starts.
    LeaderOf(i32),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Broker(id) => write!(f, "broker={id}"),
            Target::LeaderOf(p) => write!(f, "leader-of={p}"),
        }
    }
}

/// What a step does.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FaultAction {
    /// SIGKILL; started again after `down_for`, or when kmidi exits.
    Kill {
        target: Target,
        down_for: Option<Duration>,
    },
    /// SIGSTOP for `paused_for`, then SIGCONT.
    Pause {
        target: Target,
        paused_for: Duration,
    },
    /// A clean stop (SIGTERM) and a start with the same data.
    Restart { target: Target },
    /// Every broker restarted in turn, each once the ISR is full again.
    RollingRestart,
    /// The command `--exec NAME=CMD` named `name`.
    Exec { name: String, timeout: Duration },
}

/// One broker or exec step.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FaultStep {
    /// Where in the score (before `--speed-ratio`).
    pub at: Duration,
    pub action: FaultAction,
    /// The longest wait for every partition to have a leader and a full ISR after it
    /// (and between the brokers of a rolling restart).
    pub wait_isr: Duration,
}

impl FaultStep {
    /// The step's action word, as written.
    pub fn verb(&self) -> &'static str {
        match self.action {
            FaultAction::Kill { .. } => "broker-kill",
            FaultAction::Pause { .. } => "broker-pause",
            FaultAction::Restart { .. } => "broker-restart",
            FaultAction::RollingRestart => "rolling-restart",
            FaultAction::Exec { .. } => "exec",
        }
    }

    /// Whether it acts on a broker (and so needs `--fault-driver`).
    pub fn is_broker_step(&self) -> bool {
        !matches!(self.action, FaultAction::Exec { .. })
    }

    pub fn target(&self) -> Option<Target> {
        match self.action {
            FaultAction::Kill { target, .. }
            | FaultAction::Pause { target, .. }
            | FaultAction::Restart { target } => Some(target),
            FaultAction::RollingRestart | FaultAction::Exec { .. } => None,
        }
    }

    /// How long the broker is meant to stay down or paused, in score time.
    pub fn held_for(&self) -> Option<Duration> {
        match self.action {
            FaultAction::Kill { down_for, .. } => down_for,
            FaultAction::Pause { paused_for, .. } => Some(paused_for),
            _ => None,
        }
    }
}

/// As written, the optional keys only when they are not the defaults.
impl fmt::Display for FaultStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.verb(), format_time(self.at))?;
        match &self.action {
            FaultAction::Kill { target, down_for } => {
                write!(f, ":{target}")?;
                if let Some(d) = down_for {
                    write!(f, ":for={}", format_time(*d))?;
                }
            }
            FaultAction::Pause { target, paused_for } => {
                write!(f, ":{target}:for={}", format_time(*paused_for))?;
            }
            FaultAction::Restart { target } => write!(f, ":{target}")?,
            FaultAction::RollingRestart => {}
            FaultAction::Exec { name, timeout } => {
                write!(f, ":run={name}")?;
                if *timeout != DEFAULT_EXEC_TIMEOUT {
                    write!(f, ":timeout={}", format_time(*timeout))?;
                }
            }
        }
        if self.is_broker_step() && self.wait_isr != DEFAULT_WAIT_ISR {
            write!(f, ":wait-isr={}", format_time(self.wait_isr))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::tests::{err, parse, secs};
    use crate::scenario::{is_exec_name, ScenarioError};

    #[test]
    fn broker_steps_take_a_target_and_their_keys() {
        let s = parse(
            "rolling-restart@40s:wait-isr=90s, broker-kill@20s:leader-of=0:for=10s,\
             broker-pause@30s:broker=2:for=5s,broker-restart@35s:broker=3,exec@25s:run=bounce",
        );
        assert!(s.has_faults() && !s.has_load() && !s.has_churn());
        let at: Vec<f64> = s.faults.iter().map(|f| f.at.as_secs_f64()).collect();
        assert_eq!(at, vec![20.0, 25.0, 30.0, 35.0, 40.0]);
        assert_eq!(
            s.faults[0].action,
            FaultAction::Kill {
                target: Target::LeaderOf(0),
                down_for: Some(secs(10.0)),
            }
        );
        assert_eq!(s.faults[0].wait_isr, DEFAULT_WAIT_ISR);
        assert_eq!(
            s.faults[1].action,
            FaultAction::Exec {
                name: "bounce".into(),
                timeout: DEFAULT_EXEC_TIMEOUT,
            }
        );
        assert!(!s.faults[1].is_broker_step());
        assert_eq!(s.faults[2].target(), Some(Target::Broker(2)));
        assert_eq!(s.faults[2].held_for(), Some(secs(5.0)));
        assert_eq!(s.faults[4].action, FaultAction::RollingRestart);
        assert_eq!(s.faults[4].wait_isr, secs(90.0));
        let text = s.to_string();
        assert_eq!(
            text,
            "broker-kill@20s:leader-of=0:for=10s,exec@25s:run=bounce,\
             broker-pause@30s:broker=2:for=5s,broker-restart@35s:broker=3,\
             rolling-restart@40s:wait-isr=90s"
        );
        assert_eq!(parse(&text), s);
        // A kill without for= stays down until kmidi exits.
        let s = parse("BROKER-KILL@1s:broker=1,load@2s:rate=1MB/s:for=1s,join@3s");
        assert_eq!(s.faults[0].held_for(), None);
        assert!(s.has_load() && s.has_churn());
        assert_eq!(
            s.to_string(),
            "broker-kill@1s:broker=1,load@2s:rate=1MB/s:size=10KB:for=1s,join@3s"
        );
    }

    #[test]
    fn broker_steps_refuse_what_they_cannot_do_naming_the_fix() {
        let e = err("broker-kill@20s");
        assert!(
            e.to_string()
                .contains("broker=ID (its node.id) or leader-of=P"),
            "{e}"
        );
        let e = err("broker-kill@20s:broker=1:leader-of=0");
        assert_eq!(
            e,
            ScenarioError::TwoTargets("broker-kill@20s:broker=1:leader-of=0".into())
        );
        let e = err("broker-pause@20s:broker=1");
        assert!(e.to_string().contains("'for' is missing"), "{e}");
        let e = err("broker-kill@20s:broker=-1");
        assert!(e.to_string().contains("broker=-1 is not"), "{e}");
        let e = err("rolling-restart@20s:broker=1");
        assert!(
            e.to_string()
                .contains("a rolling-restart step takes wait-isr"),
            "{e}"
        );
        let e = err("broker-restart@20s:broker=1:for=3s");
        assert!(e.to_string().contains("unknown key 'for'"), "{e}");
        let e = err("exec@20s");
        assert!(e.to_string().contains("--exec NAME=CMD"), "{e}");
        let e = err("exec@20s:run=a b");
        assert!(matches!(e, ScenarioError::ExecName(..)), "{e}");
        let e = err("broker-pause@20s:broker=1:for=7200s");
        assert!(e.to_string().contains("longer than"), "{e}");
        let e = err("broker-stop@20s:broker=1");
        assert!(e.to_string().contains("broker-kill"), "{e}");
        assert!(is_exec_name("kubectl-bounce_1.a") && !is_exec_name("") && !is_exec_name("x=y"));
    }
}
