//! A consumer group of member processes (`member`), seen by the instrument as one
//! [`Consumer`]: their records merged in arrival order, their assignments united, and
//! the churn script applied to them at its score times. The instrument's loop, meter,
//! jitter buffer and sinks are the ones a single consumer uses, so a churned side is
//! measured exactly like an unchurned one.
//!
//! Score time becomes wall time through the notes themselves: each carries its
//! scheduled offset and the moment the player sent it, so `sent − offset` is where the
//! song started, with no clock shared with the player's thread.

use std::collections::{BTreeMap, VecDeque};
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kmidi_transport::{Consumer, Record, TransportError};

use super::member::MemberLine;
use super::script::{ChurnEvent, ChurnKind, ChurnScript};
use super::GroupLog;
use crate::measure::unix_us;
use crate::wire::NoteMessage;

/// How a member process is started: `program args... --member-id N`, with `job` as the
/// first line of its stdin (what to consume and how: the client config, secrets
/// included, goes there rather than into a command line that `ps` shows).
#[derive(Clone, Debug)]
pub struct MemberCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub job: String,
}

/// The group to run.
#[derive(Clone, Debug)]
pub struct GroupPlan {
    /// Members at the start.
    pub members: usize,
    pub script: ChurnScript,
    /// The player's `--speed-ratio`, to turn score times into wall times.
    pub speed: f64,
    /// The topic's partition count: the group is stable when each is held by one member.
    pub partitions: i32,
    pub command: MemberCommand,
}

/// How long members get to leave cleanly when the group is done.
const CLOSE_WAIT: Duration = Duration::from_secs(10);
/// Longest wait in one receive, so churn events fire within this of their time.
const TICK: Duration = Duration::from_millis(10);
/// A complete assignment must hold this long, unchanged, before the group counts as
/// settled: KIP-848 hands partitions out over several heartbeats.
const SETTLED: Duration = Duration::from_millis(1500);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Alive,
    /// Asked to leave: still consuming until its library has closed.
    Leaving,
    /// SIGKILLed: whatever it held is orphaned until the broker notices.
    Killed,
    Gone,
}

struct Member {
    child: Child,
    stdin: Option<ChildStdin>,
    partitions: Vec<(String, i32)>,
    ready: bool,
    state: State,
}

enum Incoming {
    Line(usize, MemberLine),
    /// The member's stdout closed: it exited or was killed.
    Gone(usize),
}

pub struct GroupConsumer {
    plan: GroupPlan,
    members: BTreeMap<usize, Member>,
    next_id: usize,
    tx: Sender<Incoming>,
    rx: Receiver<Incoming>,
    pending: VecDeque<ChurnEvent>,
    log: Arc<Mutex<GroupLog>>,
    song_start_us: Option<u64>,
}

fn client_error(what: impl Into<String>) -> TransportError {
    TransportError::Client(what.into())
}

impl GroupConsumer {
    /// Starts `plan.members` members and waits (at most `timeout`) until every one is
    /// subscribed and, when they report assignments, every partition is held by one.
    /// Returns the group, its log (read it after listening) and whether it settled.
    pub fn start(
        plan: GroupPlan,
        timeout: Duration,
    ) -> Result<(Self, Arc<Mutex<GroupLog>>, bool), TransportError> {
        let (tx, rx) = mpsc::channel();
        let log = Arc::new(Mutex::new(GroupLog {
            partitions: plan.partitions,
            script: plan.script.to_string(),
            ..GroupLog::default()
        }));
        let mut group = GroupConsumer {
            pending: plan.script.events.iter().copied().collect(),
            plan,
            members: BTreeMap::new(),
            next_id: 0,
            tx,
            rx,
            log: Arc::clone(&log),
            song_start_us: None,
        };
        for _ in 0..group.plan.members {
            group.spawn()?;
        }
        let settled = group.wait_settled(timeout)?;
        Ok((group, log, settled))
    }

    fn with_log(&self, f: impl FnOnce(&mut GroupLog)) {
        if let Ok(mut log) = self.log.lock() {
            f(&mut log);
        }
    }

