//! The hub between the instrument and the pages listening: what the sinks and the
//! observer hand it is framed once and queued for every listener, each in a BOUNDED
//! queue of its own. Queuing never waits: a listener whose queue is full loses the
//! message, which is counted for it and told to it once it has room again (`dropped`).
//! So a slow page costs the instrument nothing but a failed `try_send`.
//!
//! Notes and measures are gathered as they come (a lock and a push on the
//! instrument's thread) and sent by the hub's own thread every [`TICK`], in batches; the
//! figures, a few times a second, go out at once. What a page opened late needs (hello,
//! the latest figures, the markers, the end) is kept as the state a listener is greeted
//! with, and what `/state` answers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use kmidi_engine::churn::GroupLog;
use kmidi_engine::measure::{unix_us, Verdict};
use serde::Serialize;
use serde_json::{json, Value};

use super::sse::frame;

/// Messages a listener may fall behind by before it loses some: at a busy song's ~100
/// messages a second, several seconds of a stalled network.
pub const QUEUE: usize = 512;

/// How often gathered notes and measures go out: the protocol promises batches at most
/// 20 ms apart.
pub const TICK: Duration = Duration::from_millis(10);

/// One framed message, shared by every queue it is in.
#[derive(Clone, Debug)]
pub struct Frame {
    pub text: Arc<str>,
    /// The run's `end`: its writer says when it is out.
    pub last: bool,
}

impl Frame {
    fn new(event: &str, data: &Value) -> Frame {
        Frame {
            text: frame(event, data).into(),
            last: event == "end",
        }
    }
}

/// One page's end of the hub, for its writer thread.
pub struct Listener {
    pub id: u64,
    pub rx: Receiver<Frame>,
    /// What the page gets first: hello and the state so far.
    pub greeting: Vec<Frame>,
    /// Set by the writer once the `end` message is written out, or once it stopped
    /// writing (the page went away): either way, nothing more to wait for.
    pub done: Arc<AtomicBool>,
}

struct Slot {
    id: u64,
    tx: SyncSender<Frame>,
    /// Messages this listener lost, in all.
    dropped: u64,
    /// Lost since it was last told.
    untold: bool,
    end_queued: bool,
    done: Arc<AtomicBool>,
}

/// A note heard, as the live view shows it.
#[derive(Serialize)]
struct Heard {
    at_ms: f64,
    topic: String,
    partition: i32,
    latency_ms: Option<f64>,
    onset_ms: Option<f64>,
    late: bool,
    reordered: bool,
    duplicate: bool,
}

#[derive(Default)]
struct Pending {
    /// Where the sound's clock (`Sink::send`'s `at`) starts on the hub's, µs: the
    /// least `hub time - at` seen, as a note reaches the sinks at or just after its `at`.
    t0_us: Option<u64>,
    notes: Vec<(u64, Vec<u8>)>,
    heard: BTreeMap<usize, Vec<Heard>>,
    /// Churned groups, with how many of their applied events were marked.
    groups: Vec<(usize, Arc<Mutex<GroupLog>>, usize)>,
}

struct State {
    command: String,
    sides: Vec<String>,
    figures: BTreeMap<usize, Value>,
    markers: Vec<Value>,
    end: Option<Value>,
}

pub struct Hub {
    started: Instant,
    started_unix_us: u64,
    capacity: usize,
    next_id: AtomicU64,
    /// Locked after `state` when both are: a greeting and the broadcasts that change
    /// the state cannot cross.
    state: Mutex<State>,
    listeners: Mutex<Vec<Slot>>,
    pending: Mutex<Pending>,
}

