//! The engines end to end on the in-memory testkit transport (no Kafka: what is tested
//! here is kmidi's own loops, not a client library): every note arrives once and in
//! order, figures are measured, a stop is answered, and a session ends by itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kmidi_engine::listen::{self, ListenOptions, Live};
use kmidi_engine::perform::{self, PlayOptions, Progress};
use kmidi_engine::session;
use kmidi_engine::Stop;
use kmidi_midi::message::ChannelMessage;
use kmidi_midi::score::{Score, ScoreEvent};
use kmidi_midi::sink::{Sink, SinkError};
use kmidi_plugin_testkit::TestkitTransport;
use kmidi_transport::{
    ClientConfig, Consumer, OffsetReset, Record, Subscription, Transport, TransportError,
};

/// `n` notes, alternately on and off, `every` apart.
fn score(n: usize, every: Duration) -> Score {
    let events = (0..n)
        .map(|i| ScoreEvent {
            at: every * i as u32,
            delta: every.as_secs_f64(),
            message: ChannelMessage::from_bytes(&[
                if i % 2 == 0 { 0x90 } else { 0x80 },
                60 + (i / 2 % 24) as u8,
                64,
            ])
            .unwrap(),
        })
        .collect();
    Score {
        name: "test.mid".to_string(),
        path: "test.mid".into(),
        events,
    }
}

fn opts(topic: &str) -> PlayOptions {
    PlayOptions {
        topic: topic.to_string(),
        speed: 1.0,
        record_size: 0,
        repeat: false,
        run_id: "r1".to_string(),
        realtime: false,
        observer: None,
        key_by: Default::default(),
    }
}

/// Keeps every message played, to compare with the score.
#[derive(Clone, Default)]
struct Keep(Arc<Mutex<Vec<Vec<u8>>>>);

impl Sink for Keep {
    fn send(&mut self, bytes: &[u8], _at: Duration) -> Result<(), SinkError> {
        self.0.lock().unwrap().push(bytes.to_vec());
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
    fn describe(&self) -> String {
        "kept".to_string()
    }
}

fn clients(topic: &str) -> (Box<dyn kmidi_transport::Producer>, Box<dyn Consumer>) {
    let t = TestkitTransport;
    let config = ClientConfig::new();
    let sub = Subscription {
        topics: vec![topic.to_string()],
        group: "g".to_string(),
        offset_reset: OffsetReset::Earliest,
    };
    let consumer = t.consumer(&config, &sub).unwrap();
    (t.producer(&config).unwrap(), consumer)
}

#[test]
fn every_note_is_played_once_in_order_and_measured() {
    let song = score(40, Duration::from_millis(5));
    let (producer, mut consumer) = clients("engine-every-note");
    let keep = Keep::default();
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(keep.clone())];
    let finished = Arc::new(Mutex::new(false));
    let seen = Arc::clone(&finished);
    let out = session::play_and_listen(
        producer,
        session::Listener {
            consumer: consumer.as_mut(),
            sinks: &mut sinks,
            playout_delay: None,
        },
        vec![song.clone()],
        opts("engine-every-note"),
        &Stop::new(),
        move |_, done| *seen.lock().unwrap() |= done,
    )
    .unwrap();
    assert_eq!(out.played.sent, 40);
    assert!(out.flushed.is_ok());
    assert_eq!(out.listened.played, 40);
    let played = keep.0.lock().unwrap();
    let expected: Vec<Vec<u8>> = song
        .events
        .iter()
        .map(|e| e.message.bytes().to_vec())
        .collect();
    assert_eq!(&played[..40], &expected[..], "the score's bytes, in order");
    assert!(played.len() > 40, "then the silencing messages");
    let m = &out.listened.meter;
    assert_eq!((m.lost(), m.duplicates, m.reordered), (0, 0, 0));
    assert_eq!(m.latency_us.len(), 40, "every note has a latency");
    assert_eq!(out.played.lateness_us.len(), 40);
    assert!(out.played.last_lateness_us.is_some());
    assert!(
        *finished.lock().unwrap(),
        "the progress callback heard the end"
    );
}

