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

/// The testkit plugin next to the kmidi binary, built (or found up to date) once per
/// test process: `cargo test -p kmidi` alone would not rebuild it.
fn testkit_so() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(build_testkit).clone()
}

fn build_testkit() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_kmidi"));
    let dir = bin.parent().expect("target dir").to_path_buf();
    let candidates = [
        dir.join("libkmidi_plugin_testkit.so"),
        dir.join("deps/libkmidi_plugin_testkit.so"),
    ];
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

/// Runs `kmidi ARGS` on the testkit plugin (`--transport PATH` for the single-sided
/// commands), bounded by the song's length, and returns its exit code and stderr.
fn on_testkit(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let so = testkit_so();
    let mut cmd = kmidi();
    cmd.args(args).current_dir(dir);
    if !args.contains(&"compare") {
        cmd.arg("--transport").arg(&so);
    }
    let started = std::time::Instant::now();
    let (out, _, stderr) = run(&mut cmd);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "a fatal error ends the command early"
    );
    (out.status.code(), stderr)
}

const SONG: [&str; 6] = ["-m", "ode_to_joy.mid", "-s", "0.1", "-q", "--no-port"];

fn demo(extra: &[&str], dir: &Path) -> (Option<i32>, String) {
    let out = dir.join("demo.mid");
    let args = [
        &["demo"][..],
        &SONG,
        &["--record", out.to_str().unwrap()],
        extra,
    ]
    .concat();
    on_testkit(&args, dir)
}

#[test]
fn demo_fails_naming_the_cause_when_the_plugin_poll_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = demo(&["-X", "testkit.mode=poll-error"], dir.path());
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("error: the consumer failed") && err.contains("poll failed on request"),
        "{err}"
    );
}

#[test]
fn demo_fails_when_produce_fails_after_five_records() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = demo(&["-X", "testkit.fail_after=5"], dir.path());
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("message(s) could not be handed to the client"),
        "{err}"
    );
}

#[test]
fn demo_fails_when_notes_are_not_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = demo(&["-X", "testkit.mode=undelivered"], dir.path());
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("error: 125 message(s) were not delivered"),
        "{err}"
    );
}

fn compare(extra: &[&str], dir: &Path) -> (Option<i32>, String) {
    let so = testkit_so();
    let so = so.to_str().unwrap();
    let out = dir.join("compare.mid");
    let sides = ["compare", "--a", so, "--b", so];
    let args = [
        &sides[..],
        &SONG,
        &["--record", out.to_str().unwrap()],
        extra,
    ]
    .concat();
    on_testkit(&args, dir)
}

#[test]
fn compare_fails_naming_the_side_whose_consumer_failed() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = compare(&["--xb", "testkit.mode=poll-error"], dir.path());
    assert_eq!(code, Some(1), "{err}");
    // Both sides on one library: the label says which settings are B's.
    assert!(
        err.contains("B (testkit testkit.mode=poll-error): the consumer failed"),
        "{err}"
    );
}

#[test]
fn compare_fails_naming_the_side_that_could_not_send() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = compare(&["--xa", "testkit.fail_after=5"], dir.path());
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("A (testkit testkit.fail_after=5): ")
            && err.contains("could not be handed to the client"),
        "{err}"
    );
    assert!(
        !err.contains("error: B (testkit)"),
        "side B was fine: {err}"
    );
}

/// A player or instrument in a process of its own: testkit says every topic exists.
const ANY_TOPIC: [&str; 4] = ["-X", "testkit.topics=any", "-t", "cli-fatal"];

#[test]
fn player_fails_when_produce_fails_or_notes_are_not_delivered() {
    for (mode, says) in [
        ("testkit.fail_after=5", "could not be handed to the client"),
        (
            "testkit.mode=undelivered",
            "125 message(s) were not delivered",
        ),
    ] {
        let song = ["-m", "songs/ode_to_joy.mid", "-s", "0.1", "-q"];
        let mut cmd = vec!["player"];
        cmd.extend(song);
        cmd.extend(ANY_TOPIC);
        cmd.extend(["-X", mode]);
        let (code, err) = on_testkit(
            &cmd,
            Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap(),
        );
        assert_eq!(code, Some(1), "{mode}: {err}");
        assert!(
            err.contains("error: ") && err.contains(says),
            "{mode}: {err}"
        );
    }
}

