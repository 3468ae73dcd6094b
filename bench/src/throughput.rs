//! Benchmark 5: the throughput ceiling of a transport's producer: 10 KB notes sent
//! back to back (no schedule), from the first `send` to the end of `flush`.
//!
//! The notes are encoded before the clock starts, as ProducerPerformance builds its
//! payload before its loop: the figure is the client library's, not JSON's.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use kmidi_transport::Transport;

use crate::memory::note;
use crate::transports::config;

pub const RECORD_SIZE: usize = 10 * 1024;

/// A note whose JSON is exactly `RECORD_SIZE` bytes.
fn record(seq: u64) -> Vec<u8> {
    let bare = note(seq, 0).encode().len();
    let v = note(seq, RECORD_SIZE.saturating_sub(bare)).encode();
    debug_assert_eq!(v.len(), RECORD_SIZE);
    v
}

/// (notes/s, MiB/s) for `n` notes.
pub fn run(t: &dyn Transport, bootstrap: &str, topic: &str, n: u64) -> Result<(f64, f64)> {
    let mut producer = t.producer(&config(bootstrap))?;
    producer.warm_up(topic, Duration::from_secs(10))?;
    let values: Vec<Vec<u8>> = (0..16).map(record).collect();
    // As the player warms up (the engine's perform::warm_up): one record delivered
    // before the clock starts, so every transport starts with its connections, metadata
    // and idempotent producer id in place. `warm_up` alone is not enough: the plugin ABI
    // has no such entry (a plugin's is a no-op), and librdkafka's only loads metadata.
    producer.send(topic, b"bench_song.mid", &values[0])?;
    producer.flush(Duration::from_secs(10))?;
    if let Some(f) = producer.take_failures().first() {
        bail!("the warm-up record was not delivered: {}", f.error);
    }
    let started = Instant::now();
    let mut errors = 0u64;
    for i in 0..n {
        if producer
            .send(topic, b"bench_song.mid", &values[(i % 16) as usize])
            .is_err()
        {
            errors += 1;
        }
    }
    producer.flush(Duration::from_secs(300))?;
    let secs = started.elapsed().as_secs_f64();
    let failures = producer.take_failures();
    if errors > 0 || !failures.is_empty() {
        let first = failures
            .first()
            .map_or("send refused", |f| f.error.as_str());
        bail!(
            "{} of {n} notes were not delivered (first: {first})",
            errors + failures.len() as u64
        );
    }
    let rate = n as f64 / secs;
    Ok((rate, rate * RECORD_SIZE as f64 / (1024.0 * 1024.0)))
}
