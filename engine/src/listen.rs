//! The instrument's engine: polls the consumer, decodes each record, plays its `hex`
//! to every sink the moment it arrives, and counts what it could not play by kind.
//! Whatever happens, it ends by silencing all 16 channels so no note hangs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::wire::NoteMessage;
use kmidi_midi::message::{silence_all_channels, ChannelMessage, MessageError};
use kmidi_midi::schedule::sleep_until;
use kmidi_midi::sink::Sink;
use kmidi_transport::{Consumer, Record, TransportError};

pub use crate::heard::{ListenReport, Live, LiveFigures, PlayoutFigures};
use crate::measure;
use crate::observe::Observer;
use crate::playout::Playout;
use crate::stop::Stop;

pub struct ListenOptions {
    /// Stop after this long without a record, counted from the last record, or from
    /// the moment `target` became known if that is later (so a session whose notes
    /// never arrive still ends).
    pub idle_exit: Option<Duration>,
    /// Count `idle_exit` only once `target` is known: a session's player may be silent
    /// longer than that mid-song (a leader failover with acks=all stalls it for
    /// seconds), and the song is not over until the player says so.
    pub idle_after_target: bool,
    pub max_messages: Option<u64>,
    /// Stop once this many records were handled (set by a session once its player is
    /// done, see `session`; `u64::MAX` = not known).
    pub target: Arc<AtomicU64>,
    /// Told of every note heard and record skipped, and of the figures a few times a
    /// second.
    pub observer: Option<Arc<dyn Observer>>,
    /// Play each note this long after where the score puts it (a jitter buffer, see
    /// `playout`) instead of the moment it arrives.
    pub playout_delay: Option<Duration>,
    /// Set once the player's warm-up record is heard: in a session the player waits
    /// for it, so the consumer's position is resolved before the first note is sent.
    pub warm_up_seen: Option<Arc<AtomicBool>>,
}

/// How often the live figures are refreshed.
const LIVE_EVERY: Duration = Duration::from_millis(250);
const POLL: Duration = Duration::from_millis(50);
/// A buffered note due within this is waited for precisely rather than polled past.
const PLAYOUT_SPIN: Duration = Duration::from_millis(2);

/// Every kind of bad record [`decode`] names: counted per kind, and exported at 0 before
/// the first one so a dashboard shows 0 rather than "no data".
pub const BAD_RECORD_KINDS: &[&str] = &[
    "null_value",
    "not_json",
    "missing_hex",
    "invalid_hex",
    "not_channel_message",
];

fn classify(err: &MessageError) -> &'static str {
    match err {
        MessageError::Empty | MessageError::NotHex(_) => "invalid_hex",
        _ => "not_channel_message",
    }
}

/// Decodes one record into the message to play, or the kind of garbage it is.
pub fn decode(record: &Record) -> Result<(ChannelMessage, NoteMessage), (&'static str, String)> {
    let note =
        NoteMessage::decode(record.value.as_deref()).map_err(|e| (e.kind(), e.to_string()))?;
    let msg = ChannelMessage::from_hex(&note.hex).map_err(|e| (classify(&e), e.to_string()))?;
    Ok((msg, note))
}