#[test]
fn a_stop_ends_the_player_and_the_instrument_early() {
    let song = score(1000, Duration::from_millis(10));
    let (producer, mut consumer) = clients("engine-stop");
    let stop = Stop::new();
    let later = stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        later.request();
    });
    let started = Instant::now();
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(Keep::default())];
    let out = session::play_and_listen(
        producer,
        session::Listener {
            consumer: consumer.as_mut(),
            sinks: &mut sinks,
            playout_delay: None,
        },
        vec![song],
        opts("engine-stop"),
        &stop,
        |_, _| {},
    )
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a 10 s song stopped early"
    );
    assert!(out.played.interrupted && out.listened.interrupted);
    assert!(out.played.sent < 1000);
}

/// A consumer on which nothing ever arrives (a partition that is not assigned).
struct Silent;

impl Consumer for Silent {
    fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, TransportError> {
        std::thread::sleep(timeout.min(Duration::from_millis(10)));
        Ok(None)
    }
    fn commit(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

#[test]
fn listening_ends_when_the_notes_sent_never_arrive() {
    let started = Instant::now();
    let opts = ListenOptions {
        idle_exit: Some(Duration::from_millis(300)),
        idle_after_target: false,
        max_messages: None,
        // The player is done and sent 5 notes, none of which will come.
        target: Arc::new(AtomicU64::new(5)),
        observer: None,
        playout_delay: None,
        warm_up_seen: None,
    };
    let report = listen::listen(&mut Silent, &mut [], &opts, &Stop::new(), &Live::default());
    assert_eq!(report.played, 0);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn without_a_target_an_idle_limit_waits_for_the_first_note() {
    // `kmidi instrument --idle-exit`: waiting for a player to start is not idleness.
    let stop = Stop::new();
    let later = stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(600));
        later.request();
    });
    let opts = ListenOptions {
        idle_exit: Some(Duration::from_millis(100)),
        idle_after_target: false,
        max_messages: None,
        target: Arc::new(AtomicU64::new(u64::MAX)),
        observer: None,
        playout_delay: None,
        warm_up_seen: None,
    };
    let report = listen::listen(&mut Silent, &mut [], &opts, &stop, &Live::default());
    assert!(report.interrupted, "it was still waiting when stopped");
}

/// One record, then silence: the notes before a stalled player.
struct OneThenSilent(bool);

impl Consumer for OneThenSilent {
    fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, TransportError> {
        if std::mem::replace(&mut self.0, true) {
            return Silent.poll(timeout);
        }
        Ok(Some(Record {
            topic: "t".to_string(),
            partition: 0,
            offset: 0,
            key: None,
            value: Some(b"a record".to_vec()),
            timestamp_ms: None,
        }))
    }
    fn commit(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

#[test]
fn a_session_listens_through_silence_until_its_player_is_done() {
    // A leader failover with acks=all stalls the player for longer than the drain: the
    // song is not over until the player says how many notes it sent.
    let stop = Stop::new();
    let failsafe = stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(10));
        failsafe.request();
    });
    let target = Arc::new(AtomicU64::new(u64::MAX));
    let done = Arc::clone(&target);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        // Two sent, one of which never comes: the drain ends it.
        done.store(2, Ordering::Relaxed);
    });
    let opts = ListenOptions {
        idle_exit: Some(Duration::from_millis(100)),
        idle_after_target: true,
        max_messages: None,
        target,
        observer: None,
        playout_delay: None,
        warm_up_seen: None,
    };
    let started = std::time::Instant::now();
    let mut consumer = OneThenSilent(false);
    let report = listen::listen(&mut consumer, &mut [], &opts, &stop, &Live::default());
    assert!(!report.interrupted, "the drain after the player ended it");
    assert!(
        started.elapsed() >= Duration::from_millis(550),
        "it listened on while the player played: {:?}",
        started.elapsed()
    );
}

