//! The player's engine: sends every message of every song at its absolute deadline,
//! from one dedicated thread, and measures how late each hand-off to the transport was.
//!
//! Deadlines come from the song's start (`SongClock`), never from summed deltas, so an
//! early slow send does not delay the rest of the song. Everything that can be prepared
//! before a deadline (payload, padding) is prepared before waiting for it.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::wire::{Measure, NoteMessage, Played};
use hdrhistogram::Histogram;

use kmidi_midi::message::ChannelMessage;
use kmidi_midi::schedule::{sleep_until, SongClock};
use kmidi_midi::score::Score;
use kmidi_transport::Producer;
use rand::distr::{Alphanumeric, SampleString};

use crate::measure;
use crate::observe::Observer;
use crate::stop::Stop;

pub struct PlayOptions {
    pub topic: String,
    pub speed: f64,
    pub record_size: usize,
    pub repeat: bool,
    pub run_id: String,
    /// Run the scheduler thread under SCHED_FIFO where the OS permits it.
    pub realtime: bool,
    /// Told of every note sent and every delivery failure (and, in a session, of what
    /// the instrument hears).
    pub observer: Option<Arc<dyn Observer>>,
    /// What each note's Kafka key is, and so which partition it goes to.
    pub key_by: KeyBy,
}

/// The Kafka key of a note.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyBy {
    /// The MIDI file's name, as the original kmidi: a song is one partition, in order.
    #[default]
    Song,
    /// `SONG/PITCH` for notes (`SONG` for other messages): a song spreads over the
    /// topic's partitions while each pitch's note-on and note-off stay on one
    /// partition, in order, so no note hangs. What a consumer group needs to be heard
    /// sharing the work.
    Pitch,
    /// `SONG/vN`: each note-on takes the next of [`VOICES`] keys in turn and its
    /// note-off follows it, so every partition carries a steady share of the song
    /// (pitches cluster, voices do not) and no note can hang.
    Voice,
}

/// Keys `KeyBy::Voice` deals out.
pub const VOICES: usize = 64;

/// Which voice key each sounding note took, for its note-off.
#[derive(Default)]
struct Voices {
    next: usize,
    sounding: std::collections::HashMap<(u8, u8), usize>,
}

impl Voices {
    fn key<'a>(&mut self, song: &'a Score, message: &ChannelMessage) -> Cow<'a, str> {
        let Some(pitch) = message.note() else {
            return Cow::Borrowed(&song.name);
        };
        let slot = (message.channel(), pitch);
        let voice = if message.is_note_on_sounding() {
            let v = self.next;
            self.next = (self.next + 1) % VOICES;
            self.sounding.insert(slot, v);
            v
        } else {
            self.sounding.remove(&slot).unwrap_or(0)
        };
        Cow::Owned(format!("{}/v{voice}", song.name))
    }
}

impl KeyBy {
    /// Borrowed for `Song`: no allocation per note on the scheduler's thread.
    fn key<'a>(
        self,
        voices: &mut Voices,
        song: &'a Score,
        message: &ChannelMessage,
    ) -> Cow<'a, str> {
        match (self, message.note()) {
            (KeyBy::Pitch, Some(pitch)) => Cow::Owned(format!("{}/{pitch}", song.name)),
            (KeyBy::Voice, Some(_)) => voices.key(song, message),
            _ => Cow::Borrowed(&song.name),
        }
    }
}

/// What the progress display reads while the engine plays.
#[derive(Default)]
pub struct Progress {
    pub song: Mutex<String>,
    pub song_index: AtomicUsize,
    /// Scheduled position in the current song and its length, ms (after speed).
    pub position_ms: AtomicU64,
    pub length_ms: AtomicU64,
    pub sent: AtomicU64,
    /// In a session: set once the instrument heard the warm-up record. The player
    /// waits for it (at most [`LISTENER_WAIT`]) before the first note: a consumer
    /// starting from `latest` whose position was not resolved yet would miss it.
    pub listener_ready: Option<Arc<AtomicBool>>,
}

/// How long the player of a session waits for its instrument to hear the warm-up.
pub const LISTENER_WAIT: Duration = Duration::from_secs(3);

pub struct PlayReport {
    pub sent: u64,
    pub send_errors: u64,
    pub delivery_failures: u64,
    /// Hand-off time minus deadline, µs.
    pub lateness_us: Histogram<u64>,
    /// The last note's lateness, µs: a loop that drifts shows it here.
    pub last_lateness_us: Option<u64>,
    pub interrupted: bool,
}

