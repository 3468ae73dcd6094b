//! The conformance suite every transport runs, built in or plugin: a real kmidi song
//! produced and consumed through the transport on a real broker, or the refusal the
//! transport owes that broker, asserted by its message. One copy, called per
//! transport × broker version from `broker_suite.rs` (run by `kafka_3_9.rs` and
//! `kafka_4.rs`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::instrument as common_instrument;
use super::*;

/// What a transport owes a broker version.
pub enum Expect {
    /// Plays the song: every note, right bytes, in order.
    Plays,
    /// Refuses before playing, within the connect timeout, with a message containing
    /// this text.
    Refuses(&'static str),
}

/// Builds a plugin and returns its path: Rust plugins with cargo (next to the `kmidi`
/// binary), the C and Go ones with their build scripts into `target/plugins`. Always
/// built, so a stale `.so` from an older checkout is never what gets tested; both
/// builds are no-ops when nothing changed.
pub fn plugin(name: &str) -> PathBuf {
    // Once per test process, under a lock: tests run on parallel threads, and one
    // test rebuilding a .so while another loads it would load half a file.
    static BUILT: std::sync::Mutex<Vec<(String, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, path)) = built.iter().find(|(n, _)| n == name) {
        return path.clone();
    }
    let path = build_plugin(name);
    built.push((name.to_string(), path.clone()));
    path
}

fn build_plugin(name: &str) -> PathBuf {
    let file = format!("libkmidi_{}.so", name.replace('-', "_"));
    let script = repo().join(format!("transports/{name}/build.sh"));
    if script.exists() {
        let plugins = repo().join("target/plugins");
        let status = Command::new("bash")
            .arg(&script)
            .arg(&plugins)
            .stdout(Stdio::null())
            .status()
            .expect("bash runs the plugin's build script");
        assert!(status.success(), "{} failed", script.display());
        return plugins.join(file);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .args(["build", "-q", "-p", &format!("kmidi-{name}")])
        .current_dir(repo())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the {name} plugin");
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_kmidi"));
    exe.parent().expect("the binary has a directory").join(file)
}

/// The song through `transport` (a built-in name or a plugin path) on `broker`.
pub fn round_trip(broker: &Broker, transport: &str, expect: Expect) {
    let topic = broker.unique("conformance");
    broker.create_topic(&topic, 3);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("heard.mid");
    let song = repo().join("songs/tempo_change.mid");
    let instrument = common_instrument(&broker.bootstrap, &topic)
        .args(["--transport", transport, "--connect-timeout", "10"])
        .arg("--record")
        .arg(&record)
        .args(["--idle-exit", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kmidi instrument starts");
    let started = Instant::now();
    let player = run(player(&broker.bootstrap, &topic)
        .args(["--transport", transport, "--connect-timeout", "10"])
        .arg("-m")
        .arg(&song));
    let heard = wait_bounded(instrument, Duration::from_secs(90));
    match expect {
        Expect::Plays => {
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
            assert_eq!(
                recorded_bytes(&record),
                score_bytes(&song),
                "{transport}: every note, right bytes, in order"
            );
        }
        Expect::Refuses(text) => {
            for (who, out) in [("player", &player), ("instrument", &heard)] {
                assert_eq!(out.status.code(), Some(1), "{transport} {who} must refuse");
                let err = stderr(out);
                assert!(err.contains(text), "{transport} {who}: {err}");
                assert!(!err.contains("UnexpectedEof"), "{transport} {who}: {err}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "refused in bounded time"
            );
        }
    }
}

/// The song through plugin `name` (built from the repo) on `broker`: it plays.
pub fn plugin_round_trip(broker: &Broker, name: &str) {
    let so = plugin(name);
    round_trip(broker, &so.display().to_string(), Expect::Plays);
}

/// `kmidi transports --check PLUGIN -b BROKER`: the author's conformance pass passes
/// every point for the plugin built from the repo.
pub fn check_passes(broker: &Broker, name: &str) {
    let so = plugin(name);
    let out = run(kmidi()
        .args(["transports", "--check"])
        .arg(&so)
        .args(["-b", &broker.bootstrap]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{name}: {text}{}", stderr(&out));
    assert!(text.contains("conformance: all"), "{name}: {text}");
    assert!(!text.contains("FAIL"), "{name}: {text}");
}
