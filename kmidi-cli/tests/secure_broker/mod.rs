//! A real Kafka broker with a SASL_SSL (SCRAM-SHA-256 over TLS) listener, started by
//! `scripts/kafka/secure.sh` once per test binary, for `secure.rs` and `secrets.rs`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::common::repo;

/// The distinctive password the tests give the broker and search every output for.
pub const PASSWORD: &str = "s3cr3t-kmidi-XYZ";

pub struct SecureBroker {
    /// The PLAINTEXT listener (inter-broker; also handy to check what arrived).
    pub plain: String,
    /// The SASL_SSL listener clients are tested on.
    pub secure: String,
    /// Holds ca.pem and client.properties (mode 600), deleted with the test process.
    pub dir: tempfile::TempDir,
}

impl SecureBroker {
    pub fn start(version: &str) -> SecureBroker {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let script = repo().join("scripts/kafka/secure.sh");
        let out = Command::new("bash")
            .arg(&script)
            .args(["start", version])
            .arg(dir.path())
            .env("KMIDI_SASL_USER", "alice")
            .env("KMIDI_SASL_PASSWORD", PASSWORD)
            .stderr(Stdio::inherit())
            .output()
            .expect("bash runs scripts/kafka/secure.sh");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "secure.sh start {version} failed: {stdout}"
        );
        let last = stdout.lines().last().unwrap_or_default().to_string();
        let [plain, secure, name] = last.split_whitespace().collect::<Vec<_>>()[..] else {
            panic!("secure.sh printed {last:?}, not PLAIN SECURE NAME");
        };
        kmidi_test_support::stop_when_this_process_exits(name);
        SecureBroker {
            plain: plain.to_string(),
            secure: secure.to_string(),
            dir,
        }
    }

    /// The client config file secure.sh wrote: SASL_SSL, SCRAM-SHA-256, alice, the CA.
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("client.properties")
    }

    /// Creates `topic` through the SASL_SSL listener with the built-in rdkafka admin
    /// (every transport's tests can then use it; not every transport creates topics).
    pub fn create_topic(&self, topic: &str) {
        let out = Command::new(env!("CARGO_BIN_EXE_kmidi"))
            .current_dir(repo())
            .args(["topic", "create", "-b", &self.secure, "-t", topic])
            .args(["--retention-ms", "600000", "--config"])
            .arg(self.config())
            .output()
            .expect("kmidi runs");
        assert!(
            out.status.success(),
            "topic create over SASL_SSL: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A copy of the config file with `password` instead of the right one.
    pub fn config_with_password(&self, password: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let text = std::fs::read_to_string(self.config()).expect("client.properties");
        let path = self
            .dir
            .path()
            .join(format!("wrong-{}.properties", password.len()));
        std::fs::write(&path, text.replace(PASSWORD, password)).expect("write config");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        path
    }
}
