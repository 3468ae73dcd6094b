//! kcat, librdkafka's command-line client, as a second client beside kmidi: it writes
//! records kmidi would never write and reads cluster metadata. Every call is bounded.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{stderr, wait_bounded};

/// Where scripts/install-deps.sh installs it (the Debian package).
const KCAT: &str = "/usr/bin/kcat";

fn command() -> Command {
    let mut c = Command::new(KCAT);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Runs `kcat ARGS` and returns its stdout; fails the test if it fails or takes
/// more than 20 s.
pub fn kcat(args: &[&str]) -> String {
    let child = command()
        .args(args)
        .spawn()
        .expect("kcat runs (scripts/install-deps.sh installs it)");
    let out = wait_bounded(child, Duration::from_secs(20));
    assert!(out.status.success(), "kcat {args:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Produces `lines` to `topic`: `KEY:VALUE` each (`-K:` splits at the first colon, so
/// JSON values keep theirs), an empty key or value sent as NULL (`-Z`). Bounded.
pub fn kcat_produce(bootstrap: &str, topic: &str, lines: &[String], extra: &[&str]) {
    let mut child = command()
        .args(["-P", "-b", bootstrap, "-t", topic, "-K:", "-Z"])
        .args(extra)
        .stdin(Stdio::piped())
        .spawn()
        .expect("kcat runs (scripts/install-deps.sh installs it)");
    {
        let stdin = child.stdin.as_mut().expect("piped stdin");
        for l in lines {
            writeln!(stdin, "{l}").unwrap();
        }
    }
    drop(child.stdin.take());
    let out = wait_bounded(child, Duration::from_secs(30));
    assert!(out.status.success(), "kcat failed: {}", stderr(&out));
}
