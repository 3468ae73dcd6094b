//! Broker faults on a cluster `scripts/kafka.sh` started: its nodes are found in the
//! script's run dirs (`RUN_ROOT/NAME/` with `port`, `pid`, `cluster` and
//! `server.properties`), by a bootstrap port, and each node's id is its `node.id`.
//! Kill and restart go through the script (which keeps each node's state for
//! `status`); pause is SIGSTOP/SIGCONT to the node's pid, sent here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use super::{BrokerDriver, FaultError};

/// One node of the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptNode {
    pub id: i32,
    /// The script's name for it (`BASE-ID`).
    pub name: String,
    pub port: u16,
    pub run: PathBuf,
}

impl ScriptNode {
    /// The broker's process id, as the script recorded it.
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.run.join("pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

/// What kmidi holds down, to put back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    Paused(u32),
    Killed,
}

/// The nodes of one script-started cluster, and what kmidi did to them.
#[derive(Debug)]
pub struct ScriptCluster {
    kafka_sh: PathBuf,
    /// `scripts/kafka.sh`'s cluster name (the `cluster` file), or the node's own name.
    pub cluster: String,
    pub nodes: BTreeMap<i32, ScriptNode>,
    held: Mutex<BTreeMap<i32, Held>>,
}

/// The ports of a bootstrap list on loopback, or why it is not one.
pub fn loopback_ports(bootstrap: &str) -> Result<BTreeSet<u16>, String> {
    let mut ports = BTreeSet::new();
    for addr in bootstrap
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        let addr = addr.rsplit_once("://").map_or(addr, |(_, a)| a);
        let (host, port) = addr
            .rsplit_once(':')
            .ok_or_else(|| format!("'{addr}' has no port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(format!("'{addr}' is not on loopback"));
        }
        ports.insert(port.parse().map_err(|_| format!("'{addr}': bad port"))?);
    }
    if ports.is_empty() {
        return Err("no address".into());
    }
    Ok(ports)
}

/// The `node.id` (or `broker.id`) of a server.properties.
fn node_id(properties: &str) -> Option<i32> {
    properties.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        matches!(k.trim(), "node.id" | "broker.id")
            .then(|| v.trim().parse().ok())
            .flatten()
    })
}

fn read(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file))
        .ok()
        .map(|s| s.trim().to_string())
}

impl ScriptCluster {
    /// The cluster whose node listens on a port of `bootstrap`, under `run_root`
    /// (`${KMIDI_CACHE}/run`), acted on through `kafka_sh`. Refuses a cluster the
    /// script did not start, saying so.
    pub fn find(kafka_sh: &Path, run_root: &Path, bootstrap: &str) -> Result<Self, FaultError> {
        let ports = loopback_ports(bootstrap).map_err(|why| {
            FaultError::Cluster(format!(
                "--fault-driver script acts on clusters scripts/kafka.sh started on this \
                 machine, and {bootstrap} is not one ({why}); use exec steps (--exec) for \
                 another cluster, or --fault-driver trogdor=URL,agents=ID:NAME+... for \
                 broker-pause through Trogdor agents on the brokers' hosts"
            ))
        })?;
        let dirs: Vec<PathBuf> = std::fs::read_dir(run_root)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        let port_of = |d: &Path| read(d, "port").and_then(|p| p.parse::<u16>().ok());
        let hit = dirs
            .iter()
            .filter(|d| d.join("server.properties").is_file() && d.join("data").is_dir())
            .find(|d| port_of(d).is_some_and(|p| ports.contains(&p)))
            .ok_or_else(|| {
                FaultError::Cluster(format!(
                    "no node of {bootstrap} was started by scripts/kafka.sh under {} (no \
                     run dir there has one of its ports): broker steps with --fault-driver \
                     script need a cluster `scripts/kafka.sh start-cluster VERSION 3 NAME` \
                     started (with the same KMIDI_CACHE)",
                    run_root.display()
                ))
            })?;
        let name_of = |d: &Path| {
            d.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let cluster = read(hit, "cluster");
        let members: Vec<&PathBuf> = match &cluster {
            Some(c) => dirs
                .iter()
                .filter(|d| read(d, "cluster").as_deref() == Some(c))
                .collect(),
            None => vec![hit],
        };
        let mut nodes = BTreeMap::new();
        for d in members {
            let (Some(id), Some(port)) = (
                read(d, "server.properties").as_deref().and_then(node_id),
                port_of(d),
            ) else {
                continue;
            };
            nodes.insert(
                id,
                ScriptNode {
                    id,
                    name: name_of(d),
                    port,
                    run: d.clone(),
                },
            );
        }
        Ok(ScriptCluster {
            kafka_sh: kafka_sh.to_path_buf(),
            cluster: cluster.unwrap_or_else(|| name_of(hit)),
            nodes,
            held: Mutex::new(BTreeMap::new()),
        })
    }

    fn node(&self, broker: i32) -> Result<&ScriptNode, FaultError> {
        self.nodes.get(&broker).ok_or_else(|| {
            FaultError::NoSuchBroker(
                broker,
                format!(
                    "cluster '{}' has node ids {:?}",
                    self.cluster,
                    self.nodes.keys().collect::<Vec<_>>()
                ),
            )
        })
    }

    /// `kafka.sh ARGS`, its last lines of output on failure.
    fn script(&self, args: &[&str]) -> Result<(), FaultError> {
        let what = format!("{} {}", self.kafka_sh.display(), args.join(" "));
        let out = Command::new("bash")
            .arg(&self.kafka_sh)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| FaultError::Command {
                what: what.clone(),
                why: e.to_string(),
            })?;
        if out.status.success() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = text.lines().rev().take(3).collect();
        Err(FaultError::Command {
            what,
            why: format!(
                "{}: {}",
                out.status,
                tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
            ),
        })
    }

