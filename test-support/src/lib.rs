//! Real Apache Kafka brokers for the workspace's integration tests, started by the
//! project's `scripts/kafka.sh` (never a mock), one per test binary and version, and
//! stopped by a watchdog process once the test process is gone: statics are never
//! dropped, so nothing in-process could stop them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use kmidi_transport::ClientConfig;

/// The workspace root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support lives inside the workspace")
        .to_path_buf()
}

/// Runs `scripts/kafka.sh ARGS`, its stderr shown, its stdout returned.
pub fn kafka_sh(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(repo().join("scripts/kafka.sh"))
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("bash runs scripts/kafka.sh")
}

/// Stops broker `name` once this process has exited, however it ends.
pub fn stop_when_this_process_exits(name: &str) {
    kafka_sh_when_this_process_exits(&["stop", name]);
}

/// Runs `scripts/kafka.sh ARGS` once this process has exited (e.g. `stop-cluster`).
/// The watchdog must outlive this process, so nobody waits for it.
pub fn kafka_sh_when_this_process_exits(args: &[&str]) {
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; bash {script} {args} >/dev/null 2>&1",
        pid = std::process::id(),
        script = repo().join("scripts/kafka.sh").display(),
        args = args.join(" "),
    );
    #[allow(clippy::zombie_processes)]
    Command::new("bash")
        .args(["-c", &watchdog])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the broker watchdog starts");
}

/// One single-node KRaft broker on 127.0.0.1.
pub struct Broker {
    pub version: String,
    pub port: String,
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
        let port = String::from_utf8_lossy(&kafka_sh(&["free-port"]).stdout)
            .trim()
            .to_string();
        let name = format!("test-{version}-{port}");
        // The watchdog first, so an interrupted start is cleaned up too.
        stop_when_this_process_exits(&name);
        let mut broker = Broker {
            version: version.to_string(),
            port,
            name,
            bootstrap: String::new(),
        };
        broker.bootstrap = broker.launch();
        broker
    }

    fn launch(&self) -> String {
        let out = kafka_sh(&["start", &self.version, &self.port, &self.name]);
        assert!(
            out.status.success(),
            "scripts/kafka.sh start {} {} failed:\n{}",
            self.version,
            self.port,
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// Stops the broker and starts a fresh one (empty storage) on the same port.
    pub fn restart_fresh(&self) {
        let out = kafka_sh(&["stop", &self.name]);
        assert!(out.status.success(), "stop {} failed", self.name);
        assert_eq!(self.launch(), self.bootstrap);
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

    /// Creates a topic with Kafka's own tool, independent of any kmidi transport.
    pub fn create_topic_with_tool(&self, topic: &str, partitions: u32) {
        let out = kafka_sh(&[
            "run-tool",
            &self.version,
            "topics",
            "--bootstrap-server",
            &self.bootstrap,
            "--create",
            "--topic",
            topic,
            "--partitions",
            &partitions.to_string(),
            "--replication-factor",
            "1",
        ]);
        assert!(
            out.status.success(),
            "creating {topic} failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    /// Client properties that reach this broker.
    pub fn config(&self) -> ClientConfig {
        [("bootstrap.servers", self.bootstrap.as_str())]
            .into_iter()
            .collect()
    }
}
