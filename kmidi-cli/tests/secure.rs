//! kmidi through a real Kafka SASL_SSL listener (SCRAM-SHA-256 over TLS with a CA the
//! test generates), configured with `--config FILE`: every note arrives in order, a
//! wrong password is a clear error in bounded time, kafka-rust refuses SASL, and the
//! file's own rules (precedence, permissions, bad lines) hold.

mod common;
mod secure_broker;

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{kmidi, recorded_bytes, repo, run, score_bytes, stderr, wait_bounded};
use secure_broker::SecureBroker;

fn kafka_4() -> &'static SecureBroker {
    static B: OnceLock<SecureBroker> = OnceLock::new();
    B.get_or_init(|| SecureBroker::start(&kmidi_test_support::kafka_version("4")))
}

fn kafka_3_9() -> &'static SecureBroker {
    static B: OnceLock<SecureBroker> = OnceLock::new();
    B.get_or_init(|| SecureBroker::start(&kmidi_test_support::kafka_version("3")))
}

fn topic(what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn plugin(name: &str) -> String {
    let exe = Path::new(env!("CARGO_BIN_EXE_kmidi"));
    let cargo_built = exe.with_file_name(format!("libkmidi_{}.so", name.replace('-', "_")));
    if cargo_built.exists() {
        return cargo_built.display().to_string();
    }
    let file = repo().join(format!(
        "target/plugins/libkmidi_{}.so",
        name.replace('-', "_")
    ));
    if !file.exists() {
        let status = std::process::Command::new("bash")
            .arg(repo().join(format!("transports/{name}/build.sh")))
            .arg(repo().join("target/plugins"))
            .status()
            .expect("bash runs the plugin's build script");
        assert!(status.success(), "building the {name} plugin failed");
    }
    file.display().to_string()
}

/// `topic create`, `instrument --record` and `player` all on the SASL_SSL listener
/// through `--config`; returns (player output, instrument output, recording, song).
fn round_trip(
    broker: &SecureBroker,
    transport: &str,
) -> (
    std::process::Output,
    std::process::Output,
    Vec<Vec<u8>>,
    Vec<Vec<u8>>,
) {
    let config = broker.config();
    let topic = topic("sasl");
    broker.create_topic(&topic);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("heard.mid");
    let song = repo().join("songs/ode_to_joy.mid");
    let instrument = kmidi()
        .args([
            "instrument",
            "-q",
            "-b",
            &broker.secure,
            "-t",
            &topic,
            "--transport",
            transport,
        ])
        .args([
            "-g",
            &format!("g-{topic}"),
            "--from",
            "earliest",
            "--no-port",
            "--idle-exit",
            "5",
        ])
        .arg("--config")
        .arg(&config)
        .arg("--record")
        .arg(&record)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kmidi instrument starts");
    let player = run(kmidi()
        .args([
            "player",
            "-q",
            "-b",
            &broker.secure,
            "-t",
            &topic,
            "--transport",
            transport,
        ])
        .args(["-s", "0.2", "--config"])
        .arg(&config)
        .arg("-m")
        .arg(&song));
    let heard = wait_bounded(instrument, Duration::from_secs(120));
    let recorded = if record.exists() {
        recorded_bytes(&record)
    } else {
        Vec::new()
    };
    (player, heard, recorded, score_bytes(&song))
}

fn assert_plays(broker: &SecureBroker, transport: &str) {
    let (player, heard, recorded, score) = round_trip(broker, transport);
    assert!(
        player.status.success(),
        "{transport} player: {}",
        stderr(&player)
    );
    assert!(
        heard.status.success(),
        "{transport} instrument: {}",
        stderr(&heard)
    );
    assert!(
        !stderr(&player).contains("chmod 600"),
        "a mode-600 file draws no warning"
    );
    assert_eq!(
        recorded, score,
        "{transport}: every note over SASL_SSL, in order"
    );
}

#[test]
fn rdkafka_plays_every_note_in_order_over_sasl_ssl_on_kafka_4() {
    assert_plays(kafka_4(), "rdkafka");
}

#[test]
fn rskafka_plugin_plays_every_note_in_order_over_sasl_ssl_on_kafka_4() {
    assert_plays(kafka_4(), &plugin("rskafka"));
}

#[test]
fn rdkafka_plays_every_note_in_order_over_sasl_ssl_on_kafka_3_9() {
    assert_plays(kafka_3_9(), "rdkafka");
}

#[test]
fn c_rdkafka_plugin_plays_every_note_in_order_over_sasl_ssl_on_kafka_3_9() {
    assert_plays(kafka_3_9(), &plugin("c-rdkafka"));
}

/// librdkafka before 2.6.1 sends a SCRAM nonce Kafka 4.x rejects (librdkafka#4895).
#[test]
fn c_rdkafka_plugin_plays_over_sasl_ssl_on_kafka_4() {
    // The plugin links the librdkafka rdkafka-sys bundles (2.12.1), past the 2.6.1 fix
    // without which 2.0.2 could not authenticate here.
    let (player, _heard, recorded, score) = round_trip(kafka_4(), &plugin("c-rdkafka"));
    assert!(player.status.success(), "{}", stderr(&player));
    assert_eq!(recorded, score, "c-rdkafka over SASL_SSL");
}

#[test]
fn wrong_password_is_a_clear_error_within_the_connect_timeout() {
    let broker = kafka_4();
    let bad = broker.config_with_password("not-the-password");
    for transport in ["rdkafka".to_string(), plugin("rskafka")] {
        let started = Instant::now();
        let out = run(kmidi()
            .args([
                "player",
                "-q",
                "-b",
                &broker.secure,
                "-t",
                "any",
                "--transport",
                &transport,
            ])
            .args([
                "--connect-timeout",
                "4",
                "-m",
                "songs/ode_to_joy.mid",
                "--config",
            ])
            .arg(&bad));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{transport}: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{transport}: no hang"
        );
        assert!(
            err.contains("SASL_SSL")
                && err.contains("sasl.username (alice)")
                && err.contains("sasl.password (not shown)"),
            "{transport}: the error says which credentials to check: {err}"
        );
        assert!(!err.contains("not-the-password"), "{err}");
    }
}

