//! Running `scripts/kafka.sh`: once and checked, or once this test process has exited
//! (the watchdog that stops what a test binary started, however it ends).

use std::process::{Command, Output, Stdio};

use crate::repo;

/// `bash scripts/kafka.sh`, for the caller to add the command and its arguments.
pub(crate) fn command() -> Command {
    let mut c = Command::new("bash");
    c.arg(repo().join("scripts/kafka.sh"));
    c
}

/// Runs `scripts/kafka.sh ARGS`, its stderr shown, its stdout returned; the caller
/// judges the exit status.
pub fn kafka_sh(args: &[&str]) -> Output {
    command()
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("bash runs scripts/kafka.sh")
}

/// Runs `scripts/kafka.sh ARGS` and returns the last line of its stdout (what every
/// starting command prints its bootstrap address as); panics if it failed.
pub(crate) fn kafka_sh_ok(args: &[&str]) -> String {
    kafka_sh_ok_with(args, &[])
}

/// As [`kafka_sh_ok`], with environment variables (e.g. `KMIDI_KAFKA_PROPS`).
pub(crate) fn kafka_sh_ok_with(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = command()
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("bash runs scripts/kafka.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "scripts/kafka.sh {} failed ({}):\n{stdout}",
        args.join(" "),
        out.status
    );
    stdout.lines().last().unwrap_or_default().trim().to_string()
}

/// A free TCP port on 127.0.0.1, as `scripts/kafka.sh free-port` finds one.
pub fn free_port() -> u16 {
    let port = kafka_sh_ok(&["free-port"]);
    port.parse()
        .unwrap_or_else(|_| panic!("scripts/kafka.sh free-port printed {port:?}"))
}

/// Stops broker `name` once this process has exited, however it ends.
pub fn stop_when_this_process_exits(name: &str) {
    kafka_sh_when_this_process_exits(&["stop", name]);
}

/// Runs `scripts/kafka.sh ARGS` once this process has exited (e.g. `stop-cluster`).
/// The watchdog must outlive this process, so nobody waits for it.
pub fn kafka_sh_when_this_process_exits(args: &[&str]) {
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; bash {script} {args} >/dev/null 2>&1",
        pid = std::process::id(),
        script = repo().join("scripts/kafka.sh").display(),
        args = args.join(" "),
    );
    #[allow(clippy::zombie_processes)]
    Command::new("bash")
        .args(["-c", &watchdog])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the broker watchdog starts");
}
