//! confluent-kafka through a real Kafka 4 SASL_SSL listener with SASL PLAIN (its only
//! mechanism) and a PEM CA, configured with librdkafka's keys as kmidi users write
//! them: records round-trip through a group; a wrong password is a clear error in
//! bounded time that never shows the password; SCRAM is refused before connecting.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kmidi_confluent::ConfluentTransport;
use kmidi_test_support::{free_port, kafka_version, repo, stop_when_this_process_exits};
use kmidi_transport::{ClientConfig, TopicSpec, Transport};

const PASSWORD: &str = "pl41n-kmidi-XYZ";
const T: Duration = Duration::from_secs(30);

struct Secure {
    bootstrap: String,
    ca: String,
    _dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(ok.success(), "openssl {args:?}");
}

/// A throw-away CA and a broker certificate for 127.0.0.1 (unencrypted PKCS#8 keys,
/// which the broker's PEM keystore reads without a password).
fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=kmidi test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "broker.key",
            "-out",
            "broker.csr",
        ],
    );
    std::fs::write(
        dir.join("broker.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         extendedKeyUsage=serverAuth\n",
    )
    .expect("broker.ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            "broker.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-extfile",
            "broker.ext",
            "-out",
            "broker.pem",
        ],
    );
    let key = std::fs::read_to_string(dir.join("broker.key")).expect("broker.key");
    let cert = std::fs::read_to_string(dir.join("broker.pem")).expect("broker.pem");
    std::fs::write(dir.join("keystore.pem"), key + &cert).expect("keystore.pem");
}

/// One Kafka 4 broker with a SASL_SSL (PLAIN) listener beside its PLAINTEXT one.
fn secure() -> &'static Secure {
    static S: OnceLock<Secure> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        certificates(dir.path());
        let (port, sport) = (free_port().to_string(), free_port().to_string());
        let name = format!("confluent-plain-{port}");
        stop_when_this_process_exits(&name);
        let keystore = dir.path().join("keystore.pem");
        let props = format!(
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL\n\
             sasl.enabled.mechanisms=PLAIN\n\
             listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice=\"{PASSWORD}\";\n\
             ssl.keystore.type=PEM\nssl.keystore.location={}",
            keystore.display()
        );
        let out = Command::new("bash")
            .arg(repo().join("scripts/kafka.sh"))
            .args(["start", &kafka_version("4"), &port, &name])
            .env("KMIDI_KAFKA_EXTRA_LISTENERS", format!("SASL_SSL://127.0.0.1:{sport}"))
            .env("KMIDI_KAFKA_PROPS", props)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .expect("bash runs scripts/kafka.sh");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        Secure {
            bootstrap: format!("127.0.0.1:{sport}"),
            ca: dir.path().join("ca.pem").display().to_string(),
            _dir: dir,
        }
    })
}

/// What a kmidi user puts in `--config` for this listener: librdkafka's keys.
fn config(s: &Secure, password: &str) -> ClientConfig {
    [
        ("bootstrap.servers", s.bootstrap.as_str()),
        ("security.protocol", "SASL_SSL"),
        ("sasl.mechanisms", "PLAIN"),
        ("sasl.username", "alice"),
        ("sasl.password", password),
        ("ssl.ca.location", s.ca.as_str()),
    ]
    .into_iter()
    .collect()
}

#[test]
fn records_round_trip_over_sasl_plain_and_tls() {
    let s = secure();
    let config = config(s, PASSWORD);
    let topic = format!("plain-{}", std::process::id());
    let spec = TopicSpec {
        name: topic.clone(),
        partitions: 2,
        replication_factor: 1,
        configs: Vec::new(),
    };
    let admin = ConfluentTransport.admin(&config).expect("admin");
    admin
        .create_topic(&spec, T)
        .expect("create_topic over SASL_SSL");
    let mut c = ConfluentTransport
        .consumer(&config, &common::sub(&topic, "secure"))
        .expect("consumer over SASL_SSL");
    let mut p = ConfluentTransport.producer(&config).expect("producer");
    for i in 0..30u8 {
        p.send(&topic, b"song.mid", &[i]).expect("send");
    }
    p.flush(T).expect("flush");
    assert_eq!(p.stats().delivered, 30);
    let mut got = Vec::new();
    let deadline = Instant::now() + T;
    while got.len() < 30 && Instant::now() < deadline {
        if let Some(r) = c.poll(Duration::from_millis(200)).expect("poll") {
            got.push(r.value.unwrap_or_default()[0]);
        }
    }
    assert_eq!(got, (0..30).collect::<Vec<u8>>());
}

#[test]
fn a_wrong_password_is_a_clear_error_without_the_password() {
    let s = secure();
    let wrong = "wr0ng-kmidi-ABC";
    let started = Instant::now();
    let text = common::err_text(
        ConfluentTransport
            .admin(&config(s, wrong))
            .and_then(|a| a.topic_partitions("t", Duration::from_secs(5))),
    );
    eprintln!("{:?}: {text}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(text.to_lowercase().contains("authentication"), "{text}");
    assert!(!text.contains(wrong) && !text.contains(PASSWORD), "{text}");
}

#[test]
fn scram_is_refused_before_connecting() {
    let mut c = config(secure(), PASSWORD);
    c.set("sasl.mechanisms", "SCRAM-SHA-256");
    let text = common::err_text(ConfluentTransport.producer(&c));
    eprintln!("{text}");
    assert!(
        text.contains("sasl.mechanism") && text.contains("PLAIN"),
        "{text}"
    );
    assert!(!text.contains(PASSWORD), "{text}");
}
