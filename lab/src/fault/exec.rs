//! `exec` steps: the user's own command (`sh -c CMD`) at a song time, bounded by a
//! timeout, its exit status and the tail of its output kept for the report. It runs in
//! a process group of its own, so killing it (timeout, kmidi exiting) kills whatever it
//! started too.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The most output kept per command: its tail.
pub const OUTPUT_TAIL: usize = 4096;

/// What became of one command.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ExecOutcome {
    /// The exit code; `None` when killed or never started.
    pub status: Option<i32>,
    /// How it ended, said: `exited 0`, `killed after the 60 s timeout`, ...
    pub ended: String,
    /// The last [`OUTPUT_TAIL`] bytes of stdout and stderr, interleaved as read.
    pub output_tail: String,
    pub elapsed_s: f64,
}

/// A running command.
pub struct ExecRun {
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    started: Instant,
}

fn keep_tail(buf: &Mutex<Vec<u8>>, bytes: &[u8]) {
    if let Ok(mut b) = buf.lock() {
        b.extend_from_slice(bytes);
        if b.len() > OUTPUT_TAIL {
            let cut = b.len() - OUTPUT_TAIL;
            b.drain(..cut);
        }
    }
}

impl ExecRun {
    pub fn start(command: &str) -> std::io::Result<Self> {
        let mut child = Command::new("sh")
            .args(["-c", command])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        let pipes: [Option<Box<dyn Read + Send>>; 2] = [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ];
        for mut pipe in pipes.into_iter().flatten() {
            let output = Arc::clone(&output);
            readers.push(std::thread::spawn(move || {
                let mut chunk = [0u8; 1024];
                while let Ok(n) = pipe.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    keep_tail(&output, &chunk[..n]);
                }
            }));
        }
        Ok(ExecRun {
            child,
            output,
            readers,
            started: Instant::now(),
        })
    }

    /// SIGKILL to the command's whole process group.
    fn kill_group(&mut self) {
        let pgid = self.child.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
    }

    /// Waits for the command, at most `timeout`, or until `stop` is set; kills it then.
    pub fn wait(mut self, timeout: Duration, stop: &AtomicBool) -> ExecOutcome {
        let ended = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    break status.code().map_or_else(
                        || format!("ended by a signal ({status})"),
                        |c| format!("exited {c}"),
                    )
                }
                Ok(None) => {}
                Err(e) => break format!("lost: {e}"),
            }
            if self.started.elapsed() >= timeout {
                self.kill_group();
                break format!("killed after the {} s timeout", timeout.as_secs_f64());
            }
            if stop.load(Ordering::Relaxed) {
                self.kill_group();
                break "killed: kmidi was stopping".into();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let status = self.child.wait().ok().and_then(|s| s.code());
        // The group is gone, or the command ended and left the pipes to its children:
        // read what is there, boundedly.
        let deadline = Instant::now() + Duration::from_secs(2);
        for r in std::mem::take(&mut self.readers) {
            while !r.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if r.is_finished() {
                let _ = r.join();
            }
        }
        let tail = self
            .output
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        ExecOutcome {
            status,
            ended,
            output_tail: tail,
            elapsed_s: self.started.elapsed().as_secs_f64(),
        }
    }
}

impl Drop for ExecRun {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill_group();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_s_status_and_output_tail_are_kept() {
        let stop = AtomicBool::new(false);
        let o = ExecRun::start("echo out; echo err >&2; exit 3")
            .unwrap()
            .wait(Duration::from_secs(10), &stop);
        assert_eq!(o.status, Some(3));
        assert_eq!(o.ended, "exited 3");
        assert!(
            o.output_tail.contains("out") && o.output_tail.contains("err"),
            "{o:?}"
        );
        let o = ExecRun::start("head -c 10000 /dev/zero | tr '\\0' x")
            .unwrap()
            .wait(Duration::from_secs(10), &stop);
        assert_eq!(o.output_tail.len(), OUTPUT_TAIL);
    }

    #[test]
    fn a_command_past_its_timeout_is_killed_with_what_it_started() {
        let stop = AtomicBool::new(false);
        let t = Instant::now();
        let o = ExecRun::start("sleep 30 & sleep 30; echo never")
            .unwrap()
            .wait(Duration::from_millis(300), &stop);
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert_eq!(o.status, None);
        assert!(o.ended.contains("timeout"), "{o:?}");
        assert!(!o.output_tail.contains("never"));
        stop.store(true, Ordering::Relaxed);
        let o = ExecRun::start("sleep 30")
            .unwrap()
            .wait(Duration::from_secs(60), &stop);
        assert!(o.ended.contains("stopping"), "{o:?}");
    }
}
