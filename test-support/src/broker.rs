//! One single-node KRaft broker (`scripts/kafka.sh start`): shared by a test binary or
//! a test's own, its topics, its client config, and the faults it can be put through.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use kmidi_transport::ClientConfig;

use crate::script::{free_port, kafka_sh_ok, kafka_sh_ok_with, stop_when_this_process_exits};
use crate::tool;

/// One single-node KRaft broker on 127.0.0.1.
pub struct Broker {
    pub version: String,
    pub port: String,
    /// Its name for `scripts/kafka.sh` (`test-VERSION-PORT`).
    pub name: String,
    pub bootstrap: String,
}

impl Broker {
    /// This test binary's broker of `version`, started on first use.
    pub fn shared(version: &str) -> &'static Broker {
        static BROKERS: OnceLock<Mutex<HashMap<String, &'static Broker>>> = OnceLock::new();
        let mut map = BROKERS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.entry(version.to_string())
            .or_insert_with(|| Box::leak(Box::new(Broker::start(version))))
    }

    /// A broker of its own, stopped when the test process exits.
    pub fn start(version: &str) -> Broker {
        Self::start_with(version, &[])
    }

    /// As [`Broker::start`], with extra `server.properties` lines.
    pub fn start_with(version: &str, properties: &[&str]) -> Broker {
        let port = free_port().to_string();
        let name = format!("test-{version}-{port}");
        // The watchdog first, so an interrupted start is cleaned up too.
        stop_when_this_process_exits(&name);
        let props = properties.join("\n");
        let bootstrap = kafka_sh_ok_with(
            &["start", version, &port, &name],
            &[("KMIDI_KAFKA_PROPS", &props)],
        );
        Broker {
            version: version.to_string(),
            port,
            name,
            bootstrap,
        }
    }

    /// SIGTERM: a clean shutdown that keeps the broker's data, port and config, for
    /// [`Broker::resume`]. Clients see it gone until then.
    pub fn halt(&self) {
        kafka_sh_ok(&["halt", &self.name]);
    }

    /// SIGKILL: a crash; keeps the data like [`Broker::halt`].
    pub fn kill(&self) {
        kafka_sh_ok(&["kill", &self.name]);
    }

    /// Starts a halted or killed broker again as the same node with the same data;
    /// returns once it accepts clients.
    pub fn resume(&self) {
        assert_eq!(kafka_sh_ok(&["resume", &self.name]), self.bootstrap);
    }

    /// [`Broker::halt`], then [`Broker::resume`]: what a rolling restart looks like.
    pub fn restart(&self) {
        assert_eq!(kafka_sh_ok(&["restart", &self.name]), self.bootstrap);
    }

    /// Stops the broker and starts a fresh one (empty storage) on the same port.
    pub fn restart_fresh(&self) {
        self.stop();
        let bootstrap = kafka_sh_ok(&["start", &self.version, &self.port, &self.name]);
        assert_eq!(bootstrap, self.bootstrap);
    }

    /// Stops the broker and deletes its data (the watchdog would, at exit).
    pub fn stop(&self) {
        kafka_sh_ok(&["stop", &self.name]);
    }

    /// A topic or group name no other test uses.
    pub fn unique(&self, what: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        format!(
            "{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Runs Kafka tool `tool` (an alias of `scripts/kafka.sh tools`) of this broker's
    /// version against it (`--bootstrap-server` comes first); returns its stdout.
    pub fn run_tool(&self, tool: &str, args: &[&str]) -> String {
        tool::run_tool(&self.version, tool, &self.with_bootstrap(args))
    }

    /// [`Broker::run_tool`] with `input` on the tool's stdin (e.g. `console-producer`).
    pub fn run_tool_with_input(&self, tool: &str, args: &[&str], input: &str) -> String {
        tool::run_tool_with_input(&self.version, tool, &self.with_bootstrap(args), input)
    }

    fn with_bootstrap<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        [&["--bootstrap-server", self.bootstrap.as_str()][..], args].concat()
    }

    /// Creates a topic with Kafka's own tool, independent of any kmidi transport.
    pub fn create_topic_with_tool(&self, topic: &str, partitions: u32) {
        self.run_tool(
            "topics",
            &[
                "--create",
                "--topic",
                topic,
                "--partitions",
                &partitions.to_string(),
                "--replication-factor",
                "1",
            ],
        );
    }

    /// Client properties that reach this broker.
    pub fn config(&self) -> ClientConfig {
        [("bootstrap.servers", self.bootstrap.as_str())]
            .into_iter()
            .collect()
    }
}