impl PlayReport {
    fn new() -> Self {
        Self {
            sent: 0,
            send_errors: 0,
            delivery_failures: 0,
            lateness_us: measure::histogram(),
            last_lateness_us: None,
            interrupted: false,
        }
    }
}

/// Lead time before a song's first note, so the first deadline is not already past.
const LEAD: Duration = Duration::from_millis(20);
/// While a deadline is further than this, sleep in slices and watch for Ctrl-C.
const WATCH_SLICE: Duration = Duration::from_millis(20);

/// Waits for `deadline` unless a stop is requested first; true if the deadline came.
fn wait_for(deadline: Instant, stop: &Stop) -> bool {
    loop {
        if stop.requested() {
            return false;
        }
        let now = Instant::now();
        if deadline <= now + WATCH_SLICE {
            sleep_until(deadline);
            return true;
        }
        std::thread::sleep(deadline - now - WATCH_SLICE);
    }
}

/// How long the player waits for its warm-up record before starting anyway.
const WARM_UP_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends one inaudible record and waits for its delivery, so connections, metadata and
/// the idempotent producer's id are in place before the first note's deadline. Without
/// it the first notes of a run queue up behind that set-up and arrive in a burst.
fn warm_up(producer: &mut dyn Producer, topic: &str, key: &str, run_id: &str) {
    let note = NoteMessage {
        kind: "note_off".to_string(),
        note: Some(0),
        velocity: Some(0),
        hex: "80 00 00".to_string(),
        measure: Measure {
            run: Some(run_id.to_string()),
            warmup: true,
            ..Measure::default()
        },
        ..NoteMessage::default()
    };
    let result = producer
        .warm_up(topic, WARM_UP_TIMEOUT)
        .and_then(|()| producer.send(topic, key.as_bytes(), &note.encode()))
        .and_then(|()| producer.flush(WARM_UP_TIMEOUT));
    if let Err(err) = result {
        tracing::warn!("warming up the producer: {err}; starting anyway");
    }
    // The warm-up is not a note: its fate must not count as one's.
    for failure in producer.take_failures() {
        tracing::warn!(
            "the warm-up record was not delivered: {}; starting anyway",
            failure.error
        );
    }
}

/// Where a note stands in a run: which pass over the songs, and which note of its song.
#[derive(Clone, Copy, Debug)]
pub struct Position {
    pub pass: u64,
    pub seq: usize,
}

/// The wire message for note `at.seq` of `song` in pass `at.pass`, `offset` after the
/// song's start (after speed), without padding or send time.
pub fn note_of(song: &Score, at: Position, offset: Duration, run_id: &str) -> NoteMessage {
    let event = &song.events[at.seq];
    let played = Played {
        run_id,
        pass: at.pass,
        song: &song.name,
        seq: at.seq as u64,
        total: song.events.len() as u64,
        offset,
    };
    NoteMessage::played(&event.message, event.delta, &played)
}

