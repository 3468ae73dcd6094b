//! Doing one step: resolving its broker, saying what will happen, doing it, putting the
//! broker back and waiting until every partition has a leader and a full ISR again.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kmidi_engine::measure::unix_us;
use kmidi_lab::fault::{not_full, BrokerDriver, ExecRun};
use kmidi_lab::{FaultAction, FaultStep, Target};
use kmidi_transport::{Admin, Leadership};

use super::record::{ExecRecord, RollingBroker, StepRecord};

/// How often the leadership is read while waiting for a full ISR.
const ISR_POLL: Duration = Duration::from_millis(250);
/// One leadership reading's bound.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How much longer an ISR wait goes on once kmidi is stopping.
const STOPPING_GRACE: Duration = Duration::from_secs(10);

/// What every step shares.
pub struct Ctx {
    pub steps: Vec<FaultStep>,
    pub driver: Option<Arc<dyn BrokerDriver>>,
    pub commands: BTreeMap<String, String>,
    pub admin: Option<Mutex<Box<dyn Admin>>>,
    /// The music topics; `leader-of` is read on the first.
    pub topics: Vec<String>,
    pub speed: f64,
    /// Held by a broker step from its action until the cluster is whole again: one at
    /// a time, so a step never restarts a broker another is still bringing back.
    pub cluster: Mutex<()>,
}

impl Ctx {
    fn read(&self, topic: &str) -> Result<Leadership, String> {
        let admin = self
            .admin
            .as_ref()
            .ok_or("the transport has no admin client to read leaders with")?;
        let admin = admin.lock().map_err(|_| "the admin client's lock")?;
        admin
            .partition_leaders(topic, READ_TIMEOUT)
            .map_err(|e| e.to_string())
    }

    /// Topic -> partition -> leader, where known.
    fn leaders(&self) -> BTreeMap<String, BTreeMap<i32, i32>> {
        self.topics
            .iter()
            .filter_map(|t| {
                let l = self.read(t).ok().filter(|l| l.known)?;
                let map = l
                    .partitions
                    .iter()
                    .filter_map(|p| Some((p.partition, p.leader?)))
                    .collect();
                Some((t.clone(), map))
            })
            .collect()
    }

    /// Waits until every topic is whole, at most `limit` (and [`STOPPING_GRACE`] once
    /// `stop` is set); the song time it was whole at, or why it never was.
    fn wait_full_isr(
        &self,
        limit: Duration,
        stop: &AtomicBool,
        song_s: &dyn Fn() -> f64,
    ) -> Result<f64, String> {
        let begun = Instant::now();
        let mut stopping: Option<Instant> = None;
        loop {
            let mut missing = Vec::new();
            for t in &self.topics {
                match self.read(t) {
                    Ok(l) => missing.extend(not_full(&l).into_iter().map(|m| format!("{t}[{m}]"))),
                    Err(e) => missing.push(format!("{t}: {e}")),
                }
            }
            if missing.is_empty() {
                return Ok(song_s());
            }
            if stop.load(Ordering::Relaxed) && stopping.is_none() {
                stopping = Some(Instant::now());
            }
            if begun.elapsed() >= limit || stopping.is_some_and(|s| s.elapsed() >= STOPPING_GRACE) {
                return Err(format!(
                    "no full ISR within {:.0} s: {}",
                    begun.elapsed().as_secs_f64(),
                    missing.join(", ")
                ));
            }
            std::thread::sleep(ISR_POLL);
        }
    }
}

/// Sleeps `d`, waking early when `stop` is set.
fn hold(d: Duration, stop: &AtomicBool) {
    let until = Instant::now() + d;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
    }
}