#[test]
fn the_scheduler_warms_up_then_hands_every_note_over_on_time() {
    let song = score(20, Duration::from_millis(2));
    let (mut producer, mut consumer) = clients("engine-schedule");
    let report = perform::perform(
        producer.as_mut(),
        &[song],
        &opts("engine-schedule"),
        &Stop::new(),
        &Progress::default(),
    );
    assert_eq!(report.sent, 20);
    let first = consumer.poll(Duration::from_secs(1)).unwrap().unwrap();
    let warmup = kmidi_engine::wire::NoteMessage::decode(first.value.as_deref()).unwrap();
    assert!(warmup.measure.warmup, "the warm-up record goes first");
    // Lateness is measured for every note; its size is the benchmarks' business.
    assert_eq!(report.lateness_us.len(), 20);
}

/// Plays `song` from each of `runs` (run id, start delay, passes) on one topic at once,
/// and listens until every note sent was handled: the instrument's view of them all, and
/// how many notes were sent.
fn play_runs(
    topic: &str,
    song: &Score,
    runs: &[(&str, Duration, u64)],
) -> (listen::ListenReport, u64) {
    let (_, mut consumer) = clients(topic);
    let target = Arc::new(AtomicU64::new(u64::MAX));
    let players: Vec<_> = runs
        .iter()
        .map(|&(run, delay, passes)| {
            let (producer, _) = clients(topic);
            let (song, topic) = (song.clone(), topic.to_string());
            let opts = PlayOptions {
                repeat: passes > 1,
                run_id: run.to_string(),
                ..opts(&topic)
            };
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                let (stop, progress) = (Stop::new(), Arc::new(Progress::default()));
                let per_pass = song.events.len() as u64;
                let play = perform::spawn(
                    producer,
                    vec![song],
                    opts,
                    stop.clone(),
                    Arc::clone(&progress),
                    Duration::from_secs(5),
                )
                .unwrap();
                // A looping player runs until stopped: stop it once the last pass is sent
                // (the first note of one more may be on its way by then).
                while !play.is_finished() {
                    if progress.sent.load(Ordering::Relaxed) >= passes * per_pass {
                        stop.request();
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                play.join().unwrap().0.sent
            })
        })
        .collect();
    let all_sent = Arc::clone(&target);
    let counted = std::thread::spawn(move || {
        let sent: u64 = players.into_iter().map(|p| p.join().unwrap()).sum();
        all_sent.store(sent, Ordering::Relaxed);
        sent
    });
    let opts = ListenOptions {
        idle_exit: Some(Duration::from_secs(5)),
        idle_after_target: false,
        max_messages: None,
        target,
        observer: None,
        playout_delay: None,
        warm_up_seen: None,
    };
    let report = listen::listen(
        consumer.as_mut(),
        &mut [],
        &opts,
        &Stop::new(),
        &Live::default(),
    );
    (report, counted.join().unwrap())
}

/// No note is heard as out of place: the figures the --loop bug got wrong.
fn assert_in_time(report: &listen::ListenReport) {
    let m = &report.meter;
    assert_eq!((m.duplicates, m.reordered, m.lost()), (0, 0, 0));
    let tempo = m.tempo().unwrap();
    assert!((tempo - 1.0).abs() < 0.05, "tempo {tempo}");
    // Passes and runs start tens of ms apart: notes measured against another pass's
    // or run's anchor would be that far off, a whole pass of them. A busy machine may
    // delay a note or two by as much, so a tenth of the notes may be off.
    let off: Vec<_> = m
        .samples
        .iter()
        .filter(|s| s.onset_ms.abs() >= 15.0)
        .collect();
    assert!(
        off.len() <= m.samples.len() / 10,
        "{} of {} notes off the score: {off:?}",
        off.len(),
        m.samples.len()
    );
}

