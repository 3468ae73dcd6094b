//! One load process: started in a process group of its own (so it and everything it
//! starts die together), its output collected by reader threads, and a watchdog beside
//! it that kills the group when this process dies or the step's time limit passes,
//! whoever is (or is not) polling. The watchdog is a separate `bash` because a child
//! cannot be tied to its parent's life without `unsafe` (`prctl(PR_SET_PDEATHSIG)`).

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Most stdout lines kept (an hour of progress lines twice a second fits).
const MAX_LINES: usize = 20_000;
/// Stderr lines kept, the last ones: what a failed process said.
const MAX_ERR_LINES: usize = 40;

/// Kills process group `$2` once process `$1` (kmidi) is gone or `$3` seconds have
/// passed; ends by itself when the group is gone. In a process group of its own, so
/// the terminal's Ctrl-C (sent to kmidi's group) does not take it down first.
const WATCHDOG: &str = r#"parent=$1 pgid=$2 limit=$3
end=$((SECONDS + limit))
while kill -0 "$parent" 2>/dev/null && kill -0 -- "-$pgid" 2>/dev/null && ((SECONDS < end)); do
  sleep 1
done
kill -KILL -- "-$pgid" 2>/dev/null
exit 0"#;

/// What to run.
#[derive(Clone, Debug)]
pub struct Spawn {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Written to the process's stdin, which then stays open until the process is
    /// stopped (a worker quits when it closes); `None`: stdin is `/dev/null`.
    pub stdin_line: Option<String>,
    /// The watchdog kills the group this long after the start, come what may.
    pub limit: Duration,
}

/// Lines a process wrote, shared with its reader threads.
#[derive(Default)]
struct Output {
    lines: VecDeque<String>,
    err: VecDeque<String>,
}

/// A running (or finished) load process and its watchdog.
pub struct LoadProcess {
    child: Child,
    /// The process group: the child's pid, as it leads its own group.
    pgid: u32,
    watchdog: Option<Child>,
    stdin: Option<ChildStdin>,
    output: Arc<Mutex<Output>>,
    readers: Vec<JoinHandle<()>>,
    status: Option<ExitStatus>,
    /// Reaped, read to the end and its group killed: nothing left to do.
    settled: bool,
}

impl LoadProcess {
    pub fn spawn(spec: &Spawn) -> std::io::Result<LoadProcess> {
        let mut child = Command::new(&spec.program)
            .args(&spec.args)
            .stdin(if spec.stdin_line.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
        let pgid = child.id();
        // The watchdog before anything can fail, so nothing is left unguarded.
        let watchdog = spawn_watchdog(pgid, spec.limit);
        let output = Arc::new(Mutex::new(Output::default()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(reader(out, Arc::clone(&output), false));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(reader(err, Arc::clone(&output), true));
        }
        let mut process = LoadProcess {
            child,
            pgid,
            watchdog: None,
            stdin: None,
            output,
            readers,
            status: None,
            settled: false,
        };
        match watchdog {
            Ok(w) => process.watchdog = Some(w),
            Err(e) => {
                process.kill();
                return Err(e);
            }
        }
        let mut stdin = process.child.stdin.take();
        if let (Some(pipe), Some(line)) = (stdin.as_mut(), &spec.stdin_line) {
            use std::io::Write;
            if let Err(e) = writeln!(pipe, "{line}").and_then(|()| pipe.flush()) {
                process.kill();
                return Err(e);
            }
        }
        process.stdin = stdin;
        Ok(process)
    }

    pub fn pid(&self) -> u32 {
        self.pgid
    }

    /// The exit status once the process has exited (its readers then drained).
    pub fn try_finish(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.status = Some(status);
                self.settle();
            }
        }
        self.status
    }

    /// Closes stdin (a worker's cue to stop), waits at most `wait` for the process to
    /// exit, then kills its whole group anyway: whatever it started goes with it.
    pub fn stop(&mut self, wait: Duration) {
        self.stdin = None;
        let deadline = Instant::now() + wait;
        while self.try_finish().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
    }