    fn signal(pid: u32, sig: &str) -> Result<(), FaultError> {
        let what = format!("kill -{sig} {pid}");
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &pid.to_string()])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| FaultError::Command {
                what: what.clone(),
                why: e.to_string(),
            })?
            .success();
        if ok {
            Ok(())
        } else {
            Err(FaultError::Command {
                what,
                why: "no such process".into(),
            })
        }
    }

    /// A detached shell that puts a broker back should kmidi die without doing it (a
    /// second Ctrl-C exits at once, skipping every clean-up): bounded, and harmless when
    /// kmidi did it already.
    fn watchdog(script: &str) {
        let _ = Command::new("sh")
            .args(["-c", &format!("( {script} ) </dev/null >/dev/null 2>&1 &")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    fn hold(&self, broker: i32, held: Option<Held>) {
        if let Ok(mut h) = self.held.lock() {
            match held {
                Some(x) => h.insert(broker, x),
                None => h.remove(&broker),
            };
        }
    }
}

impl BrokerDriver for ScriptCluster {
    fn describe(&self) -> String {
        format!(
            "{} on cluster '{}' (node ids {})",
            self.kafka_sh.display(),
            self.cluster,
            self.nodes
                .keys()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    fn brokers(&self) -> Vec<i32> {
        self.nodes.keys().copied().collect()
    }

    fn name(&self, broker: i32) -> String {
        match self.nodes.get(&broker) {
            Some(n) => match n.pid() {
                Some(pid) => format!("node {} (pid {pid}, port {})", n.name, n.port),
                None => format!("node {} (port {})", n.name, n.port),
            },
            None => format!("broker {broker}"),
        }
    }

    fn kill(&self, broker: i32) -> Result<String, FaultError> {
        let node = self.node(broker)?;
        let what = format!("SIGKILL {}", self.name(broker));
        // Held first: a kill that half-worked is still put back at exit.
        self.hold(broker, Some(Held::Killed));
        self.script(&["kill", &node.name])?;
        // Should kmidi die, the node is started again once it is gone (if still killed).
        let state = node.run.join("state");
        Self::watchdog(&format!(
            "while kill -0 {kmidi} 2>/dev/null; do sleep 1; done; \
             [ \"$(cat '{state}' 2>/dev/null)\" = killed ] && exec bash '{sh}' resume '{name}'",
            kmidi = std::process::id(),
            state = state.display(),
            sh = self.kafka_sh.display(),
            name = node.name
        ));
        Ok(what)
    }

    fn start(&self, broker: i32) -> Result<String, FaultError> {
        let node = self.node(broker)?;
        self.script(&["resume", &node.name])?;
        self.hold(broker, None);
        Ok(format!("started {} again", self.name(broker)))
    }

    fn pause(&self, broker: i32, hold: Duration) -> Result<String, FaultError> {
        let node = self.node(broker)?;
        let pid = node.pid().ok_or_else(|| FaultError::Command {
            what: format!("pausing node {}", node.name),
            why: "it has no pid file (not running?)".into(),
        })?;
        self.hold(broker, Some(Held::Paused(pid)));
        Self::signal(pid, "STOP")?;
        // Bounded like Trogdor's: SIGCONT a little after the pause should have ended,
        // whatever became of kmidi.
        Self::watchdog(&format!(
            "sleep {}; kill -CONT {pid}",
            (hold + Duration::from_secs(5)).as_secs()
        ));
        Ok(format!("SIGSTOP {}", self.name(broker)))
    }

    fn unpause(&self, broker: i32) -> Result<String, FaultError> {
        let node = self.node(broker)?;
        let pid = match self.held.lock().ok().and_then(|h| h.get(&broker).copied()) {
            Some(Held::Paused(pid)) => pid,
            _ => node.pid().unwrap_or_default(),
        };
        Self::signal(pid, "CONT")?;
        self.hold(broker, None);
        Ok(format!("SIGCONT {}", self.name(broker)))
    }

    fn restart(&self, broker: i32) -> Result<String, FaultError> {
        let node = self.node(broker)?;
        let before = self.name(broker);
        self.hold(broker, Some(Held::Killed));
        self.script(&["restart", &node.name])?;
        self.hold(broker, None);
        Ok(format!("restarted {before}: now {}", self.name(broker)))
    }

    fn release_all(&self) -> Vec<String> {
        let held: Vec<(i32, Held)> = match self.held.lock() {
            Ok(h) => h.iter().map(|(k, v)| (*k, *v)).collect(),
            Err(_) => Vec::new(),
        };
        held.into_iter()
            .map(|(broker, h)| {
                let done = match h {
                    Held::Paused(_) => self.unpause(broker),
                    Held::Killed => self.start(broker),
                };
                match done {
                    Ok(what) => format!("at exit: {what}"),
                    Err(e) => format!("at exit, broker {broker}: {e}"),
                }
            })
            .collect()
    }
}

impl Drop for ScriptCluster {
    fn drop(&mut self) {
        for line in self.release_all() {
            eprintln!("kmidi: faults: {line}");
        }
    }
}

#[cfg(test)]
mod tests;