/// Runs step `i` now; `start_us` is the song's start.
pub fn perform(ctx: &Ctx, i: usize, start_us: u64, stop: &AtomicBool) -> StepRecord {
    let step = &ctx.steps[i];
    let mut r = StepRecord::new(i, step);
    let song_s = move || (unix_us() as f64 - start_us as f64) / 1e6;
    let say = |what: &str| eprintln!("faults: {}: {what}", step);
    r.leaders = ctx.leaders();
    if let FaultAction::Exec { name, timeout } = &step.action {
        let Some(command) = ctx.commands.get(name) else {
            r.fail(format!("no --exec {name}=CMD"));
            return r;
        };
        say(&format!(
            "running sh -c '{command}' (at most {} s)",
            timeout.as_secs_f64()
        ));
        r.started_s = Some(song_s());
        match ExecRun::start(command) {
            Ok(run) => {
                let outcome = run.wait(*timeout, stop);
                say(&format!(
                    "{} after {:.1} s",
                    outcome.ended, outcome.elapsed_s
                ));
                r.outcome = "done";
                r.actions
                    .push(format!("sh -c '{command}': {}", outcome.ended));
                r.exec = Some(ExecRecord {
                    name: name.clone(),
                    command: command.clone(),
                    outcome,
                });
            }
            Err(e) => r.fail(format!("sh -c '{command}': {e}")),
        }
        r.restored_s = Some(song_s());
        r.ended_s = r.restored_s;
        return r;
    }
    let Some(driver) = ctx.driver.as_deref() else {
        r.fail("no --fault-driver");
        return r;
    };
    let _turn = match ctx.cluster.try_lock() {
        Ok(turn) => turn,
        Err(_) => {
            say("waits for the broker step before it to end");
            let turn = ctx.cluster.lock().unwrap_or_else(|e| e.into_inner());
            if stop.load(Ordering::Relaxed) {
                r.reason = Some("kmidi stopped before its turn".into());
                return r;
            }
            r.leaders = ctx.leaders();
            turn
        }
    };
    let broker = match step.target() {
        None => None,
        Some(Target::Broker(b)) => Some(b),
        Some(Target::LeaderOf(p)) => {
            let topic = ctx.topics.first().map(String::as_str).unwrap_or_default();
            match r.leaders.get(topic).and_then(|m| m.get(&p)) {
                Some(b) => Some(*b),
                None => {
                    r.fail(format!(
                        "partition {p} of {topic} has no leader kmidi can read"
                    ));
                    return r;
                }
            }
        }
    };
    r.broker = broker;
    r.broker_name = broker.map(|b| driver.name(b));
    let scaled = |d: Duration| d.mul_f64(ctx.speed);
    let done = |r: &mut StepRecord, what: Result<String, kmidi_lab::fault::FaultError>| match what {
        Ok(w) => {
            say(&w);
            r.actions.push(w);
            true
        }
        Err(e) => {
            say(&format!("failed: {e}"));
            r.fail(e.to_string());
            false
        }
    };
    let target = || match (step.target(), broker) {
        (Some(Target::LeaderOf(p)), Some(b)) => format!(
            "broker {b}, the leader of partition {p} of {}",
            ctx.topics.first().map(String::as_str).unwrap_or("?")
        ),
        (_, Some(b)) => format!("broker {b}"),
        _ => String::new(),
    };
    let mut wait_isr = true;
    match (&step.action, broker) {
        (FaultAction::Kill { down_for, .. }, Some(b)) => {
            say(&format!(
                "SIGKILL {} ({}), {}",
                target(),
                driver.name(b),
                match down_for {
                    Some(d) => format!("started again after {} s", scaled(*d).as_secs_f64()),
                    None => "left down until kmidi exits".into(),
                }
            ));
            r.started_s = Some(song_s());
            if done(&mut r, driver.kill(b)) {
                match down_for {
                    Some(d) => {
                        hold(scaled(*d), stop);
                        done(&mut r, driver.start(b));
                        r.restored_s = Some(song_s());
                    }
                    None => wait_isr = false,
                }
            }
        }
        (FaultAction::Pause { paused_for, .. }, Some(b)) => {
            let d = scaled(*paused_for);
            say(&format!(
                "SIGSTOP {} ({}) for {} s, then SIGCONT",
                target(),
                driver.name(b),
                d.as_secs_f64()
            ));
            r.started_s = Some(song_s());
            if done(&mut r, driver.pause(b, d)) {
                hold(d, stop);
                done(&mut r, driver.unpause(b));
                r.restored_s = Some(song_s());
            }
        }
        (FaultAction::Restart { .. }, Some(b)) => {
            say(&format!("restarting {} ({})", target(), driver.name(b)));
            r.started_s = Some(song_s());
            done(&mut r, driver.restart(b));
            r.restored_s = Some(song_s());
        }
        (FaultAction::RollingRestart, _) => {
            let brokers = driver.brokers();
            say(&format!(
                "restarting brokers {brokers:?} in turn, each once the ISR is full again \
                 (at most {} s each)",
                step.wait_isr.as_secs_f64()
            ));
            r.started_s = Some(song_s());
            for b in brokers {
                if stop.load(Ordering::Relaxed) {
                    r.fail(format!("kmidi stopped before broker {b} was restarted"));
                    break;
                }
                let started_s = song_s();
                let ok = done(&mut r, driver.restart(b));
                let restored_s = Some(song_s());
                let full = ctx.wait_full_isr(step.wait_isr, stop, &song_s);
                r.rolling.push(RollingBroker {
                    broker: b,
                    started_s,
                    restored_s,
                    full_isr_s: full.as_ref().ok().copied(),
                });
                if let Err(why) = full {
                    say(&format!("broker {b}: {why}; the roll stops here"));
                    r.fail(format!("broker {b}: {why}"));
                    break;
                }
                if !ok {
                    break;
                }
            }
            r.restored_s = Some(song_s());
            wait_isr = false;
            if r.outcome != "failed" {
                r.full_isr_s = r.rolling.last().and_then(|b| b.full_isr_s);
            }
        }
        _ => {
            r.fail("no broker to act on");
            return r;
        }
    }
    if r.outcome == "failed" && r.rolling.is_empty() {
        r.ended_s = Some(song_s());
        return r;
    }
    r.outcome = if r.outcome == "failed" {
        "failed"
    } else {
        "done"
    };
    if wait_isr {
        match ctx.wait_full_isr(step.wait_isr, stop, &song_s) {
            Ok(at) => {
                r.full_isr_s = Some(at);
                say(&format!(
                    "every partition has a leader and a full ISR again at {at:.1} s"
                ));
            }
            Err(why) => {
                say(&why);
                r.reason = Some(why);
            }
        }
    }
    r.time_to_full_isr_s = r.full_isr_s.zip(r.started_s).map(|(f, s)| f - s);
    r.ended_s = Some(r.full_isr_s.unwrap_or_else(song_s));
    r
}
