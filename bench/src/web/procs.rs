//! The real `kmidi` processes benchmark 10 runs: an instrument (with or without
//! `--web`) ended whatever happens to the benchmark, and a player waited for within a
//! bound. Both start through benchmark 6's [`spawn`] (stdout and stderr to a log).

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use kmidi_test_support::browser::http_get;

use crate::footprint::spawn;

/// How the benchmark runs `kmidi`.
pub struct Kmidi<'a> {
    pub bin: &'a Path,
    pub bootstrap: &'a str,
    pub dir: &'a Path,
}

/// A running `kmidi instrument`: killed on drop if it is still running.
pub struct Instrument {
    child: Child,
    pub log: PathBuf,
    pub record: PathBuf,
}

impl Kmidi<'_> {
    /// `kmidi instrument` on `topic` (a group of its own, from the earliest offset, so a
    /// note produced before the group is assigned still counts), recording what it plays
    /// to `web-TAG.mid`, exiting `idle_exit` s after the last note, serving the page on
    /// 127.0.0.1:`web` if given.
    pub fn instrument(
        &self,
        topic: &str,
        tag: &str,
        web: Option<u16>,
        idle_exit: u32,
    ) -> Result<Instrument> {
        let record = self.dir.join(format!("web-{tag}.mid"));
        let _ = std::fs::remove_file(&record);
        let mut args: Vec<String> = [
            "instrument",
            "-q",
            "-b",
            self.bootstrap,
            "-t",
            topic,
            "-g",
            &format!("g-{topic}"),
            "--from",
            "earliest",
            "--no-port",
            "--idle-exit",
            &idle_exit.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(["--record".to_string(), record.display().to_string()]);
        if let Some(port) = web {
            args.extend(["--web".to_string(), format!("127.0.0.1:{port}")]);
        }
        let log = self.dir.join(format!("web-{tag}-instrument.log"));
        let child = spawn(self.bin, &args, &log)?;
        Ok(Instrument { child, log, record })
    }

    /// Plays `song` on `topic` at `speed` and waits for the player, at most `limit`.
    pub fn play(&self, topic: &str, song: &Path, speed: &str, limit: Duration) -> Result<()> {
        let args: Vec<String> = [
            "player",
            "-q",
            "-b",
            self.bootstrap,
            "-t",
            topic,
            "-s",
            speed,
            "-m",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([song.display().to_string()])
        .collect();
        let log = self.dir.join(format!("web-{topic}-player.log"));
        let mut player = spawn(self.bin, &args, &log)?;
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = player.try_wait()? {
                break status;
            }
            if Instant::now() > deadline {
                let _ = player.kill();
                let _ = player.wait();
                bail!(
                    "the player did not finish within {limit:?} ({})",
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if !status.success() {
            bail!("the player failed ({status}): {}", tail(&log));
        }
        Ok(())
    }
}

impl Instrument {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the page's server on `port` to answer, at most `limit`.
    pub fn wait_web(&mut self, port: u16, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            if matches!(http_get(port, "/state"), Ok((200, _))) {
                return Ok(());
            }
            if self.child.try_wait()?.is_some() || Instant::now() > deadline {
                bail!("the page's server did not answer: {}", tail(&self.log));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the instrument to exit by itself (its idle exit), at most `limit`;
    /// kills it after that. True if it exited by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Instrument {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The last lines of a log, for an error message.
pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(5);
    format!("{}: {}", log.display(), lines[from..].join(" / "))
}

/// How many MIDI messages a `--record` file holds.
pub fn recorded(record: &Path) -> Result<usize> {
    Ok(kmidi_midi::sink::read_recording(record)
        .with_context(|| format!("reading {}", record.display()))?
        .len())
}