/// A poisoned lock only means a panic elsewhere; the data is still what it was.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Hub {
    /// A hub for `command`'s `sides` (labels), queues of `capacity` messages; its thread
    /// sends the batches until the hub is dropped.
    pub fn new(command: &str, sides: &[&str], capacity: usize) -> Arc<Hub> {
        let hub = Arc::new(Hub {
            started: Instant::now(),
            started_unix_us: unix_us(),
            capacity: capacity.max(1),
            next_id: AtomicU64::new(1),
            state: Mutex::new(State {
                command: command.to_string(),
                sides: sides.iter().map(|s| s.to_string()).collect(),
                figures: BTreeMap::new(),
                markers: Vec::new(),
                end: None,
            }),
            listeners: Mutex::new(Vec::new()),
            pending: Mutex::new(Pending::default()),
        });
        let weak: Weak<Hub> = Arc::downgrade(&hub);
        let spawned = std::thread::Builder::new()
            .name("kmidi-web-hub".to_string())
            .spawn(move || loop {
                std::thread::sleep(TICK);
                match weak.upgrade() {
                    Some(hub) => hub.flush(),
                    None => return,
                }
            });
        if let Err(e) = spawned {
            // Without the thread, batches go out at the end (`flush` in `end`).
            tracing::warn!("web: cannot start the hub's thread: {e}");
        }
        hub
    }

    /// The side labels, once known (compare names its sides after resolving them).
    pub fn set_sides(&self, sides: &[String]) {
        lock(&self.state).sides = sides.to_vec();
    }

    fn since_start_us(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn hello(&self, state: &State, listener: u64) -> Value {
        json!({
            "command": state.command,
            "sides": state.sides.iter().map(|l| json!({"label": l})).collect::<Vec<_>>(),
            "version": env!("CARGO_PKG_VERSION"),
            "listener": listener,
            "queue": self.capacity,
        })
    }

    /// A new page: its queue, and its greeting (hello, then the figures, markers and
    /// end so far, so a page that comes back or opens late shows where the run is).
    pub fn subscribe(&self) -> Listener {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = sync_channel(self.capacity);
        let done = Arc::new(AtomicBool::new(false));
        let state = lock(&self.state);
        let mut greeting = vec![Frame::new("hello", &self.hello(&state, id))];
        greeting.extend(state.figures.values().map(|f| Frame::new("figures", f)));
        greeting.extend(state.markers.iter().map(|m| Frame::new("marker", m)));
        if let Some(end) = &state.end {
            greeting.push(Frame::new("end", end));
        }
        lock(&self.listeners).push(Slot {
            id,
            tx,
            dropped: 0,
            untold: false,
            end_queued: state.end.is_some(),
            done: Arc::clone(&done),
        });
        Listener {
            id,
            rx,
            greeting,
            done,
        }
    }

    /// Queues `event` for every listener, never waiting.
    pub fn broadcast(&self, event: &str, data: &Value) {
        // No page, no framing: a run with --web and nobody listening costs next to
        // nothing.
        if !lock(&self.listeners).is_empty() {
            self.send(&Frame::new(event, data));
        }
    }

    fn send(&self, f: &Frame) {
        let mut listeners = lock(&self.listeners);
        listeners.retain_mut(|slot| offer(slot, f));
    }

    /// `(listener, messages it lost)` of every page listening now.
    pub fn losses(&self) -> Vec<(u64, u64)> {
        lock(&self.listeners)
            .iter()
            .map(|s| (s.id, s.dropped))
            .collect()
    }

    /// A message as the instrument's sinks got it, `at` on the sound's clock.
    pub fn note(&self, at: Duration, bytes: &[u8]) {
        let at_us = u64::try_from(at.as_micros()).unwrap_or(u64::MAX);
        let now = self.since_start_us();
        let mut p = lock(&self.pending);
        // A message at 0 was sent before listening started (compare's pan set-up):
        // it says nothing of where the clock starts.
        if at_us > 0 {
            let t0 = now.saturating_sub(at_us);
            p.t0_us = Some(p.t0_us.map_or(t0, |was| was.min(t0)));
        }
        p.notes.push((at_us, bytes.to_vec()));
    }

    /// A note side `side` heard, with the meter's verdict.
    pub fn heard(&self, side: usize, topic: &str, partition: i32, v: &Verdict) {
        let heard = Heard {
            at_ms: ms(self.since_start_us()),
            topic: topic.to_string(),
            partition,
            latency_ms: v.latency_us.map(ms),
            onset_ms: v.onset_us.map(|o| o as f64 / 1000.0),
            late: v.late,
            reordered: v.reordered,
            duplicate: v.duplicate,
        };
        lock(&self.pending)
            .heard
            .entry(side)
            .or_default()
            .push(heard);
    }

    /// Side `side`'s figures now: kept for late pages and sent at once.
    pub fn figures(&self, side: usize, rows: Value, live: Value) {
        let data = json!({"side": side, "rows": rows, "live": live});
        let mut state = lock(&self.state);
        let f = Frame::new("figures", &data);
        state.figures.insert(side, data);
        self.send(&f);
    }

    /// Marks side `side`'s churn events as the group applies them.
    pub fn watch(&self, side: usize, log: Arc<Mutex<GroupLog>>) {
        lock(&self.pending).groups.push((side, log, 0));
    }

    /// Sends what was gathered since the last time: notes, measures, new markers.
    pub fn flush(&self) {
        let (t0_us, notes, heard, markers) = {
            let mut p = lock(&self.pending);
            let notes = std::mem::take(&mut p.notes);
            let heard = std::mem::take(&mut p.heard);
            let mut markers = Vec::new();
            for (side, log, seen) in p.groups.iter_mut() {
                let log = lock(log);
                for e in log.events.iter().skip(*seen) {
                    let at_us = e.applied_us.saturating_sub(self.started_unix_us);
                    markers.push(json!({"side": side, "at_ms": ms(at_us), "label": e.event}));
                }
                *seen = log.events.len();
            }
            let t0_us = p.t0_us.unwrap_or_else(|| self.since_start_us());
            (t0_us, notes, heard, markers)
        };
        if !notes.is_empty() && !lock(&self.listeners).is_empty() {
            let notes: Vec<Value> = notes
                .iter()
                .map(|(at, bytes)| json!([at, kmidi_midi::sink::hex(bytes)]))
                .collect();
            self.broadcast("notes", &json!({"t0_us": t0_us, "notes": notes}));
        }
        for (side, notes) in heard {
            self.broadcast("measure", &json!({"side": side, "notes": notes}));
        }
        if !markers.is_empty() {
            let mut state = lock(&self.state);
            for m in markers {
                let f = Frame::new("marker", &m);
                state.markers.push(m);
                self.send(&f);
            }
        }
    }

    /// The run ended: sends what is still gathered, then `end` (`data`: the final
    /// figures), kept for pages that come later. Waits at most `grace` for the pages
    /// connected now to have it written out: the command exits right after.
    pub fn end(&self, data: Value, grace: Duration) {
        self.flush();
        let deadline = Instant::now() + grace;
        let f = Frame::new("end", &data);
        lock(&self.state).end = Some(data);
        loop {
            let waiting = {
                let mut listeners = lock(&self.listeners);
                // A full queue takes the end once it drains: offered again until then,
                // not counted as lost.
                listeners.retain_mut(|slot| {
                    if slot.end_queued {
                        return true;
                    }
                    match slot.tx.try_send(f.clone()) {
                        Ok(()) => {
                            slot.end_queued = true;
                            true
                        }
                        Err(TrySendError::Full(_)) => true,
                        Err(TrySendError::Disconnected(_)) => false,
                    }
                });
                listeners.iter().any(|s| !s.done.load(Ordering::SeqCst))
            };
            if !waiting || Instant::now() >= deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// What `/state` answers: hello, the latest figures, the markers, the end.
    pub fn state(&self) -> Value {
        let state = lock(&self.state);
        let mut hello = self.hello(&state, 0);
        hello["listener"] = Value::Null;
        json!({
            "hello": hello,
            "figures": state.figures.values().collect::<Vec<_>>(),
            "markers": state.markers,
            "ended": state.end.is_some(),
            "final": state.end,
        })
    }
}

/// Queues `f` for `slot` if there is room; a full queue counts it as lost. First tells
/// the listener what it lost, once there is room again. False when the page is gone.
fn offer(slot: &mut Slot, f: &Frame) -> bool {
    if slot.untold {
        let told = Frame::new("dropped", &json!({"dropped": slot.dropped}));
        match slot.tx.try_send(told) {
            Ok(()) => slot.untold = false,
            Err(TrySendError::Full(_)) => {
                slot.dropped += 1;
                return true;
            }
            Err(TrySendError::Disconnected(_)) => return false,
        }
    }
    match slot.tx.try_send(f.clone()) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            slot.dropped += 1;
            slot.untold = true;
            true
        }
        Err(TrySendError::Disconnected(_)) => false,
    }
}

#[cfg(test)]
#[path = "hub_tests.rs"]
mod tests;
