//! The SASL password never shows: not in stdout, stderr or the `--report` JSON of
//! `topic create`, `player` and `instrument`, with debug logging (and librdkafka's own
//! `debug=all`), whether the password is right, wrong or the broker unreachable, given
//! through `--config` or `-X`; and not in `--help`.

mod common;
mod secure_broker;

use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;

use common::{kmidi, repo, run};
use secure_broker::{SecureBroker, PASSWORD};

fn broker() -> &'static SecureBroker {
    static B: OnceLock<SecureBroker> = OnceLock::new();
    B.get_or_init(|| SecureBroker::start(&kmidi_test_support::kafka_version("4")))
}

/// The wrong password contains the right one, so one search finds both.
fn wrong_password() -> String {
    format!("wr0ng-{PASSWORD}")
}

fn plugin(name: &str) -> String {
    let exe = Path::new(env!("CARGO_BIN_EXE_kmidi"));
    let cargo_built = exe.with_file_name(format!("libkmidi_{}.so", name.replace('-', "_")));
    if cargo_built.exists() {
        return cargo_built.display().to_string();
    }
    repo()
        .join(format!(
            "target/plugins/libkmidi_{}.so",
            name.replace('-', "_")
        ))
        .display()
        .to_string()
}

fn assert_no_secret(what: &str, out: &Output, report: Option<&Path>) {
    let mut seen = String::from_utf8_lossy(&out.stdout).into_owned();
    seen.push_str(&String::from_utf8_lossy(&out.stderr));
    if let Some(path) = report.filter(|p| p.exists()) {
        seen.push_str(&std::fs::read_to_string(path).expect("report is text"));
    }
    assert!(
        !seen.is_empty(),
        "{what}: produced no output at all to search"
    );
    assert!(
        !seen.contains(PASSWORD),
        "{what}: the password leaked:\n{seen}"
    );
}

/// Every command, every way of passing the password, every outcome.
fn sweep(transport: &str, extra: &[&str]) {
    let broker = broker();
    let dir = tempfile::tempdir().unwrap();
    // One topic per sweep: the sweeps run at once on one broker.
    let label = Path::new(transport)
        .file_stem()
        .map_or(transport.to_string(), |s| s.to_string_lossy().into_owned());
    let topic = format!("secrets-{label}-{}", std::process::id());
    let wrong = wrong_password();
    let x_wrong = format!("sasl.password={wrong}");
    let x_right = format!("sasl.password={PASSWORD}");
    let good_file = broker.config();
    let bad_file = broker.config_with_password(&wrong);
    if transport != "rdkafka" {
        // Not every transport can create topics (rskafka cannot set their configs): the
        // sweep below still runs its `topic create`, for what it prints.
        broker.create_topic(&topic);
    }
    // (label, bootstrap, --config file, -X password)
    let cases: Vec<(&str, &str, &Path, Option<&str>)> = vec![
        (
            "right password in file",
            &broker.secure,
            good_file.as_path(),
            None,
        ),
        (
            "right password via -X",
            &broker.secure,
            bad_file.as_path(),
            Some(&x_right),
        ),
        (
            "wrong password in file",
            &broker.secure,
            bad_file.as_path(),
            None,
        ),
        (
            "wrong password via -X",
            &broker.secure,
            good_file.as_path(),
            Some(&x_wrong),
        ),
        (
            "unreachable broker",
            "127.0.0.1:1",
            good_file.as_path(),
            None,
        ),
    ];
    for (label, bootstrap, config, x) in cases {
        let report = dir.path().join("report.json");
        let common_args = |c: &mut std::process::Command| {
            c.args([
                "-v",
                "-b",
                bootstrap,
                "-t",
                &topic,
                "--transport",
                transport,
            ])
            .args(["--connect-timeout", "3", "--config"])
            .arg(config)
            .args(extra)
            // As much log as there is to search (the harness's default is warn).
            .env("RUST_LOG", "debug");
            if let Some(x) = x {
                c.args(["-X", x]);
            }
        };
        let mut create = kmidi();
        create.args(["topic", "create", "--retention-ms", "600000"]);
        common_args(&mut create);
        assert_no_secret(
            &format!("{transport} topic create, {label}"),
            &run(&mut create),
            None,
        );

        let mut player = kmidi();
        player.args(["player", "-q", "-s", "0.05", "-m", "songs/ode_to_joy.mid"]);
        common_args(&mut player);
        assert_no_secret(
            &format!("{transport} player, {label}"),
            &run(&mut player),
            None,
        );

        let mut instrument = kmidi();
        instrument
            .args([
                "instrument",
                "-q",
                "--no-port",
                "--from",
                "earliest",
                "--max-messages",
                "3",
            ])
            .args(["--idle-exit", "2", "-g", &format!("g-{topic}"), "--report"])
            .arg(&report)
            .arg("--record")
            .arg(dir.path().join("heard.mid"));
        common_args(&mut instrument);
        let out = run(&mut instrument);
        assert_no_secret(
            &format!("{transport} instrument, {label}"),
            &out,
            Some(&report),
        );
        if label.starts_with("right") {
            assert!(
                out.status.success(),
                "{transport} instrument, {label}: the sweep must reach the success path"
            );
            if extra.contains(&"debug=all") {
                assert!(
                    String::from_utf8_lossy(&out.stderr).contains("DEBUG librdkafka"),
                    "{transport}: librdkafka's debug log was searched, so it must be shown"
                );
            }
            assert!(
                report.exists(),
                "{transport}: the report was written and searched"
            );
        }
        let _ = std::fs::remove_file(&report);
    }
}

#[test]
fn password_never_shows_with_rdkafka_even_with_librdkafka_debug_all() {
    sweep("rdkafka", &["-X", "debug=all"]);
}

#[test]
fn password_never_shows_with_the_rskafka_plugin() {
    sweep(&plugin("rskafka"), &[]);
}

#[test]
fn password_never_shows_in_help_even_when_it_is_in_the_environment() {
    for cmd in [
        &["--help"][..],
        &["player", "--help"],
        &["instrument", "--help"],
        &["topic", "create", "--help"],
        &["compare", "--help"],
    ] {
        let out = run(kmidi()
            .args(cmd)
            .env("KMIDI_SASL_PASSWORD", PASSWORD)
            .env("SASL_PASSWORD", PASSWORD)
            .env("KAFKA_SASL_PASSWORD", PASSWORD));
        assert!(out.status.success(), "{cmd:?}");
        assert_no_secret(&format!("{cmd:?}"), &out, None);
        if cmd.len() > 1 {
            let help = String::from_utf8_lossy(&out.stdout);
            assert!(
                help.contains("--config <FILE>"),
                "{cmd:?} offers --config: {help}"
            );
        }
    }
}