/// Plays `songs` through `producer`; returns when they are done (or looped until a
/// stop) or when `stop` is requested. Does not flush.
pub fn perform(
    producer: &mut dyn Producer,
    songs: &[Score],
    opts: &PlayOptions,
    stop: &Stop,
    progress: &Progress,
) -> PlayReport {
    let mut report = PlayReport::new();
    let mut rng = rand::rng();
    if let Some(first) = songs.first() {
        warm_up(producer, &opts.topic, &first.name, &opts.run_id);
        if let Some(ready) = &progress.listener_ready {
            let until = Instant::now() + LISTENER_WAIT;
            while !ready.load(Ordering::Relaxed) && Instant::now() < until && !stop.requested() {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
    let mut pass = 0u64;
    let mut voices = Voices::default();
    'outer: loop {
        for (index, song) in songs.iter().enumerate() {
            if let Ok(mut name) = progress.song.lock() {
                name.clone_from(&song.name);
            }
            progress.song_index.store(index, Ordering::Relaxed);
            let clock = SongClock::new(Instant::now() + LEAD, opts.speed);
            progress.length_ms.store(
                clock.offset(song.duration()).as_millis() as u64,
                Ordering::Relaxed,
            );
            for (seq, event) in song.events.iter().enumerate() {
                let at = Position { pass, seq };
                let mut note = note_of(song, at, clock.offset(event.at), &opts.run_id);
                if opts.record_size > 0 {
                    note.extra_payload = Alphanumeric.sample_string(&mut rng, opts.record_size);
                }
                let deadline = clock.deadline(event.at);
                if !wait_for(deadline, stop) {
                    report.interrupted = true;
                    break 'outer;
                }
                let handed = Instant::now();
                note.measure.sent_us = Some(measure::unix_us());
                let lateness = handed.saturating_duration_since(deadline).as_micros() as u64;
                let _ = report.lateness_us.record(lateness.max(1));
                report.last_lateness_us = Some(lateness);
                let key = opts.key_by.key(&mut voices, song, &event.message);
                let sent = producer.send(&opts.topic, key.as_bytes(), &note.encode());
                if let Some(o) = &opts.observer {
                    o.sent(&opts.topic, lateness, sent.is_ok());
                }
                match sent {
                    Ok(()) => report.sent += 1,
                    Err(err) => {
                        report.send_errors += 1;
                        if report.send_errors <= 3 {
                            tracing::warn!("note {seq} of {} not sent: {err}", song.name);
                        }
                    }
                }
                progress.sent.fetch_add(1, Ordering::Relaxed);
                progress
                    .position_ms
                    .store(clock.offset(event.at).as_millis() as u64, Ordering::Relaxed);
                count_failures(producer, &mut report, opts.observer.as_deref());
            }
        }
        if !opts.repeat || stop.requested() {
            break;
        }
        pass += 1;
    }
    count_failures(producer, &mut report, opts.observer.as_deref());
    report
}

/// Moves delivery failures from the transport into the report, warning about the
/// first few: losing a note must never be silent.
pub fn count_failures(
    producer: &mut dyn Producer,
    report: &mut PlayReport,
    observer: Option<&dyn Observer>,
) {
    for failure in producer.take_failures() {
        report.delivery_failures += 1;
        if let Some(o) = observer {
            o.delivery_failed(&failure.topic);
        }
        if report.delivery_failures <= 3 {
            tracing::warn!(
                "a note to {} was not delivered: {}",
                failure.topic,
                failure.error
            );
        }
    }
}

/// Runs [`perform`] on a dedicated thread and flushes at the end, bounded by
/// `flush_timeout` (also after Ctrl-C). Returns the report and the flush outcome.
pub fn spawn(
    mut producer: Box<dyn Producer>,
    songs: Vec<Score>,
    opts: PlayOptions,
    stop: Stop,
    progress: Arc<Progress>,
    flush_timeout: Duration,
) -> std::io::Result<std::thread::JoinHandle<(PlayReport, Result<(), String>)>> {
    std::thread::Builder::new()
        .name("kmidi-scheduler".to_string())
        .spawn(move || {
            if opts.realtime {
                match crate::realtime::fifo_this_thread() {
                    Ok(()) => tracing::info!("scheduler thread runs under SCHED_FIFO"),
                    Err(e) => tracing::warn!("--realtime: {e}; playing at normal priority"),
                }
            }
            let mut report = perform(producer.as_mut(), &songs, &opts, &stop, &progress);
            let flushed = producer.flush(flush_timeout).map_err(|e| e.to_string());
            count_failures(producer.as_mut(), &mut report, opts.observer.as_deref());
            (report, flushed)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(bytes: &[u8]) -> ChannelMessage {
        ChannelMessage::from_bytes(bytes).expect("a channel message")
    }

    #[test]
    fn voices_deal_note_ons_in_turn_and_a_note_off_follows_its_note_on() {
        let song = Score {
            name: "s.mid".to_string(),
            path: "s.mid".into(),
            events: Vec::new(),
        };
        let mut voices = Voices::default();
        let mut key = |b: &[u8]| KeyBy::Voice.key(&mut voices, &song, &msg(b));
        assert_eq!(key(&[0x90, 60, 64]), "s.mid/v0");
        assert_eq!(key(&[0x90, 64, 64]), "s.mid/v1");
        // Note-off, and note-on with velocity 0, both end the note where it began.
        assert_eq!(key(&[0x80, 60, 0]), "s.mid/v0");
        assert_eq!(key(&[0x90, 64, 0]), "s.mid/v1");
        assert_eq!(key(&[0xB0, 64, 127]), "s.mid", "a pedal is the song's");
        assert_eq!(key(&[0x90, 60, 64]), "s.mid/v2");
        let mut pitch = Voices::default();
        assert_eq!(
            KeyBy::Pitch.key(&mut pitch, &song, &msg(&[0x90, 60, 64])),
            "s.mid/60"
        );
        assert_eq!(
            KeyBy::Song.key(&mut pitch, &song, &msg(&[0x90, 60, 64])),
            "s.mid"
        );
    }
}