    /// SIGKILL to the process group (what the leader started too), then reaps it.
    pub fn kill(&mut self) {
        self.stdin = None;
        if self.settled {
            return;
        }
        kill_group(self.pgid);
        if self.status.is_none() {
            let _ = self.child.kill();
            if let Ok(status) = self.child.wait() {
                self.status = Some(status);
            }
        }
        self.settle();
    }

    /// Every stdout line so far.
    pub fn lines(&self) -> Vec<String> {
        self.output
            .lock()
            .map(|o| o.lines.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The last stderr lines, joined, for an error message.
    pub fn stderr_tail(&self) -> String {
        self.output
            .lock()
            .map(|o| o.err.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }

    /// The process has exited: its output is complete once the readers end (bounded:
    /// a grandchild still holding the pipe is killed with the group first), and its
    /// watchdog has nothing left to guard.
    fn settle(&mut self) {
        if self.settled {
            return;
        }
        self.settled = true;
        kill_group(self.pgid);
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

impl Drop for LoadProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn reader(
    pipe: impl Read + Send + 'static,
    output: Arc<Mutex<Output>>,
    is_err: bool,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let Ok(mut o) = output.lock() else { break };
            let (buf, max) = if is_err {
                (&mut o.err, MAX_ERR_LINES)
            } else {
                (&mut o.lines, MAX_LINES)
            };
            if buf.len() == max {
                buf.pop_front();
            }
            buf.push_back(line);
        }
    })
}

fn spawn_watchdog(pgid: u32, limit: Duration) -> std::io::Result<Child> {
    Command::new("bash")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("kmidi-load-watchdog")
        .arg(std::process::id().to_string())
        .arg(pgid.to_string())
        .arg(limit.as_secs().max(1).to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
}

/// `kill -KILL -- -PGID` through bash's builtin (no `unsafe`, no extra crate).
/// A group already gone is no error.
pub fn kill_group(pgid: u32) {
    let _ = Command::new("bash")
        .args(["-c", "kill -KILL -- \"-$1\" 2>/dev/null", "kmidi-load-kill"])
        .arg(pgid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bash(script: &str, stdin_line: Option<&str>, limit: Duration) -> Spawn {
        Spawn {
            program: "bash".into(),
            args: vec!["-c".into(), script.into()],
            stdin_line: stdin_line.map(str::to_string),
            limit,
        }
    }

    fn alive(pid: u32) -> bool {
        // A zombie is dead too: its state letter is Z.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                !s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(false)
    }

    #[test]
    fn a_process_reports_its_lines_and_exit() {
        let mut p = LoadProcess::spawn(&bash(
            "echo one; echo two; echo oops >&2",
            None,
            Duration::from_secs(30),
        ))
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while p.try_finish().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(p.try_finish().unwrap().success());
        assert_eq!(p.lines(), ["one", "two"]);
        assert_eq!(p.stderr_tail(), "oops");
    }

    #[test]
    fn stopping_kills_what_the_process_started() {
        // The grandchild ignores stdin: only the group kill ends it.
        let mut p = LoadProcess::spawn(&bash(
            "sleep 300 & echo $!; read -r job; read -r never; wait",
            Some("job"),
            Duration::from_secs(300),
        ))
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let grandchild = loop {
            if let Some(pid) = p.lines().first().and_then(|l| l.parse::<u32>().ok()) {
                break pid;
            }
            assert!(Instant::now() < deadline, "no grandchild pid");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(alive(grandchild));
        p.stop(Duration::from_millis(200));
        std::thread::sleep(Duration::from_millis(100));
        assert!(!alive(grandchild), "the grandchild outlived the stop");
    }

    #[test]
    fn the_watchdog_ends_a_process_past_its_limit() {
        let mut p = LoadProcess::spawn(&bash("sleep 300", None, Duration::from_secs(1))).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while p.try_finish().is_none() {
            assert!(Instant::now() < deadline, "still running past its limit");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!p.try_finish().unwrap().success());
    }
}
