//! `--fault-driver` and `--exec`: who does the broker steps of `--scenario`, and the
//! commands its `exec` steps run. Both are off unless given: a scenario with broker or
//! exec steps and without them is refused, naming the flag.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

/// Broker steps and `exec` steps at song times.
#[derive(Debug, Args, Clone, Default)]
pub struct FaultArgs {
    /// Who does the broker steps of --scenario (broker-kill@20s:leader-of=0[:for=10s],
    /// broker-pause@20s:broker=2:for=5s, broker-restart@20s:broker=2,
    /// rolling-restart@20s[:wait-isr=60s]; leader-of=P is the leader of partition P of the
    /// music topic, side A's in compare, when the step starts): `script` (SIGKILL,
    /// SIGSTOP/SIGCONT and restarts of the nodes of a cluster scripts/kafka.sh started,
    /// found by -b's ports in ${KMIDI_CACHE:-.cache}/run), `script=PATH` (that kafka.sh),
    /// or `trogdor=URL,agents=ID:NODE+ID:NODE[,process=TEXT]` (broker-pause only: Trogdor's
    /// ProcessStopFaultSpec on the agent NODE of broker ID's host, stopping the Java
    /// processes whose jcmd line holds TEXT, kafka.Kafka unless told; {id} in TEXT is the
    /// broker id). After each step kmidi waits until every partition has a leader and a
    /// full ISR. A paused broker is resumed and a killed one started again when kmidi exits.
    #[arg(long = "fault-driver", value_name = "DRIVER")]
    pub fault_driver: Option<FaultDriverSpec>,

    /// A command that exec steps of --scenario run by name, repeatable:
    /// --exec bounce='kubectl delete pod kafka-1' with exec@20s:run=bounce[:timeout=60s].
    /// It runs with sh -c at its song time, on any cluster; its exit status and output tail
    /// go in the report, and it is killed at its timeout or when kmidi exits.
    #[arg(long = "exec", value_name = "NAME=CMD", value_parser = parse_exec)]
    pub exec_commands: Vec<(String, String)>,
}

impl FaultArgs {
    /// The `--exec` commands by name.
    pub fn commands(&self) -> BTreeMap<String, String> {
        self.exec_commands.iter().cloned().collect()
    }
}

fn parse_exec(s: &str) -> Result<(String, String), String> {
    let (name, cmd) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not NAME=CMD (e.g. bounce='systemctl restart kafka')"))?;
    let name = name.trim();
    if !kmidi_lab::scenario::is_exec_name(name) {
        return Err(format!(
            "'{name}' is not a command name (1 to 64 of a-z, A-Z, 0-9, '_', '-', '.')"
        ));
    }
    if cmd.trim().is_empty() {
        return Err(format!("--exec {name}= needs a command"));
    }
    Ok((name.to_string(), cmd.to_string()))
}

/// `--fault-driver`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultDriverSpec {
    /// The project's script; its path when given.
    Script(Option<PathBuf>),
    Trogdor {
        url: String,
        /// Broker id -> the agent's node name on its host.
        agents: BTreeMap<i32, String>,
        process: Option<String>,
    },
}

impl std::str::FromStr for FaultDriverSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        match s.split_once('=') {
            None if s == "script" => Ok(FaultDriverSpec::Script(None)),
            Some(("script", path)) if !path.trim().is_empty() => {
                Ok(FaultDriverSpec::Script(Some(PathBuf::from(path.trim()))))
            }
            Some(("trogdor", rest)) => trogdor(rest),
            _ => Err(format!(
                "unknown fault driver '{s}': use script, script=PATH/TO/kafka.sh or \
                 trogdor=URL,agents=ID:NODE+ID:NODE[,process=TEXT]"
            )),
        }
    }
}

fn trogdor(rest: &str) -> Result<FaultDriverSpec, String> {
    let mut parts = rest.split(',');
    let url = parts.next().unwrap_or_default().trim().to_string();
    if url.is_empty() {
        return Err(
            "trogdor= needs the coordinator's URL, e.g. trogdor=http://127.0.0.1:8889".into(),
        );
    }
    let mut agents = BTreeMap::new();
    let mut process = None;
    for part in parts {
        match part.split_once('=') {
            Some(("agents", list)) => {
                for pair in list.split('+').map(str::trim).filter(|p| !p.is_empty()) {
                    let (id, node) = pair
                        .split_once(':')
                        .and_then(|(id, node)| Some((id.trim().parse::<i32>().ok()?, node.trim())))
                        .filter(|(_, node)| !node.is_empty())
                        .ok_or_else(|| {
                            format!(
                                "agents: '{pair}' is not ID:NODE (a broker's node id and \
                                 the Trogdor agent on its host, e.g. 1:agent-1)"
                            )
                        })?;
                    agents.insert(id, node.to_string());
                }
            }
            Some(("process", text)) if !text.trim().is_empty() => {
                process = Some(text.trim().to_string())
            }
            _ => {
                return Err(format!(
                    "unknown trogdor option '{part}': the options are agents=ID:NODE+... \
                     and process=TEXT"
                ))
            }
        }
    }
    if agents.is_empty() {
        return Err("trogdor=URL needs the agent on each broker's host: \
                    trogdor=URL,agents=1:agent-1+2:agent-2 (node id : agent node name)"
            .into());
    }
    Ok(FaultDriverSpec::Trogdor {
        url,
        agents,
        process,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_drivers_are_read_and_bad_ones_refused_with_the_fix() {
        assert_eq!("script".parse(), Ok(FaultDriverSpec::Script(None)));
        assert_eq!(
            "script=/x/kafka.sh".parse(),
            Ok(FaultDriverSpec::Script(Some("/x/kafka.sh".into())))
        );
        assert_eq!(
            "trogdor=http://127.0.0.1:1,agents=1:agent-1+2:agent-2,process=b-{id}/server".parse(),
            Ok(FaultDriverSpec::Trogdor {
                url: "http://127.0.0.1:1".into(),
                agents: BTreeMap::from([(1, "agent-1".into()), (2, "agent-2".into())]),
                process: Some("b-{id}/server".into()),
            })
        );
        for (bad, says) in [
            ("kill", "unknown fault driver"),
            ("trogdor=", "URL"),
            ("trogdor=http://x:1", "agents"),
            ("trogdor=http://x:1,agents=agent-1", "ID:NODE"),
            (
                "trogdor=http://x:1,agents=1:a,nodes=2",
                "unknown trogdor option",
            ),
        ] {
            let e = bad.parse::<FaultDriverSpec>().unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn exec_commands_keep_their_spaces_colons_and_commas() {
        assert_eq!(
            parse_exec("bounce=kubectl delete pod a,b --grace-period=0:x"),
            Ok((
                "bounce".into(),
                "kubectl delete pod a,b --grace-period=0:x".into()
            ))
        );
        assert!(parse_exec("no command").is_err());
        assert!(parse_exec("x=").is_err());
        assert!(parse_exec("a b=ls").is_err());
    }
}
