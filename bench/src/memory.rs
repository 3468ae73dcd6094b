//! Benchmark 3: kmidi's own cost end to end with an in-memory transport (encode JSON →
//! transport → decode → hex → sink), and the plugin boundary's cost alone (part of
//! benchmark 4): the same in-memory transport (testkit) linked in vs loaded as a `.so`.
//!
//! The notes go through kmidi's own engines (`kmidi_engine::session`, as `kmidi demo`
//! runs them) over a channel, into a sink that drops the bytes; latency is what the
//! instrument reports. The reference is the same channel between two bare threads.

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use kmidi_engine::listen;
use kmidi_engine::perform::PlayOptions;
use kmidi_engine::session::{self, Outcome};
use kmidi_engine::wire::{NoteMessage, Played};
use kmidi_engine::Stop;
use kmidi_midi::message::ChannelMessage;
use kmidi_midi::schedule::sleep_until;
use kmidi_midi::score::Score;
use kmidi_midi::sink::{Sink, SinkError};
use kmidi_transport::{
    ClientConfig, Consumer, DeliveryFailure, OffsetReset, Producer, ProducerStats, Record,
    Subscription, Transport, TransportError,
};

use crate::report::{Row, Section, Verdict};
use crate::stats::{histogram, ratio, record, us, Summary};

struct ChanProducer(Sender<Vec<u8>>);
struct ChanConsumer(Receiver<Vec<u8>>);

impl Producer for ChanProducer {
    fn send(&mut self, _topic: &str, _key: &[u8], value: &[u8]) -> Result<(), TransportError> {
        self.0
            .send(value.to_vec())
            .map_err(|_| TransportError::Client("consumer gone".to_string()))
    }
    fn flush(&mut self, _timeout: Duration) -> Result<(), TransportError> {
        Ok(())
    }
    fn take_failures(&mut self) -> Vec<DeliveryFailure> {
        Vec::new()
    }
    fn stats(&self) -> ProducerStats {
        ProducerStats::default()
    }
}