pub fn listen(
    consumer: &mut dyn Consumer,
    sinks: &mut [Box<dyn Sink>],
    opts: &ListenOptions,
    stop: &Stop,
    live: &Live,
) -> ListenReport {
    let mut report = ListenReport::default();
    let mut playout = opts.playout_delay.map(Playout::new);
    let started = Instant::now();
    let mut last_arrival: Option<Instant> = None;
    let mut target_known: Option<Instant> = None;
    let mut handled = 0u64;
    let mut shown = Instant::now();
    // A transient error and no record since: the broker may be gone right now.
    let mut broker_in_doubt = false;
    loop {
        if shown.elapsed() >= LIVE_EVERY {
            shown = Instant::now();
            // The assignment log already reads the consumer's assignment every 100 ms:
            // its latest entry, rather than asking the client library again.
            let assigned = consumer.reports_assignment().then(|| {
                report
                    .assignments
                    .history
                    .last()
                    .map_or(0, |a| a.partitions.len())
            });
            if let Ok(mut figures) = live.figures.lock() {
                *figures = Some(LiveFigures::of(&report, assigned, started.elapsed()));
            }
            if let Some(o) = &opts.observer {
                o.live(&report);
            }
        }
        if stop.requested() {
            report.interrupted = true;
            break;
        }
        report.assignments.check(&*consumer, started);
        let target = opts.target.load(Ordering::Relaxed);
        if handled >= target || opts.max_messages.is_some_and(|m| report.played >= m) {
            break;
        }
        if target != u64::MAX && target_known.is_none() {
            target_known = Some(Instant::now());
        }
        let quiet_since = match (last_arrival, target_known) {
            (Some(a), Some(t)) => Some(a.max(t)),
            (_, None) if opts.idle_after_target => None,
            (a, t) => a.or(t),
        };
        if let (Some(idle), Some(since)) = (opts.idle_exit, quiet_since) {
            if since.elapsed() >= idle {
                break;
            }
        }
        let mut timeout = POLL;
        if let Some(p) = playout.as_mut() {
            play_due(p, sinks, started, &mut report);
            if let Some(due) = p.next_due() {
                let until = due.saturating_duration_since(Instant::now());
                if until <= PLAYOUT_SPIN {
                    // Close enough that a poll could overshoot it: wait precisely.
                    sleep_until(due);
                    continue;
                }
                timeout = timeout.min(until - PLAYOUT_SPIN);
            }
        }
        let record = match consumer.poll(timeout) {
            Ok(Some(r)) => {
                broker_in_doubt = false;
                r
            }
            Ok(None) => continue,
            Err(err) if err.is_transient() => {
                report.transient_errors += 1;
                broker_in_doubt = true;
                if let Some(o) = &opts.observer {
                    o.transient_error();
                }
                // A client that retries every poll would flood the terminal: the first
                // few, then one in a hundred, with the count.
                let n = report.transient_errors;
                if n <= 3 || n.is_multiple_of(100) {
                    tracing::warn!("consumer: {err} (retrying; {n} transient error(s) so far)");
                }
                continue;
            }
            Err(err) => {
                report.fatal = Some(err.to_string());
                break;
            }
        };
        let arrived = Instant::now();
        let arrived_wall = measure::unix_us();
        last_arrival = Some(arrived);
        match decode(&record) {
            // The player's warm-up: nothing to play or to measure, and not one of the
            // notes the player counts as sent.
            Ok((_, note)) if note.measure.warmup => {
                if let Some(seen) = &opts.warm_up_seen {
                    seen.store(true, Ordering::Relaxed);
                }
            }
            Ok((msg, note)) => {
                handled += 1;
                match playout.as_mut() {
                    Some(p) => {
                        let (_, missed) = p.schedule(
                            arrived,
                            &note.measure,
                            &record.topic,
                            record.partition,
                            msg.bytes(),
                        );
                        if missed {
                            if let Some(o) = &opts.observer {
                                o.missed_deadline(&record.topic, record.partition);
                            }
                        }
                    }
                    None => play(
                        sinks,
                        msg.bytes(),
                        arrived.duration_since(started),
                        &mut report,
                    ),
                }
                report.played += 1;
                let verdict = report.meter.observe(
                    arrived,
                    arrived_wall,
                    &record.topic,
                    record.partition,
                    &note.measure,
                );
                if let Some(o) = &opts.observer {
                    o.heard(&record.topic, record.partition, &verdict);
                    o.processed(&record.topic, arrived.elapsed().as_micros() as u64);
                }
            }
            Err((kind, detail)) => {
                handled += 1;
                if let Some(o) = &opts.observer {
                    o.bad_record(&record.topic, record.partition, kind);
                }
                let count = report.bad.entry(kind).or_default();
                *count += 1;
                if *count == 1 {
                    tracing::warn!(
                        "skipping a bad record ({kind}) at {}[{}]@{}: {detail}; \
                         further records of this kind are counted, not logged",
                        record.topic,
                        record.partition,
                        record.offset
                    );
                }
            }
        }
    }
    if let Some(mut p) = playout {
        // What is still buffered was heard in time: play it at its time, unless the
        // user asked to stop.
        while !report.interrupted && !stop.requested() {
            let Some(due) = p.next_due() else { break };
            sleep_until(due);
            play_due(&mut p, sinks, started, &mut report);
        }
        report.playout = Some(PlayoutFigures {
            delay: p.delay(),
            missed: std::mem::take(&mut p.missed),
        });
    }
    report.listened = started.elapsed();
    report.meter.finish();
    silence(sinks, started.elapsed());
    // rdkafka's synchronous commit waits for the group coordinator with no bound (90 s
    // with the broker down, in tests), and the recording is written only after this
    // returns. After Ctrl-C or SIGTERM with the broker in doubt, stop now: rdkafka
    // still commits by its periodic auto-commit, and a replay is better than a hang.
    if !(report.interrupted && broker_in_doubt) {
        match consumer.commit() {
            Ok(()) => {}
            // A library without commits is said once by `kmidi transports`, not here.
            Err(TransportError::Unsupported { .. }) => {}
            Err(err) => tracing::warn!(
                "final commit: {err} (an instrument restarted in this group may replay notes)"
            ),
        }
    }
    report
}

