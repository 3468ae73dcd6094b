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
    Ok((rate, mib(rate)))
}

/// MiB/s of `rate` notes/s of `RECORD_SIZE` bytes.
pub fn mib(rate: f64) -> f64 {
    rate * RECORD_SIZE as f64 / (1024.0 * 1024.0)
}

/// One transport in the rounds: its name, its client library, its own topic.
pub struct Contender<'a> {
    pub name: String,
    pub transport: &'a dyn Transport,
    pub topic: String,
}

/// What one contender's rounds gave.
#[derive(Default)]
pub struct Rounds {
    /// notes/s of each round, in the order taken.
    pub rates: Vec<f64>,
    /// CPU seconds the whole process used over those rounds (user + system), the
    /// producer's threads being the only busy ones while a round runs.
    pub cpu_secs: f64,
    /// Notes sent over those rounds.
    pub notes: u64,
    /// The error that ended its rounds early, if one did.
    pub error: Option<String>,
}

impl Rounds {
    /// CPU µs per note over the rounds, when the rounds used enough CPU to tell
    /// (/proc counts in 10 ms ticks).
    pub fn cpu_us_per_note(&self) -> Option<f64> {
        (self.notes > 0 && self.cpu_secs >= 0.1).then(|| self.cpu_secs * 1e6 / self.notes as f64)
    }
}

/// `n` notes through every contender, `rounds` times, taking them in turn (A, B, C,
/// A, B, C...): a broker or machine that slows down during the run (the broker's GC,
/// a neighbour's job) then costs every contender alike instead of the one measured at
/// that moment. A contender whose round fails sits out the later rounds.
pub fn rounds(bootstrap: &str, n: u64, rounds: u32, contenders: &[Contender]) -> Vec<Rounds> {
    let mut out: Vec<Rounds> = contenders.iter().map(|_| Rounds::default()).collect();
    let me = std::process::id();
    let ticks = || crate::footprint::sample(me).map_or(0, |(t, _, _)| t);
    for round in 1..=rounds {
        for (c, r) in contenders.iter().zip(out.iter_mut()) {
            if r.error.is_some() {
                continue;
            }
            eprintln!(
                "kafka: {}: throughput x{n} (round {round} of {rounds})",
                c.name
            );
            let before = ticks();
            match run(c.transport, bootstrap, &c.topic, n) {
                Ok((rate, _)) => {
                    r.cpu_secs +=
                        ticks().saturating_sub(before) as f64 / crate::footprint::TICKS_PER_SEC;
                    r.notes += n;
                    r.rates.push(rate);
                }
                Err(err) => {
                    eprintln!("kafka: {}: {err:#}", c.name);
                    r.error = Some(format!("{err:#}"));
                }
            }
        }
    }
    out
}

/// The middle value (the mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// (lowest, highest) of several rounds; `None` for fewer than two, where a range says
/// nothing.
pub fn bounds(rounds: &[f64]) -> Option<(f64, f64)> {
    let lo = rounds.iter().copied().reduce(f64::min)?;
    let hi = rounds.iter().copied().reduce(f64::max)?;
    (rounds.len() > 1).then_some((lo, hi))
}

/// "; rounds MIN–MAX (n=N)" for a contender measured more than once, else nothing.
pub fn spread(rounds: &[f64]) -> String {
    bounds(rounds).map_or(String::new(), |(lo, hi)| {
        format!("; rounds {lo:.0}–{hi:.0} (n={})", rounds.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_odd_count_is_the_middle_round() {
        assert_eq!(median(&[30.0, 10.0, 20.0]), Some(20.0));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[40.0, 10.0, 20.0, 30.0]), Some(25.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn the_spread_is_shown_only_for_several_rounds() {
        assert_eq!(spread(&[5.0]), "");
        assert_eq!(spread(&[7.0, 5.0, 9.4]), "; rounds 5–9 (n=3)");
    }
}
