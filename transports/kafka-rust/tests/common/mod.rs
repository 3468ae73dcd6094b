//! Shared harness for kafka-rust's integration tests: real Apache Kafka brokers started
//! by the project's `scripts/kafka.sh`, one per test binary and version, stopped by a
//! watchdog process when the test process exits (statics are never dropped).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use kmidi_transport::{ClientConfig, Consumer, Record};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn script(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(repo().join("scripts/kafka.sh"))
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("bash runs scripts/kafka.sh")
}

pub struct Broker {
    pub version: String,
    pub port: String,
    pub name: String,
    pub bootstrap: String,
}

impl Broker {
    /// The broker of `version` for this test binary, started on first use.
    pub fn shared(version: &str) -> &'static Broker {
        static BROKERS: OnceLock<Mutex<HashMap<String, &'static Broker>>> = OnceLock::new();
        let mut map = BROKERS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.entry(version.to_string())
            .or_insert_with(|| Box::leak(Box::new(Broker::start(version))))
    }

    fn start(version: &str) -> Broker {
        let port = String::from_utf8_lossy(&script(&["free-port"]).stdout)
            .trim()
            .to_string();
        let name = format!("test-kr-{version}-{port}");
        let broker = Broker {
            version: version.to_string(),
            bootstrap: String::new(),
            port,
            name,
        };
        let bootstrap = broker.launch();
        // Stop the broker when this test process is gone, however it ends; the
        // watchdog must outlive this process, so nobody waits for it.
        let watchdog = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; bash {script} stop {name} >/dev/null 2>&1",
            pid = std::process::id(),
            script = repo().join("scripts/kafka.sh").display(),
            name = broker.name,
        );
        #[allow(clippy::zombie_processes)]
        Command::new("bash")
            .args(["-c", &watchdog])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the broker watchdog starts");
        Broker {
            bootstrap,
            ..broker
        }
    }

    fn launch(&self) -> String {
        let out = script(&["start", &self.version, &self.port, &self.name]);
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
    pub fn restart(&self) {
        let out = script(&["stop", &self.name]);
        assert!(out.status.success(), "stop {} failed", self.name);
        let bootstrap = self.launch();
        assert_eq!(bootstrap, self.bootstrap);
    }

    pub fn unique(&self, what: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        format!(
            "{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }

    pub fn create_topic(&self, topic: &str, partitions: u32) {
        let out = script(&[
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

    pub fn config(&self) -> ClientConfig {
        [("bootstrap.servers", self.bootstrap.as_str())]
            .into_iter()
            .collect()
    }
}

/// Polls until `n` records arrived or `limit` passed.
pub fn poll_n(consumer: &mut dyn Consumer, n: usize, limit: Duration) -> Vec<Record> {
    let started = Instant::now();
    let mut got = Vec::new();
    while got.len() < n && started.elapsed() < limit {
        match consumer.poll(Duration::from_millis(200)) {
            Ok(Some(r)) => got.push(r),
            Ok(None) => {}
            Err(e) => eprintln!("poll: {e}"),
        }
    }
    got
}
