//! The churn script: what happens to a consumer group during a song, and when, in score
//! time (`join@10s,leave@20s,kill@30s`). Score time, not wall time, so two sides of a
//! compare (and a run at `--speed-ratio 2`) churn at the same place in the music.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// What happens to the group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChurnKind {
    /// A new member joins the group.
    Join,
    /// A member closes cleanly: it leaves the group, which reassigns at once.
    Leave,
    /// A member is killed (SIGKILL), as a crashed process would be: it never leaves,
    /// and the group notices only when its session times out.
    Kill,
}

impl ChurnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChurnKind::Join => "join",
            ChurnKind::Leave => "leave",
            ChurnKind::Kill => "kill",
        }
    }
}

/// One step of the script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChurnEvent {
    pub kind: ChurnKind,
    /// Where in the score (before `--speed-ratio`).
    pub at: Duration,
}

impl fmt::Display for ChurnEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.at.as_secs_f64();
        if s.fract() == 0.0 {
            write!(f, "{}@{}s", self.kind.as_str(), s as u64)
        } else {
            write!(f, "{}@{}s", self.kind.as_str(), s)
        }
    }
}

/// The events, in score order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChurnScript {
    pub events: Vec<ChurnEvent>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScriptError {
    #[error("churn step '{0}': expected ACTION@TIME, e.g. join@10s, leave@20s or kill@30s")]
    Shape(String),
    #[error("churn step '{0}': unknown action '{1}' (join, leave or kill)")]
    Action(String, String),
    #[error("churn step '{0}': '{1}' is not a time (e.g. 10s, 2.5s or 1500ms)")]
    Time(String, String),
    #[error("the churn script is empty: give steps like join@10s,kill@20s")]
    Empty,
}

/// A song time as scripts write it: `10s`, `2.5s`, `1500ms`, a bare number is seconds.
/// `None` for anything else, a negative time, or one too large for a `Duration`.
pub fn parse_time(s: &str) -> Option<Duration> {
    let (number, scale) = if let Some(ms) = s.strip_suffix("ms") {
        (ms, 1e-3)
    } else if let Some(sec) = s.strip_suffix('s') {
        (sec, 1.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = number.trim().parse().ok()?;
    if !(v.is_finite() && v >= 0.0) {
        return None;
    }
    Duration::try_from_secs_f64(v * scale).ok()
}

impl FromStr for ChurnScript {
    type Err = ScriptError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut events = Vec::new();
        for step in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            let (action, time) = step
                .split_once('@')
                .ok_or_else(|| ScriptError::Shape(step.to_string()))?;
            let kind = match action.trim().to_ascii_lowercase().as_str() {
                "join" => ChurnKind::Join,
                "leave" => ChurnKind::Leave,
                "kill" => ChurnKind::Kill,
                other => return Err(ScriptError::Action(step.to_string(), other.to_string())),
            };
            let at = parse_time(time.trim())
                .ok_or_else(|| ScriptError::Time(step.to_string(), time.to_string()))?;
            events.push(ChurnEvent { kind, at });
        }
        if events.is_empty() {
            return Err(ScriptError::Empty);
        }
        // Written in any order, applied in score order.
        events.sort_by_key(|e| e.at);
        Ok(ChurnScript { events })
    }
}

impl fmt::Display for ChurnScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let steps: Vec<String> = self.events.iter().map(ToString::to_string).collect();
        f.write_str(&steps.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_too_large_for_a_duration_is_refused_not_a_panic() {
        assert_eq!(parse_time("1e300s"), None);
        let err = "kill@1e300s".parse::<ChurnScript>().unwrap_err();
        assert!(matches!(err, ScriptError::Time(..)), "{err}");
        assert_eq!(parse_time("1500ms"), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn a_script_is_parsed_into_events_in_score_order() {
        let s: ChurnScript = "kill@30s, join@10s,leave@20.5s,join@1500ms"
            .parse()
            .unwrap();
        let got: Vec<(ChurnKind, u128)> = s
            .events
            .iter()
            .map(|e| (e.kind, e.at.as_millis()))
            .collect();
        assert_eq!(
            got,
            vec![
                (ChurnKind::Join, 1500),
                (ChurnKind::Join, 10_000),
                (ChurnKind::Leave, 20_500),
                (ChurnKind::Kill, 30_000),
            ]
        );
        assert_eq!(s.to_string(), "join@1.5s,join@10s,leave@20.5s,kill@30s");
    }

    #[test]
    fn bad_steps_are_refused_with_what_is_wrong() {
        let err = |s: &str| s.parse::<ChurnScript>().unwrap_err();
        assert_eq!(err("join10s"), ScriptError::Shape("join10s".into()));
        assert_eq!(
            err("crash@3s"),
            ScriptError::Action("crash@3s".into(), "crash".into())
        );
        assert_eq!(
            err("kill@soon"),
            ScriptError::Time("kill@soon".into(), "soon".into())
        );
        assert_eq!(
            err("kill@-1s"),
            ScriptError::Time("kill@-1s".into(), "-1s".into())
        );
        assert_eq!(err(" , "), ScriptError::Empty);
        assert!(err("kill@x").to_string().contains("e.g. 10s"));
    }
}