    fn spawn(&mut self) -> Result<usize, TransportError> {
        let id = self.next_id;
        self.next_id += 1;
        let cmd = &self.plan.command;
        let mut child = Command::new(&cmd.program)
            .args(&cmd.args)
            .arg("--member-id")
            .arg(id.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                client_error(format!(
                    "starting group member {id} ({}): {e}",
                    cmd.program.display()
                ))
            })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| client_error(format!("group member {id} has no stdout")))?;
        let tx = self.tx.clone();
        std::thread::Builder::new()
            .name(format!("kmidi-member-{id}"))
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    match serde_json::from_str::<MemberLine>(&line) {
                        Ok(m) => {
                            if tx.send(Incoming::Line(id, m)).is_err() {
                                return;
                            }
                        }
                        Err(e) => tracing::warn!("group member {id} wrote {line:?}: {e}"),
                    }
                }
                let _ = tx.send(Incoming::Gone(id));
            })
            .map_err(|e| client_error(format!("reading group member {id}: {e}")))?;
        let mut stdin = child.stdin.take();
        if let Some(pipe) = stdin.as_mut() {
            use std::io::Write;
            writeln!(pipe, "{}", cmd.job)
                .and_then(|()| pipe.flush())
                .map_err(|e| client_error(format!("starting group member {id}: {e}")))?;
        }
        self.members.insert(
            id,
            Member {
                child,
                stdin,
                partitions: Vec::new(),
                ready: false,
                state: State::Alive,
            },
        );
        self.with_log(|l| l.members_started += 1);
        Ok(id)
    }

    /// The member a leave or kill hits: the live one holding the most partitions (the
    /// oldest among equals), so both sides of a compare lose alike.
    fn target(&self) -> Option<usize> {
        self.members
            .iter()
            .filter(|(_, m)| m.state == State::Alive)
            .max_by_key(|(id, m)| (m.partitions.len(), std::cmp::Reverse(**id)))
            .map(|(id, _)| *id)
    }

    fn record_change(&self, member: usize, partitions: Option<Vec<(String, i32)>>) {
        let at_us = unix_us();
        self.with_log(|l| {
            l.changes.push(super::MemberChange {
                at_us,
                member,
                partitions,
            })
        });
    }

    fn apply(&mut self, event: ChurnEvent) -> Result<(), TransportError> {
        let applied_us = unix_us();
        let member = match event.kind {
            ChurnKind::Join => Some(self.spawn()?),
            ChurnKind::Leave => self.target().inspect(|id| {
                if let Some(m) = self.members.get_mut(id) {
                    // End of stdin: the member commits, closes and leaves the group.
                    m.stdin = None;
                    m.state = State::Leaving;
                }
            }),
            ChurnKind::Kill => {
                let target = self.target();
                if let Some(id) = target {
                    if let Some(m) = self.members.get_mut(&id) {
                        if let Err(e) = m.child.kill() {
                            tracing::warn!("killing group member {id}: {e}");
                        }
                        m.state = State::Killed;
                        m.stdin = None;
                    }
                    self.record_change(id, None);
                }
                target
            }
        };
        if member.is_none() {
            tracing::warn!("churn {event}: no live member to {}", event.kind.as_str());
        }
        self.with_log(|l| {
            l.events.push(super::AppliedEvent {
                event: event.to_string(),
                kind: event.kind,
                at_score_s: event.at.as_secs_f64(),
                applied_us,
                member,
            })
        });
        Ok(())
    }

    fn apply_due(&mut self) -> Result<(), TransportError> {
        let Some(start) = self.song_start_us else {
            return Ok(());
        };
        let now = unix_us();
        while let Some(event) = self.pending.front().copied() {
            let due = start + (event.at.as_secs_f64() * self.plan.speed * 1e6) as u64;
            if now < due {
                break;
            }
            self.pending.pop_front();
            self.apply(event)?;
        }
        Ok(())
    }

    /// Handles one line; a record is returned to the caller.
    fn handle(&mut self, incoming: Incoming) -> Result<Option<Record>, TransportError> {
        let (id, line) = match incoming {
            Incoming::Gone(id) => {
                if let Some(m) = self.members.get_mut(&id) {
                    let was = m.state;
                    m.state = State::Gone;
                    let _ = m.child.wait();
                    match was {
                        State::Alive => {
                            tracing::warn!("group member {id} exited by itself");
                            self.record_change(id, None);
                        }
                        State::Leaving => self.record_change(id, None),
                        State::Killed | State::Gone => {}
                    }
                }
                return Ok(None);
            }
            Incoming::Line(id, line) => (id, line),
        };
        let line = match line.into_record() {
            Ok(record) => {
                self.learn_song_start(record.value.as_deref());
                return Ok(Some(record));
            }
            Err(line) => line,
        };
        let state = self.members.get(&id).map(|m| m.state);
        match line {
            MemberLine::Record { .. } => Ok(None),
            MemberLine::Assignment { partitions, .. } => {
                if matches!(state, Some(State::Alive | State::Leaving)) {
                    if let Some(m) = self.members.get_mut(&id) {
                        m.partitions.clone_from(&partitions);
                    }
                    self.record_change(id, Some(partitions));
                }
                Ok(None)
            }
            MemberLine::Ready {
                reports_assignment,
                settings,
            } => {
                if let Some(m) = self.members.get_mut(&id) {
                    m.ready = true;
                }
                self.with_log(|l| {
                    l.reports_assignment |= reports_assignment;
                    if l.settings.is_empty() {
                        l.settings = settings;
                    }
                });
                Ok(None)
            }
            MemberLine::Transient { message } => Err(TransportError::Transient(format!(
                "group member {id}: {message}"
            ))),
            MemberLine::Fatal { message } => {
                Err(client_error(format!("group member {id}: {message}")))
            }
            MemberLine::Bye => Ok(None),
        }
    }

    /// Where the song started, from a note: `sent − offset`. Lateness only delays
    /// `sent`, so the earliest estimate is the best.
    fn learn_song_start(&mut self, value: Option<&[u8]>) {
        let Ok(note) = NoteMessage::decode(value) else {
            return;
        };
        let m = &note.measure;
        if let (false, Some(sent), Some(offset)) = (m.warmup, m.sent_us, m.offset_us) {
            let start = sent.saturating_sub(offset);
            let best = self.song_start_us.map_or(start, |s| s.min(start));
            self.song_start_us = Some(best);
            self.with_log(|l| l.song_start_us = Some(best));
        }
    }

    /// Every partition held by one live member, and every live member holding some
    /// when there are enough partitions to go round: the group's first rebalance is
    /// over.
    fn spread(&self) -> bool {
        let live: Vec<&Member> = self
            .members
            .values()
            .filter(|m| m.state == State::Alive)
            .collect();
        let enough = live.len() <= self.plan.partitions.max(0) as usize;
        self.complete() && (!enough || live.iter().all(|m| !m.partitions.is_empty()))
    }

    /// Every partition held by exactly one live member.
    fn complete(&self) -> bool {
        let mut held: BTreeMap<&(String, i32), usize> = BTreeMap::new();
        for m in self.members.values() {
            if matches!(m.state, State::Alive | State::Leaving) {
                for p in &m.partitions {
                    *held.entry(p).or_default() += 1;
                }
            }
        }
        held.len() == self.plan.partitions.max(0) as usize && held.values().all(|n| *n == 1)
    }

    fn wait_settled(&mut self, timeout: Duration) -> Result<bool, TransportError> {
        let started = Instant::now();
        let mut complete_since: Option<Instant> = None;
        while started.elapsed() < timeout {
            match self.rx.recv_timeout(TICK * 5) {
                // Records before the player starts predate it: dropped, as a single
                // consumer's wait for its assignment drops them.
                Ok(incoming) => {
                    let changes =
                        matches!(incoming, Incoming::Line(_, MemberLine::Assignment { .. }));
                    match self.handle(incoming) {
                        Err(e) if !e.is_transient() => return Err(e),
                        _ => {}
                    }
                    if changes {
                        complete_since = None;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let all_ready = self.members.values().all(|m| m.ready);
            let reports = self
                .log
                .lock()
                .map(|l| l.reports_assignment)
                .unwrap_or(false);
            if all_ready && (!reports || self.spread()) {
                let since = *complete_since.get_or_insert_with(Instant::now);
                // Without assignments to watch, give the group a moment to form.
                let hold = if reports { SETTLED } else { SETTLED * 3 };
                if since.elapsed() >= hold {
                    return Ok(true);
                }
            } else {
                complete_since = None;
            }
        }
        Ok(false)
    }
}

impl Consumer for GroupConsumer {
    fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, TransportError> {
        let deadline = Instant::now() + timeout;
        loop {
            self.apply_due()?;
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left.min(TICK)) {
                Ok(incoming) => {
                    if let Some(record) = self.handle(incoming)? {
                        return Ok(Some(record));
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    if left.is_zero() {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Each member commits what it consumed when it leaves.
    fn commit(&mut self) -> Result<(), TransportError> {
        Ok(())
    }

    fn assignment(&self) -> Vec<(String, i32)> {
        let mut all: Vec<(String, i32)> = self
            .members
            .values()
            .filter(|m| matches!(m.state, State::Alive | State::Leaving))
            .flat_map(|m| m.partitions.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    fn reports_assignment(&self) -> bool {
        self.log
            .lock()
            .map(|l| l.reports_assignment)
            .unwrap_or(false)
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.log
            .lock()
            .map(|l| l.settings.clone())
            .unwrap_or_default()
    }
}

impl Drop for GroupConsumer {
    fn drop(&mut self) {
        for m in self.members.values_mut() {
            m.stdin = None;
        }
        let until = Instant::now() + CLOSE_WAIT;
        for (id, m) in self.members.iter_mut() {
            loop {
                match m.child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() >= until => {
                        tracing::warn!("group member {id} did not leave in time: killed");
                        let _ = m.child.kill();
                        let _ = m.child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
    }
}
