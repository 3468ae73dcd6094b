//! Transport plugins from the command line, without Kafka: `kmidi transports` lists a
//! plugin found with `--plugin-dir` (and warns about a broken one), and `--transport`
//! with a bad path or unknown name fails with a clear message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kmidi() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kmidi"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("RUST_LOG", "warn")
        .env_remove("KMIDI_PLUGIN_PATH");
    c
}

fn run(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().expect("kmidi runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("--- {cmd:?}\n{stdout}{stderr}");
    (out, stdout, stderr)
}

/// The testkit plugin, built by `cargo test --workspace` next to the kmidi binary; for
/// a `cargo test -p kmidi` run it is built here first.
fn testkit_so() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_kmidi"));
    let dir = bin.parent().expect("target dir").to_path_buf();
    let candidates = [
        dir.join("libkmidi_plugin_testkit.so"),
        dir.join("deps/libkmidi_plugin_testkit.so"),
    ];
    if let Some(found) = candidates.iter().find(|p| p.exists()) {
        return found.clone();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .args(["build", "-p", "kmidi-plugin-testkit"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the testkit plugin");
    candidates
        .into_iter()
        .find(|p| p.exists())
        .expect("libkmidi_plugin_testkit.so after building it")
}

/// A directory holding a copy of the testkit plugin and a text file named `.so`.
fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(testkit_so(), dir.path().join("libkmidi_testkit.so")).expect("copy plugin");
    std::fs::write(dir.path().join("broken.so"), "not a library\n").expect("write");
    dir
}

#[test]
fn transports_lists_a_plugin_from_plugin_dir_and_warns_about_a_broken_one() {
    let dir = plugin_dir();
    let (out, stdout, stderr) = run(kmidi()
        .arg("transports")
        .arg("--plugin-dir")
        .arg(dir.path()));
    assert!(out.status.success());
    let line = stdout
        .lines()
        .find(|l| l.starts_with("testkit"))
        .unwrap_or_else(|| panic!("no testkit line in:\n{stdout}"));
    assert!(line.contains("kmidi in-memory test transport"), "{line}");
    assert!(line.contains("timestamps"), "{line}");
    assert!(line.contains("libkmidi_testkit.so"), "{line}");
    assert!(stdout.contains("rdkafka"), "{stdout}");
    assert!(
        stderr.contains("warning:") && stderr.contains("broken.so"),
        "{stderr}"
    );
}

#[test]
fn transports_finds_plugins_through_kmidi_plugin_path() {
    let dir = plugin_dir();
    let (out, stdout, _) = run(kmidi()
        .arg("transports")
        .env("KMIDI_PLUGIN_PATH", dir.path()));
    assert!(out.status.success());
    assert!(stdout.lines().any(|l| l.starts_with("testkit")), "{stdout}");
}

#[test]
fn player_with_a_missing_plugin_path_says_which_file() {
    let (out, _, stderr) = run(kmidi().args([
        "player",
        "--transport",
        "/nonexistent.so",
        "-m",
        "songs/ode_to_joy.mid",
    ]));
    assert!(!out.status.success());
    assert!(
        stderr.contains("/nonexistent.so") && stderr.contains("no such file"),
        "{stderr}"
    );
}

#[test]
fn player_with_an_unknown_transport_lists_built_ins_and_plugins() {
    let dir = plugin_dir();
    let (out, _, stderr) = run(kmidi()
        .args([
            "player",
            "--transport",
            "nope",
            "-m",
            "songs/ode_to_joy.mid",
        ])
        .arg("--plugin-dir")
        .arg(dir.path()));
    assert!(!out.status.success());
    assert!(stderr.contains("unknown transport \"nope\""), "{stderr}");
    assert!(
        stderr.contains("rdkafka") && stderr.contains("testkit"),
        "{stderr}"
    );
}

#[test]
fn player_finds_a_plugin_by_name_in_plugin_dir() {
    // The in-memory plugin has no such topic: reaching that check proves the plugin was
    // loaded by name and its admin entry called.
    let dir = plugin_dir();
    let (out, _, stderr) = run(kmidi()
        .args([
            "player",
            "-q",
            "--transport",
            "testkit",
            "-t",
            "cli-missing",
        ])
        .args(["-m", "songs/ode_to_joy.mid", "--plugin-dir"])
        .arg(dir.path()));
    assert!(!out.status.success());
    assert!(
        stderr.contains("topic \"cli-missing\" does not exist"),
        "{stderr}"
    );
}
