//! Benchmark 2: end-to-end latency per transport on a real broker, beside Apache
//! Kafka's EndToEndLatency tool on the same broker in the same run.
//!
//! - ping: the tool's algorithm (produce one record, wait until it is consumed,
//!   repeat), with µs resolution where the tool prints whole milliseconds.
//! - music: open loop, one note every 50 ms, played by kmidi's own engines (the
//!   player's `perform` loop, the instrument's `listen` loop) as `kmidi demo` runs them.
//!
//! Both sides live in this process, so there is no clock skew between the player's
//! send time and the instrument's arrival time.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use kmidi_engine::wire::NoteMessage;
use kmidi_transport::{Consumer, OffsetReset, Producer, Subscription, Transport};

use crate::memory::note;
use crate::stats::{histogram, record};
use crate::transports::config;

/// Pings before measuring: connections, metadata, the producer id and the consumer's
/// first fetch position are set up by these, as the Java tool's JIT warm-up is not.
pub const WARM_PINGS: u64 = 10;

pub struct Clients {
    pub producer: Box<dyn Producer>,
    pub consumer: Box<dyn Consumer>,
}

/// A consumer that has its partitions (when the library has groups) and a producer.
pub fn connect(t: &dyn Transport, bootstrap: &str, topic: &str) -> Result<Clients> {
    let sub = Subscription {
        topics: vec![topic.to_string()],
        group: format!("bench-{topic}"),
        offset_reset: OffsetReset::Latest,
    };
    let mut consumer = t.consumer(&config(bootstrap), &sub)?;
    if t.info().capabilities.consumer_groups {
        let until = Instant::now() + Duration::from_secs(20);
        while consumer.assignment().is_empty() && Instant::now() < until {
            let _ = consumer.poll(Duration::from_millis(50));
        }
    }
    let mut producer = t.producer(&config(bootstrap))?;
    producer
        .warm_up(topic, Duration::from_secs(10))
        .context("warming up the producer")?;
    Ok(Clients { producer, consumer })
}

fn seq_of(value: Option<&[u8]>) -> Option<u64> {
    NoteMessage::decode(value).ok().and_then(|n| n.measure.seq)
}

/// Waits until the record with `seq` is consumed; false if not within `limit`.
fn await_seq(consumer: &mut dyn Consumer, seq: u64, limit: Duration) -> Result<bool> {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        match consumer.poll(Duration::from_millis(100)) {
            Ok(Some(r)) if seq_of(r.value.as_deref()) == Some(seq) => return Ok(true),
            Ok(_) => {}
            Err(e) if e.is_transient() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

/// Closed loop, as EndToEndLatency: send one note, wait until it is consumed, repeat.
pub fn ping(
    c: &mut Clients,
    topic: &str,
    n: u64,
    padding: usize,
    first: u64,
) -> Result<Histogram<u64>> {
    let mut h = histogram();
    for i in first..first + WARM_PINGS + n {
        let value = note(i, padding).encode();
        let t0 = Instant::now();
        c.producer.send(topic, b"bench_song.mid", &value)?;
        let got = await_seq(c.consumer.as_mut(), i, Duration::from_secs(10))?;
        let elapsed = t0.elapsed();
        if i >= first + WARM_PINGS {
            if !got {
                bail!("ping {i} not consumed within 10 s");
            }
            record(&mut h, elapsed.as_nanos());
        }
    }
    Ok(h)
}

/// Open loop, as the player plays: a note every `interval`, through kmidi's own engines
/// (`perform` → transport → `listen`). Returns the instrument's latency histogram (µs)
/// and how many notes never arrived.
pub fn music(c: Clients, topic: &str, n: u64, interval: Duration) -> Result<(Histogram<u64>, u64)> {
    let Clients {
        producer,
        mut consumer,
    } = c;
    let score = crate::song::pulse(n as usize, interval);
    let run = crate::memory::through_engines(producer, consumer.as_mut(), score, topic, false)?;
    let lost = n.saturating_sub(run.listened.played);
    Ok((run.listened.meter.latency_us, lost))
}