#[test]
fn a_looped_song_is_heard_as_passes_on_tempo_not_as_duplicates() {
    let song = score(20, Duration::from_millis(10));
    let (report, sent) = play_runs("engine-loop", &song, &[("r1", Duration::ZERO, 3)]);
    assert!(sent >= 60, "three passes: {sent}");
    assert_eq!(report.played, sent);
    assert_in_time(&report);
    let songs = report.meter.songs();
    assert_eq!(
        songs[..3].iter().map(|s| s.pass).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert!(songs[..3].iter().all(|s| s.heard == 20), "{songs:?}");
}

#[test]
fn two_runs_of_one_song_interleaved_are_each_on_the_score() {
    let song = score(20, Duration::from_millis(10));
    let runs = [
        ("r1", Duration::ZERO, 1),
        ("r2", Duration::from_millis(55), 1),
    ];
    let (report, sent) = play_runs("engine-two-runs", &song, &runs);
    assert_eq!((sent, report.played), (40, 40));
    assert_in_time(&report);
    let songs = report.meter.songs();
    assert_eq!(
        songs.iter().map(|s| s.run.as_str()).collect::<Vec<_>>(),
        ["r1", "r2"]
    );
}

/// Hands out notes scored 100 ms apart, each on time except `late`, which comes
/// `by` after its time: a cluster with one hiccup.
struct Hiccup {
    notes: Vec<Record>,
    started: Option<Instant>,
    next: usize,
    late: usize,
    by: Duration,
}

impl Hiccup {
    fn new(n: u64, late: usize, by: Duration) -> Self {
        let notes = (0..n)
            .map(|seq| {
                let m = kmidi_engine::wire::Measure {
                    run: Some("r".into()),
                    song: Some("s.mid".into()),
                    seq: Some(seq),
                    total: Some(n),
                    offset_us: Some(seq * 100_000),
                    ..Default::default()
                };
                let note = kmidi_engine::wire::NoteMessage {
                    hex: "90 3C 40".into(),
                    measure: m,
                    ..Default::default()
                };
                Record {
                    topic: "t".into(),
                    partition: 3,
                    value: Some(note.encode()),
                    ..Record::default()
                }
            })
            .collect();
        Self {
            notes,
            started: None,
            next: 0,
            late,
            by,
        }
    }
}

impl Consumer for Hiccup {
    fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, TransportError> {
        let started = *self.started.get_or_insert_with(Instant::now);
        let Some(record) = self.notes.get(self.next) else {
            std::thread::sleep(timeout);
            return Ok(None);
        };
        let mut due = started + Duration::from_millis(100) * self.next as u32;
        if self.next == self.late {
            due += self.by;
        }
        let now = Instant::now();
        if due > now + timeout {
            std::thread::sleep(timeout);
            return Ok(None);
        }
        std::thread::sleep(due.saturating_duration_since(now));
        self.next += 1;
        Ok(Some(record.clone()))
    }
    fn commit(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

#[test]
fn a_playout_delay_counts_the_note_later_than_it_and_plays_every_note() {
    // Note 4 comes 100 ms late: past a 60 ms playout delay. Note 5, behind it, comes
    // right after it, at its own time: in time.
    let mut consumer = Hiccup::new(8, 4, Duration::from_millis(100));
    let keep = Keep::default();
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(keep.clone())];
    let opts = ListenOptions {
        idle_exit: Some(Duration::from_millis(500)),
        idle_after_target: false,
        max_messages: None,
        target: Arc::new(AtomicU64::new(8)),
        observer: None,
        playout_delay: Some(Duration::from_millis(60)),
        warm_up_seen: None,
    };
    let report = listen::listen(
        &mut consumer,
        &mut sinks,
        &opts,
        &Stop::new(),
        &Live::default(),
    );
    assert_eq!(report.played, 8);
    let playout = report.playout.expect("a playout delay was set");
    assert_eq!(
        playout.missed.get(&("t".to_string(), 3)),
        Some(&1),
        "only note 4"
    );
    let played = keep.0.lock().unwrap();
    assert_eq!(
        played
            .iter()
            .filter(|b| b[..] == [0x90, 0x3C, 0x40])
            .count(),
        8,
        "every note played, the late one too"
    );
}
