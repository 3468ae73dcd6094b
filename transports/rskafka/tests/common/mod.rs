//! Shared harness: one real Apache Kafka broker per test binary, started lazily by the
//! project's `scripts/kafka.sh` and stopped by a watchdog process once the test process
//! is gone (statics are never dropped, so nothing in-process could stop it).
#![allow(dead_code)]

pub mod scenarios;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use kmidi_transport::ClientConfig;

pub struct Broker {
    pub version: String,
    pub bootstrap: String,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn script(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(repo().join("scripts/kafka.sh"))
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("bash runs scripts/kafka.sh")
}

impl Broker {
    /// This test binary's broker of `version`, started on first use.
    pub fn shared(version: &str) -> &'static Broker {
        static BROKER: OnceLock<Broker> = OnceLock::new();
        BROKER.get_or_init(|| Broker::start(version))
    }

    fn start(version: &str) -> Broker {
        let port = String::from_utf8_lossy(&script(&["free-port"]).stdout)
            .trim()
            .to_string();
        let name = format!("rskafka-test-{version}-{port}");
        // The watchdog first, so a failed or interrupted start is cleaned up too. It
        // must outlive this process, so nobody waits for it.
        let watchdog = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; bash {script} stop {name} >/dev/null 2>&1",
            pid = std::process::id(),
            script = repo().join("scripts/kafka.sh").display(),
        );
        #[allow(clippy::zombie_processes)]
        Command::new("bash")
            .args(["-c", &watchdog])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the broker watchdog starts");
        let out = script(&["start", version, &port, &name]);
        assert!(
            out.status.success(),
            "scripts/kafka.sh start {version} {port} failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let bootstrap = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        Broker {
            version: version.to_string(),
            bootstrap,
        }
    }

    pub fn config(&self) -> ClientConfig {
        [("bootstrap.servers", self.bootstrap.as_str())]
            .into_iter()
            .collect()
    }

    /// A topic name no other test uses.
    pub fn unique(&self, what: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        format!(
            "{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }
}

/// libkmidi_rskafka.so as built with this test's library.
pub fn plugin_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe path");
    // target/<profile>/deps/plugin-HASH -> target/<profile>/
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in target/<profile>/deps");
    let name = format!(
        "{}kmidi_rskafka{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    // Cargo refreshes deps/ for a test build but uplifts to target/<profile>/ only on
    // `cargo build`, so the newer of the two is the one built from this source.
    [
        profile_dir.join(&name),
        profile_dir.join("deps").join(&name),
    ]
    .into_iter()
    .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
    .max()
    .map(|(_, p)| p)
    .unwrap_or_else(|| panic!("{name} was not built next to {}", exe.display()))
}