#[test]
fn kafka_rust_refuses_sasl_clearly_before_connecting() {
    let broker = kafka_4();
    let started = Instant::now();
    let out = run(kmidi()
        .args([
            "player",
            "-q",
            "-b",
            &broker.secure,
            "-t",
            "any",
            "--transport",
            "kafka-rust",
        ])
        .args(["-m", "songs/ode_to_joy.mid", "--config"])
        .arg(broker.config()));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("kafka-rust has no SASL support; use --transport rdkafka"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused before any network wait"
    );
}

#[test]
fn command_line_x_overrides_the_config_file_end_to_end() {
    let broker = kafka_4();
    let bad = broker.config_with_password("not-the-password");
    let create = |config: &Path, extra: &[&str], topic: &str| {
        run(kmidi()
            .args([
                "topic",
                "create",
                "-b",
                &broker.secure,
                "-t",
                topic,
                "--connect-timeout",
                "4",
            ])
            .arg("--config")
            .arg(config)
            .args(extra))
    };
    let fixed = format!("sasl.password={}", secure_broker::PASSWORD);
    let out = create(&bad, &["-X", &fixed], &topic("override-ok"));
    assert!(
        out.status.success(),
        "-X fixes a wrong file password: {}",
        stderr(&out)
    );
    let out = create(
        &broker.config(),
        &["-X", "sasl.password=not-the-password"],
        &topic("override-bad"),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "-X breaks a right file password: {}",
        stderr(&out)
    );
}

#[test]
fn a_config_file_others_can_read_draws_a_chmod_600_warning() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("loose.properties");
    std::fs::write(&file, "# nothing secret\nclient.id=kmidi-test\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(kmidi()
        .args([
            "topic",
            "create",
            "-b",
            "127.0.0.1:1",
            "--connect-timeout",
            "1",
            "--config",
        ])
        .arg(&file));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("warning: {}", file.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!("chmod 600 {}", file.display())),
        "{err}"
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(kmidi()
        .args([
            "topic",
            "create",
            "-b",
            "127.0.0.1:1",
            "--connect-timeout",
            "1",
            "--config",
        ])
        .arg(&file));
    assert!(!stderr(&out).contains("warning:"), "{}", stderr(&out));
}

#[test]
fn a_bad_config_line_is_an_error_naming_file_and_line() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.properties");
    std::fs::write(
        &file,
        "# comment\n\nsecurity.protocol=SASL_SSL\nsasl.password hunter2\n",
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    for cmd in [
        &["topic", "create"][..],
        &["player", "-m", "songs/ode_to_joy.mid"],
        &["instrument", "--no-port"],
    ] {
        let out = run(kmidi()
            .args(cmd)
            .args(["-b", "127.0.0.1:1", "--config"])
            .arg(&file));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{cmd:?}: {err}");
        assert!(
            err.contains(&format!("{}:4: expected key=value", file.display())),
            "{cmd:?}: {err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
    }
}
