//! Kafka's own command-line tools (`scripts/kafka.sh run-tool`), run from the jars of
//! a broker's version: the reference client, independent of every kmidi transport.
//! Bounded, since a JVM that cannot reach its broker may retry for minutes.

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::script;

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
    let what = format!(
        "scripts/kafka.sh run-tool {version} {tool} {}",
        args.join(" ")
    );
    let mut child = script::command()
        .args(["run-tool", version, tool])
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    // Written and read on threads of their own: a tool that fills a pipe while the
    // other is still being written would otherwise wait on this test forever.
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
    let started = Instant::now();
    // `run-tool` execs the JVM, so the child is the tool itself and kill() ends it.
    let status = loop {
        if let Some(status) = child.try_wait().expect("the tool's exit status") {
            break Some(status);
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if let Some(writer) = writer {
        // A tool may exit without reading all its input; that is for its status to say.
        let _ = writer.join();
    }
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    match status {
        Some(status) if status.success() => stdout,
        Some(status) => panic!("{what} failed ({status}):\n{stdout}{stderr}"),
        None => panic!(
            "{what} did not finish within {} s:\n{stdout}{stderr}",
            LIMIT.as_secs()
        ),
    }
}
