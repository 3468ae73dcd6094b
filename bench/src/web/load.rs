//! What `--web` costs the instrument: the same song through a fresh instrument per
//! configuration (no `--web`, the reference; `--web` with 0, 1, N plain SSE
//! listeners), its CPU (utime + stime from /proc, from just before the player starts
//! to a moment after it ends) and peak RSS (VmHWM), and the bytes each listener
//! received over that window.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use kmidi_test_support::free_port;

use super::procs::{recorded, tail, Kmidi};
use super::sse::Listener;
use crate::footprint::{sample, TICKS_PER_SEC};
use crate::transports::create_topic;

/// After the player ends, the last notes still reach the instrument and the page's
/// last batches go out: the window closes this much later.
const DRAIN: Duration = Duration::from_secs(1);
/// The instrument's idle exit, once the window has closed.
const IDLE_EXIT: u32 = 2;

/// One configuration's figures.
pub struct Measured {
    /// `None`: without `--web`; `Some(n)`: with it and `n` listeners.
    pub listeners: Option<usize>,
    pub cpu_s: f64,
    pub peak_kib: u64,
    /// MIDI messages the instrument played (its recording).
    pub played: usize,
    /// From just before the player starts to the end of the drain.
    pub window: Duration,
    /// Bytes each listener received over the window.
    pub bytes: Vec<u64>,
    /// `dropped` events the listeners got (a slow listener's queue overflowed).
    pub dropped: u64,
}

/// Runs the song once through an instrument configured as `listeners` says.
pub fn measure(
    k: &Kmidi,
    song: &Path,
    listeners: Option<usize>,
    settle: Duration,
    limit: Duration,
) -> Result<Measured> {
    let tag = match listeners {
        None => "load-plain".to_string(),
        Some(n) => format!("load-web{n}"),
    };
    let topic = format!("bench-web-{}-{tag}", std::process::id());
    create_topic(k.bootstrap, &topic)?;
    let port = listeners.map(|_| free_port());
    let mut instrument = k.instrument(&topic, &tag, port, IDLE_EXIT)?;
    let mut connected = Vec::new();
    if let (Some(port), Some(n)) = (port, listeners) {
        instrument.wait_web(port, Duration::from_secs(30))?;
        for _ in 0..n {
            connected.push(Listener::connect(port, Duration::from_secs(10))?);
        }
    }
    // Time for the group to assign the partition (the notes would wait on the topic
    // otherwise, and arrive in a burst).
    std::thread::sleep(settle);
    let pid = instrument.pid();
    let gone = || format!("the instrument is gone: {}", tail(&instrument.log));
    let before = sample(pid).with_context(gone)?;
    let bytes_before: Vec<u64> = connected.iter().map(Listener::bytes).collect();
    let started = Instant::now();
    k.play(&topic, song, "1", limit)?;
    std::thread::sleep(DRAIN);
    let after = sample(pid).with_context(gone)?;
    let window = started.elapsed();
    let bytes: Vec<u64> = connected
        .iter()
        .zip(&bytes_before)
        .map(|(l, b)| l.bytes() - b)
        .collect();
    if !instrument.wait_exit(Duration::from_secs(u64::from(IDLE_EXIT) + 30)) {
        bail!(
            "the instrument did not exit by itself: {}",
            tail(&instrument.log)
        );
    }
    let dropped = connected.iter().map(|l| l.events("dropped")).sum();
    drop(connected);
    Ok(Measured {
        listeners,
        cpu_s: after.0.saturating_sub(before.0) as f64 / TICKS_PER_SEC,
        peak_kib: after.2,
        played: recorded(&instrument.record)?,
        window,
        bytes,
        dropped,
    })
}
