//! A Trogdor coordinator and its agents on 127.0.0.1 (`scripts/kafka.sh
//! trogdor-start`), from the Maven jars of a Kafka version: shared by a test binary or a
//! test's own, stopped when dropped or when the test process is gone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::script::{kafka_sh, kafka_sh_ok, kafka_sh_when_this_process_exits};

/// A Trogdor coordinator with `agents` agents, each node a JVM of its own.
pub struct Trogdor {
    pub version: String,
    /// Its name for `scripts/kafka.sh` (`trogdor-stop NAME`, `status`).
    pub name: String,
    /// The coordinator's REST API, `http://127.0.0.1:PORT`.
    pub url: String,
    pub agents: u32,
}

impl Trogdor {
    /// This test binary's coordinator (with one agent) for `version`, started on first
    /// use and stopped once the test process has exited.
    pub fn shared(version: &str) -> &'static Trogdor {
        static FLEETS: OnceLock<Mutex<HashMap<String, &'static Trogdor>>> = OnceLock::new();
        let mut map = FLEETS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.entry(version.to_string())
            .or_insert_with(|| Box::leak(Box::new(Trogdor::start(version, 1))))
    }

    /// A coordinator and `agents` (1-9) agents of its own; returns once every node's
    /// REST API answers.
    pub fn start(version: &str, agents: u32) -> Trogdor {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "test-trogdor-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        // The watchdog first, so an interrupted start is cleaned up too.
        kafka_sh_when_this_process_exits(&["trogdor-stop", &name]);
        let url = kafka_sh_ok(&["trogdor-start", version, &name, &agents.to_string()]);
        Trogdor {
            version: version.to_string(),
            name,
            url,
            agents,
        }
    }

    /// The agents' node names, as tasks name them (`agent-1` ...).
    pub fn agent_names(&self) -> Vec<String> {
        (1..=self.agents).map(|i| format!("agent-{i}")).collect()
    }
}

impl Drop for Trogdor {
    fn drop(&mut self) {
        // Not checked: a failing test is dropping it, and the watchdog stops it anyway.
        let _ = kafka_sh(&["trogdor-stop", &self.name]);
    }
}