/// Plays one message to every sink, `at` after listening started.
fn play(sinks: &mut [Box<dyn Sink>], bytes: &[u8], at: Duration, report: &mut ListenReport) {
    for sink in sinks.iter_mut() {
        if let Err(err) = sink.send(bytes, at) {
            report.sink_errors += 1;
            if report.sink_errors <= 3 {
                tracing::warn!("{}: {err}", sink.describe());
            }
        }
    }
}

/// Plays every buffered note whose playout time has come.
fn play_due(
    p: &mut Playout,
    sinks: &mut [Box<dyn Sink>],
    started: Instant,
    report: &mut ListenReport,
) {
    while let Some((at, bytes)) = p.pop_due(Instant::now()) {
        play(sinks, &bytes, at.saturating_duration_since(started), report);
    }
}

/// All Notes Off, sustain off and Reset All Controllers on every channel of every sink.
pub fn silence(sinks: &mut [Box<dyn Sink>], at: Duration) {
    for sink in sinks.iter_mut() {
        for msg in silence_all_channels() {
            if let Err(err) = sink.send(msg.bytes(), at) {
                tracing::warn!("{}: could not silence: {err}", sink.describe());
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(value: Option<&[u8]>) -> Record {
        Record {
            value: value.map(<[u8]>::to_vec),
            ..Record::default()
        }
    }

    #[test]
    fn garbage_records_are_classified_by_kind() {
        let kind = |v: Option<&[u8]>| decode(&rec(v)).err().map(|(k, _)| k);
        assert_eq!(kind(None), Some("null_value"));
        assert_eq!(kind(Some(b"hello")), Some("not_json"));
        assert_eq!(kind(Some(br#"{"note": 1}"#)), Some("missing_hex"));
        assert_eq!(kind(Some(br#"{"hex": "zz"}"#)), Some("invalid_hex"));
        assert_eq!(
            kind(Some(br#"{"hex": "F0 7E F7"}"#)),
            Some("not_channel_message")
        );
        assert_eq!(kind(Some(br#"{"hex": "90 3C 40"}"#)), None);
        for v in [None, Some(&b"hello"[..]), Some(br#"{"hex": "zz"}"#)] {
            let k = kind(v).unwrap();
            assert!(BAD_RECORD_KINDS.contains(&k), "{k} is not listed");
        }
    }
}
