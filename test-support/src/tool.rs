//! Kafka's own command-line tools (`scripts/kafka.sh run-tool`), run from the jars of
//! a broker's version: the reference client, independent of every kmidi transport.
//! Bounded, since a JVM that cannot reach its broker may retry for minutes.
//!
//! The one way the workspace runs them: the tests through [`run_tool`], which panics,
//! and the benchmarks through [`run_kafka_sh_bounded`], which reports.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::repo;

/// How long a tool may take before it is killed and the test fails.
const LIMIT: Duration = Duration::from_secs(120);

/// Runs Kafka tool `tool` (an alias of `scripts/kafka.sh tools VERSION`, or a class
/// name) of `version` with `args`; returns its stdout. Panics, with what it printed,
/// if it fails or outlasts its bound.
pub fn run_tool(version: &str, tool: &str, args: &[&str]) -> String {
    run(version, tool, args, None)
}

/// [`run_tool`] with `input` on the tool's stdin, closed after it (e.g. the lines a
/// `console-producer` sends).
pub fn run_tool_with_input(version: &str, tool: &str, args: &[&str], input: &str) -> String {
    run(version, tool, args, Some(input))
}

fn run(version: &str, tool: &str, args: &[&str], input: Option<&str>) -> String {
    let all: Vec<&str> = ["run-tool", version, tool]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    run_kafka_sh_bounded(&repo(), &all, &[], input, LIMIT).unwrap_or_else(|e| panic!("{e}"))
}

/// Why [`run_kafka_sh_bounded`] has no output to return.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// `bash` could not be started, or not waited for.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    /// It exited unsuccessfully.
    #[error("{what} failed ({status}):\n{stdout}{stderr}")]
    Failed {
        what: String,
        status: ExitStatus,
        stdout: String,
        stderr: String,
    },
    /// It outlasted its bound and was killed.
    #[error("{what} did not finish within {} s:\n{stdout}{stderr}", .limit.as_secs())]
    TimedOut {
        what: String,
        limit: Duration,
        stdout: String,
        stderr: String,
    },
}

/// Runs `scripts/kafka.sh ARGS` of the repository at `repo` with `env` set and `input`
/// (if any) on its stdin; returns its stdout. Killed (by its own pid) after `limit`:
/// `run-tool` execs the JVM, so the child is the tool itself and the kill ends it.
pub fn run_kafka_sh_bounded(
    repo: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    input: Option<&str>,
    limit: Duration,
) -> Result<String, ToolError> {
    let what = format!("scripts/kafka.sh {}", args.join(" "));
    let spawned = Command::new("bash")
        .arg(repo.join("scripts/kafka.sh"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(source) => return Err(ToolError::Io { what, source }),
    };
    // Written and read on threads of their own: a tool that fills a pipe while the
    // other is still being written would otherwise wait on its caller forever.
    let writer = child.stdin.take().map(|mut stdin| {
        let input = input.unwrap_or_default().to_string();
        std::thread::spawn(move || stdin.write_all(input.as_bytes()))
    });
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let status = wait_bounded(&mut child, limit);
    if status.is_err() {
        // Not left running behind the pipes the threads below wait on.
        let _ = child.kill();
        let _ = child.wait();
    }
    if let Some(writer) = writer {
        // A tool may exit without reading all its input; that is for its status to say.
        let _ = writer.join();
    }
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    match status {
        Ok(Some(status)) if status.success() => Ok(stdout),
        Ok(Some(status)) => Err(ToolError::Failed {
            what,
            status,
            stdout,
            stderr,
        }),
        Ok(None) => Err(ToolError::TimedOut {
            what,
            limit,
            stdout,
            stderr,
        }),
        Err(source) => Err(ToolError::Io { what, source }),
    }
}

/// Waits for `child` at most `limit`; `None` when it had to be killed (by its own pid).
pub fn wait_bounded(child: &mut Child, limit: Duration) -> io::Result<Option<ExitStatus>> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