#[test]
fn instrument_fails_naming_the_cause_when_the_plugin_poll_fails() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let mut cmd = vec![
        "instrument",
        "--no-port",
        "-q",
        "--report",
        report.to_str().unwrap(),
    ];
    cmd.extend(ANY_TOPIC);
    cmd.extend(["-X", "testkit.mode=poll-error"]);
    let (code, err) = on_testkit(&cmd, dir.path());
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("the consumer failed and stopped listening") && err.contains("poll failed"),
        "{err}"
    );
    assert!(report.exists(), "the report is still written");
}

#[test]
fn a_group_the_transport_cannot_honour_is_a_warning_or_with_strict_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let report = report.to_str().unwrap();
    let mut cmd = vec!["instrument", "--no-port", "-q", "--report", report];
    cmd.extend(ANY_TOPIC);
    cmd.extend(["-X", "testkit.mode=poll-error", "-g", "mine"]);
    let (_, err) = on_testkit(&cmd, dir.path());
    assert_eq!(
        err.matches("has no consumer groups: -g mine is ignored")
            .count(),
        1,
        "said once: {err}"
    );
    cmd.push("--strict");
    let (code, err) = on_testkit(&cmd, dir.path());
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("error: ") && err.contains("-g mine is ignored"),
        "{err}"
    );
    assert!(
        !err.contains("poll failed"),
        "refused before listening: {err}"
    );
    cmd.retain(|a| !matches!(*a, "-g" | "mine" | "--strict"));
    let (_, err) = on_testkit(&cmd, dir.path());
    assert!(!err.contains("consumer groups"), "no -g, no warning: {err}");
}

#[test]
fn transports_check_prints_a_line_per_point_and_fails_a_broken_plugin() {
    let so = testkit_so();
    let (out, stdout, _) = run(kmidi().args(["transports", "--check"]).arg(&so));
    assert!(out.status.success(), "{stdout}");
    for point in [
        "table",
        "entries",
        "round trip",
        "NULL topic",
        "leaders",
        "free",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("pass") && l.contains(point)),
            "{point}: {stdout}"
        );
    }
    assert!(stdout.contains("conformance: all"), "{stdout}");
    let (out, stdout, _) = run(kmidi()
        .args(["transports", "--check"])
        .arg(&so)
        .args(["-X", "testkit.mode=poll-error"]));
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains("round trip")),
        "{stdout}"
    );
}

#[test]
fn transports_warns_about_a_plugin_missing_required_entries() {
    // kmidi-transport's table that leaves every entry NULL: it loads, but cannot play.
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let so = dir.path().join("libkmidi_minimal.so");
    let built = Command::new("cc")
        .args(["-shared", "-fPIC", "-std=c11", "-DMINIMAL", "-I"])
        .arg(repo.join("kmidi-transport/include"))
        .arg(repo.join("kmidi-transport/tests/c/bad_tables.c"))
        .arg("-o")
        .arg(&so)
        .status()
        .expect("cc runs");
    assert!(built.success());
    let (out, stdout, stderr) = run(kmidi().args(["transports", "--plugin-dir"]).arg(dir.path()));
    assert!(out.status.success());
    assert!(stdout.contains("minimal"), "listed: {stdout}");
    assert!(
        stderr.contains("required entries are NULL: producer_new, produce"),
        "{stderr}"
    );
}

#[test]
fn the_c_plugin_template_builds_with_one_cc_line_and_passes_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let built = Command::new("bash")
        .arg(repo.join("transports/template-c/build.sh"))
        .arg(dir.path())
        .output()
        .expect("bash runs the template's build script");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let so = dir.path().join("libkmidi_template.so");
    let (out, stdout, _) = run(kmidi().args(["transports", "--check"]).arg(&so));
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("conformance: all"), "{stdout}");
}