impl Consumer for ChanConsumer {
    fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, TransportError> {
        match self.0.recv_timeout(timeout) {
            Ok(value) => Ok(Some(Record {
                value: Some(value),
                ..Record::default()
            })),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(TransportError::Client("closed".into())),
        }
    }
    fn commit(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

/// A synthesizer that plays nothing.
pub struct NullSink;

impl Sink for NullSink {
    fn send(&mut self, bytes: &[u8], _at: Duration) -> Result<(), SinkError> {
        black_box(bytes);
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
    fn describe(&self) -> String {
        "null sink".to_string()
    }
}

/// A typical note as the player sends it (all measurement fields set).
pub fn note(seq: u64, padding: usize) -> NoteMessage {
    let msg = ChannelMessage::from_bytes(&[0x90, 60 + (seq % 24) as u8, 100])
        .expect("a note-on is a channel message");
    let played = Played {
        run_id: "bench-0123456789",
        pass: 0,
        song: "bench_song.mid",
        seq,
        total: 1_000_000,
        offset: Duration::from_micros(seq * 125_000),
    };
    let mut note = NoteMessage::played(&msg, 0.125, &played);
    note.measure.sent_us = Some(1_700_000_000_000_000 + seq);
    note.extra_payload = "x".repeat(padding);
    note
}

/// What the instrument does with a record: the engine's `decode`, then the sink.
fn play(record: &Record, sink: &mut dyn Sink) -> Result<u64> {
    let (msg, note) =
        listen::decode(record).map_err(|(kind, detail)| anyhow::anyhow!("{kind}: {detail}"))?;
    sink.send(msg.bytes(), Duration::ZERO)?;
    note.measure.seq.context("no seq")
}

/// Plays `score` through `producer` while `consumer` listens, with kmidi's engines as
/// `kmidi demo` runs them (`kmidi_engine::session`), into a sink that drops the bytes.
/// `fifo` puts both engine threads under SCHED_FIFO, and fails if the OS refuses.
pub fn through_engines(
    producer: Box<dyn Producer>,
    consumer: &mut dyn Consumer,
    score: Score,
    topic: &str,
    fifo: bool,
) -> Result<Outcome> {
    let opts = PlayOptions {
        topic: topic.to_string(),
        speed: 1.0,
        record_size: 0,
        repeat: false,
        run_id: "bench".to_string(),
        realtime: fifo,
        observer: None,
        key_by: Default::default(),
    };
    std::thread::scope(|s| {
        s.spawn(move || -> Result<Outcome> {
            if fifo {
                kmidi_engine::realtime::fifo_this_thread()?;
            }
            let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(NullSink)];
            let stop = Stop::new();
            let outcome = session::play_and_listen(
                producer,
                session::Listener {
                    consumer,
                    sinks: &mut sinks,
                    playout_delay: None,
                },
                vec![score],
                opts,
                &stop,
                |_, _| {},
            )?;
            Ok(outcome)
        })
        .join()
        .map_err(|_| anyhow::anyhow!("the listening thread panicked"))?
    })
}

/// The reference: two threads and the same channel moving 8 raw bytes, no encoding,
/// decoding or sink: the cost of the thread hand-off alone. ns.
fn bare_handoff(n: u64, interval: Duration) -> Result<Histogram<u64>> {
    let (tx, rx) = mpsc::channel();
    let base = Instant::now() + Duration::from_millis(10);
    let starts: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
    std::thread::scope(|s| {
        let starts = &starts;
        let player = s.spawn(move || {
            let mut producer = ChanProducer(tx);
            for i in 0..n {
                sleep_until(base + interval * i as u32);
                let t0 = Instant::now();
                starts[i as usize]
                    .store(t0.duration_since(base).as_nanos() as u64, Ordering::Release);
                if producer
                    .send("bench", b"bench_song.mid", &i.to_le_bytes())
                    .is_err()
                {
                    break;
                }
            }
        });
        let mut consumer = ChanConsumer(rx);
        let mut h = histogram();
        let give_up = Instant::now() + interval * n as u32 + Duration::from_secs(10);
        while h.len() < n && Instant::now() < give_up {
            let Some(rec) = consumer.poll(Duration::from_millis(50))? else {
                continue;
            };
            let v = rec.value.as_deref().unwrap_or_default();
            let seq = u64::from_le_bytes(v.try_into().context("8 bytes")?);
            let t1 = Instant::now();
            let t0 = base + Duration::from_nanos(starts[seq as usize].load(Ordering::Acquire));
            record(&mut h, t1.saturating_duration_since(t0).as_nanos());
        }
        let _ = player.join();
        Ok(h)
    })
}

/// kmidi's engines over the same channel: the player's `perform` loop and the
/// instrument's `listen` loop, as in `kmidi demo`. Latency as the instrument reports it
/// (arrival − the player's send time), µs.
fn engines(n: u64, interval: Duration, fifo: bool) -> Result<Histogram<u64>> {
    let (tx, rx) = mpsc::channel();
    let score = crate::song::pulse(n as usize, interval);
    let run = through_engines(
        Box::new(ChanProducer(tx)),
        &mut ChanConsumer(rx),
        score,
        "bench",
        fifo,
    )?;
    if run.listened.played != n {
        bail!("{} of {n} notes were played", run.listened.played);
    }
    Ok(run.listened.meter.latency_us)
}

/// kmidi's CPU work per note on one thread, no hand-off: encode, decode, hex, sink.
fn work_per_note(n: u64) -> Result<Histogram<u64>> {
    let mut h = histogram();
    let mut sink = NullSink;
    for i in 0..n {
        let t0 = Instant::now();
        let rec = Record {
            value: Some(note(i, 0).encode()),
            ..Record::default()
        };
        play(&rec, &mut sink)?;
        record(&mut h, t0.elapsed().as_nanos());
    }
    Ok(h)
}

/// Round trips (send, then poll it back) through `transport`, one thread.
fn round_trips(transport: &dyn Transport, n: u64) -> Result<(Histogram<u64>, f64)> {
    let topic = format!("bench-abi-{}", transport.info().name);
    let config = ClientConfig::new();
    let sub = Subscription {
        topics: vec![topic.clone()],
        group: "bench".to_string(),
        offset_reset: OffsetReset::Latest,
    };
    let mut producer = transport.producer(&config)?;
    let mut consumer = transport.consumer(&config, &sub)?;
    let value = note(0, 0).encode();
    let mut h = histogram();
    let started = Instant::now();
    for _ in 0..n {
        let t0 = Instant::now();
        producer.send(&topic, b"k", &value)?;
        if consumer.poll(Duration::from_secs(1))?.is_none() {
            bail!(
                "{}: a record sent was not polled back",
                transport.info().name
            );
        }
        record(&mut h, t0.elapsed().as_nanos());
    }
    Ok((h, n as f64 / started.elapsed().as_secs_f64()))
}

pub struct Options {
    pub notes: u64,
    /// Also run the pipeline with both threads under SCHED_FIFO.
    pub realtime: bool,
    pub testkit_so: std::path::PathBuf,
    pub command: String,
}

pub fn run(opts: &Options) -> Result<Vec<Section>> {
    let interval = Duration::from_micros(500);
    eprintln!("overhead: in-memory pipeline, {} notes", opts.notes);
    let bare = Summary::of(&bare_handoff(opts.notes, interval)?);
    let full = Summary::of_us(&engines(opts.notes, interval, false)?);
    let fifo = if opts.realtime {
        match engines(opts.notes, interval, true) {
            Ok(h) => Some(Ok(Summary::of_us(&h))),
            Err(e) => Some(Err(e)),
        }
    } else {
        None
    };
    let work = Summary::of(&work_per_note(opts.notes)?);
    let mut own = Section::new(
        "3. kmidi's own overhead (in-memory transport, end to end)",
        &format!(
            "{} notes, one every {} µs, played by kmidi's own engines (`kmidi_engine`: the \
             player's `perform` loop on its scheduler thread, the instrument's `listen` loop \
             with a sink that drops the bytes) over an in-memory channel transport; latency \
             as the instrument reports it (arrival − the player's send time, stamped before \
             the note is encoded). Also kmidi's CPU work per note on one thread (encode, \
             decode, hex, sink; no hand-off).",
            opts.notes,
            interval.as_micros()
        ),
        "the same two threads and channel moving 8 raw bytes with no encoding, decoding \
         or sink: the cost of the thread hand-off alone",
        &opts.command,
    );
    own.rows.push(
        Row::new("end to end p50", "")
            .measured(us(full.p50))
            .reference(us(bare.p50))
            .ratio(ratio(full.p50, bare.p50)),
    );
    own.rows.push(
        Row::new("end to end p99", "≤ 100 µs")
            .measured(us(full.p99))
            .reference(us(bare.p99))
            .ratio(ratio(full.p99, bare.p99))
            .verdict(Verdict::check(full.p99 <= 100.0)),
    );
    match &fifo {
        Some(Ok(f)) => {
            own.rows.push(
                Row::new("end to end p99, both threads SCHED_FIFO", "")
                    .measured(us(f.p99))
                    .reference(format!("{} (SCHED_OTHER)", us(full.p99)))
                    .ratio(ratio(f.p99, full.p99)),
            );
            if f.p99 > full.p99 {
                own.notes.push(format!(
                    "SCHED_FIFO made the tail worse ({} against {}): with a note every {} µs \
                     the scheduler never leaves its final 1.5 ms spin (`sleep_until`), so \
                     under SCHED_FIFO it holds one of the two cores at real-time priority \
                     all the time and the instrument's wake-ups share the other with \
                     everything else. `--realtime` is for the scheduler's precision at \
                     musical rates (section 1), not for two busy threads on two cores.",
                    us(f.p99),
                    us(full.p99),
                    interval.as_micros()
                ));
            }
        }
        Some(Err(e)) => own.notes.push(format!("`--realtime` not applied: {e:#}.")),
        None => {}
    }
    own.rows.push(
        Row::new("end to end max", "")
            .measured(us(full.max))
            .reference(us(bare.max)),
    );
    own.rows.push(
        Row::new("kmidi's work per note (p50 / p99)", "")
            .measured(format!("{} / {}", us(work.p50), us(work.p99)))
            .reference("–"),
    );
    if own.missed() {
        own.notes.push(format!(
            "p99 above 100 µs with the bare hand-off's p99 at {}: the tail is the OS waking \
             the instrument thread on a shared 2-core machine, not kmidi's work (p99 {} per \
             note). Pinning the two threads to cores or SCHED_FIFO would close it.",
            us(bare.p99),
            us(work.p99)
        ));
    }

    eprintln!("overhead: plugin boundary (testkit linked in vs .so)");
    let linked = kmidi_plugin_testkit::TestkitTransport;
    let loaded = kmidi_transport::load_plugin(Path::new(&opts.testkit_so))
        .with_context(|| format!("loading {}", opts.testkit_so.display()))?;
    let (lh, lrate) = round_trips(&linked, opts.notes)?;
    let (ph, prate) = round_trips(&loaded, opts.notes)?;
    let (ls, ps) = (Summary::of(&lh), Summary::of(&ph));
    let mut abi = Section::new(
        "4a. Plugin boundary alone (same in-memory transport, linked in vs .so)",
        &format!(
            "{} round trips (send a note, poll it back) on one thread through kmidi's \
             in-memory test transport (`kmidi-plugin-testkit`), once linked into the \
             binary and once loaded from `{}` through kmidi's plugin loader (C ABI, \
             copies, catch_unwind, watchdog).",
            opts.notes,
            opts.testkit_so.display()
        ),
        "the same transport linked in",
        &opts.command,
    );
    abi.rows.push(
        Row::new("round trip p50", "")
            .measured(us(ps.p50))
            .reference(us(ls.p50))
            .ratio(ratio(ps.p50, ls.p50)),
    );
    abi.rows.push(
        Row::new("round trip p99", "")
            .measured(us(ps.p99))
            .reference(us(ls.p99))
            .ratio(ratio(ps.p99, ls.p99)),
    );
    abi.rows.push(
        Row::new("round trips/s", "")
            .measured(format!("{prate:.0}"))
            .reference(format!("{lrate:.0}"))
            .ratio(ratio(prate, lrate)),
    );
    abi.notes.push(format!(
        "Added by the boundary per note (send + poll): {} at p50, to compare with a \
         Kafka round trip of a millisecond or so (section 2).",
        us(ps.p50 - ls.p50)
    ));
    Ok(vec![own, abi])
}
