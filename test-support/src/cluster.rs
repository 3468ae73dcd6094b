//! A cluster of several combined broker+controller nodes (`scripts/kafka.sh
//! start-cluster`), stopped when dropped or when the test process is gone, and the
//! faults one node can be put through.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::script::{kafka_sh, kafka_sh_ok, kafka_sh_when_this_process_exits};

/// `nodes` KRaft nodes on 127.0.0.1 with node.id 1..=nodes, a static quorum of all of
/// them, replication factor min(nodes, 3) and failover in seconds.
pub struct Cluster {
    pub version: String,
    /// The nodes' names are `BASE-ID`.
    pub base: String,
    pub nodes: u32,
    /// Every node's address, comma-separated.
    pub bootstrap: String,
}

impl Cluster {
    /// Starts a cluster of its own; returns once every node accepts clients.
    pub fn start(version: &str, nodes: u32) -> Cluster {
        static N: AtomicU32 = AtomicU32::new(0);
        let base = format!(
            "test-cluster-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        // The watchdog first, so an interrupted start is cleaned up too.
        kafka_sh_when_this_process_exits(&["stop-cluster", &base]);
        let bootstrap = kafka_sh_ok(&["start-cluster", version, &nodes.to_string(), &base]);
        Cluster {
            version: version.to_string(),
            base,
            nodes,
            bootstrap,
        }
    }

    /// The name `scripts/kafka.sh` knows node `id` (its node.id) by.
    pub fn node(&self, id: u32) -> String {
        assert!(
            (1..=self.nodes).contains(&id),
            "node {id} of a {}-node cluster",
            self.nodes
        );
        format!("{}-{id}", self.base)
    }

    /// SIGTERM to node `id`, keeping its data for [`Cluster::resume`].
    pub fn halt(&self, id: u32) {
        kafka_sh_ok(&["halt", &self.node(id)]);
    }

    /// SIGKILL to node `id`: a crash; keeps its data like [`Cluster::halt`].
    pub fn kill(&self, id: u32) {
        kafka_sh_ok(&["kill", &self.node(id)]);
    }

    /// Starts node `id` again as the same node with the same data.
    pub fn resume(&self, id: u32) {
        kafka_sh_ok(&["resume", &self.node(id)]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Not checked: a failing test is dropping it, and the watchdog stops it anyway.
        let _ = kafka_sh(&["stop-cluster", &self.base]);
    }
}
