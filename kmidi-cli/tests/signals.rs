//! Ctrl-C (SIGINT) and SIGTERM at every stage of a run, against a real broker: while
//! connecting, mid-song, and while the player's final flush waits for a broker that is
//! down. Whatever the moment: no note is left sounding (the instrument's recording ends
//! with the silencing messages), the exit code says what happened (130 after SIGINT,
//! 143 after SIGTERM, 1 when notes were not delivered), and it happens in bounded time.
//! (`common::scenarios` covers the instrument's SIGTERM after a song and the player's
//! Ctrl-C while looping; these extend them.)

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::Child;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use common::{
    exit_within, instrument_in, player_at, recorded_bytes, repo, score_bytes, sent_count, signal,
    spawn, spawn_instrument, stderr, Broker,
};

fn broker() -> &'static Broker {
    Broker::shared(&kmidi_test_support::kafka_version("4"))
}

/// The flush test halts the shared broker; it holds this for writing, the others for
/// reading, so no test sees the outage it did not ask for.
static BROKER_UP: RwLock<()> = RwLock::new(());

fn player(bootstrap: &str, topic: &str, speed: &str, extra: &[&str]) -> Child {
    spawn(
        player_at(bootstrap, topic, speed)
            .args(["-m", "songs/ode_to_joy.mid"])
            .args(extra),
    )
}

/// An instrument that plays until it is stopped, in a group of its own (not
/// `common::spawn_instrument`'s, which must start from the beginning). Its --idle-exit
/// is far beyond any test's signal; it only ends it if a failed test leaves it behind.
fn instrument(bootstrap: &str, topic: &str, record: &Path, extra: &[&str]) -> Child {
    spawn(
        instrument_in(bootstrap, topic, &format!("sig-{topic}"))
            .arg("--record")
            .arg(record)
            .args(["--idle-exit", "60"])
            .args(extra),
    )
}

/// Everything the instrument recorded (without its closing silence, which
/// `recorded_bytes` checks is there) is the start of the song, in order.
fn assert_a_silenced_prefix_of_the_song(record: &Path) -> usize {
    let heard = recorded_bytes(record);
    let score = score_bytes(&repo().join("songs/ode_to_joy.mid"));
    assert!(heard.len() <= score.len());
    assert_eq!(
        heard,
        score[..heard.len()],
        "the song's first notes, in order"
    );
    heard.len()
}

/// A broker that accepts connections and never answers keeps both commands in their
/// connect phase (30 s timeout here); a signal there ends them at once, with the
/// signal's code, not after the timeout with a connection error.
#[test]
fn a_signal_while_connecting_exits_at_once_with_the_signals_code() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let bootstrap = listener.local_addr().unwrap().to_string();
    // Holds the connections without answering; bounded, ends with the test process.
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(100).collect();
        drop(held);
    });
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        let p = player(&bootstrap, "midi_notes", "1", &["--connect-timeout", "30"]);
        let record = dir.path().join(format!("{sig}.mid"));
        let i = instrument(
            &bootstrap,
            "midi_notes",
            &record,
            &["--connect-timeout", "30"],
        );
        cases.push((format!("player {sig}"), p, sig, code));
        cases.push((format!("instrument {sig}"), i, sig, code));
    }
    std::thread::sleep(Duration::from_secs(2));
    for (_, child, sig, _) in &cases {
        signal(child, sig);
    }
    for (what, child, _, code) in cases {
        let (out, took, exited) = exit_within(child, Duration::from_secs(10));
        assert!(exited, "{what} still running {took:?} after the signal");
        assert!(took < Duration::from_secs(3), "{what} took {took:?}");
        assert_eq!(out.status.code(), Some(code), "{what}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("interrupted while connecting"),
            "{what}: {}",
            stderr(&out)
        );
    }
}

/// Mid-song, the other way round from `common::scenarios`: Ctrl-C stops the instrument
/// while notes are still arriving (130, recording silenced, the song's start heard),
/// and SIGTERM stops the player (143, every note it reports as sent is on the topic).
#[test]
fn mid_song_ctrl_c_silences_the_instrument_and_sigterm_flushes_the_player() {
    let broker = broker();
    let _up = BROKER_UP.read().unwrap_or_else(|e| e.into_inner());
    let topic = broker.unique("midsong");
    broker.create_topic(&topic, 1);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("heard.mid");
    let listening = instrument(&broker.bootstrap, &topic, &record, &[]);
    // Ode to Joy at its own tempo is about 21 s: both signals land inside it.
    let playing = player(&broker.bootstrap, &topic, "1", &[]);
    std::thread::sleep(Duration::from_secs(5));
    signal(&listening, "INT");
    let (heard, took, exited) = exit_within(listening, Duration::from_secs(15));
    assert!(
        exited && took < Duration::from_secs(5),
        "instrument: {took:?}"
    );
    assert_eq!(heard.status.code(), Some(130), "{}", stderr(&heard));
    assert!(stderr(&heard).contains("(interrupted)"));
    let first = assert_a_silenced_prefix_of_the_song(&record);
    assert!(first > 0, "notes had arrived before Ctrl-C");

    std::thread::sleep(Duration::from_secs(2));
    signal(&playing, "TERM");
    let (played, took, exited) = exit_within(playing, Duration::from_secs(20));
    assert!(exited && took < Duration::from_secs(10), "player: {took:?}");
    let err = stderr(&played);
    assert_eq!(played.status.code(), Some(143), "{err}");
    assert!(err.contains("(interrupted)"), "{err}");
    let sent = sent_count(&err);
    let score = score_bytes(&repo().join("songs/ode_to_joy.mid")).len();
    assert!(
        first <= sent && sent < score,
        "stopped mid-song: {sent} of {score}"
    );

    // A fresh instrument (new group) hears exactly what the player said it sent.
    let all = dir.path().join("all.mid");
    let check = common::wait_bounded(
        spawn_instrument(broker, &topic, &all, 3),
        Duration::from_secs(60),
    );
    assert!(check.status.success(), "{}", stderr(&check));
    assert_eq!(assert_a_silenced_prefix_of_the_song(&all), sent);
}

/// The broker goes down mid-song. SIGTERM stops the instrument at once, silenced. The
/// player finishes the song into its client's queue and then waits in the final flush;
/// Ctrl-C there does not cut the flush short (it is what delivers the notes) but the
/// flush is bounded by --flush-timeout, and since notes were not delivered the exit
/// code is 1, not 130.
#[test]
fn signals_while_the_broker_is_down_are_bounded_and_report_undelivered_notes() {
    const FLUSH_TIMEOUT: u64 = 8;
    let broker = broker();
    let topic = broker.unique("flush");
    broker.create_topic(&topic, 1);
    let down = BROKER_UP.write().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("heard.mid");
    let listening = instrument(&broker.bootstrap, &topic, &record, &[]);
    // 0.2: the song is over (and the flush under way) about 4.5 s in; the flush then
    // lasts FLUSH_TIMEOUT, to about 12.5 s in.
    let started = Instant::now();
    let mut playing = player(
        &broker.bootstrap,
        &topic,
        "0.2",
        &["--flush-timeout", &FLUSH_TIMEOUT.to_string()],
    );
    std::thread::sleep(Duration::from_millis(1500));
    broker.halt();

    signal(&listening, "TERM");
    let (heard, took, exited) = exit_within(listening, Duration::from_secs(15));
    // Its client cannot close cleanly with the broker gone: the teardown grace after a
    // signal (3 s) bounds that.
    assert!(
        exited && took < Duration::from_secs(8),
        "instrument: {took:?}"
    );
    assert_eq!(heard.status.code(), Some(143), "{}", stderr(&heard));
    assert_a_silenced_prefix_of_the_song(&record);

    // Well after the last note's deadline, well before the flush's bound: the player
    // is flushing.
    std::thread::sleep(Duration::from_millis(6500).saturating_sub(started.elapsed()));
    assert!(
        playing.try_wait().unwrap().is_none(),
        "the player is still flushing after {:?}",
        started.elapsed()
    );
    let flushing = Instant::now();
    signal(&playing, "INT");
    let (played, took, exited) = exit_within(playing, Duration::from_secs(FLUSH_TIMEOUT + 20));
    // Before the broker's restart, which on a busy machine takes seconds of its own.
    let flush_took = flushing.elapsed();
    broker.resume();
    drop(down);
    assert!(exited, "the player's flush is bounded");
    assert!(
        flush_took <= Duration::from_secs(FLUSH_TIMEOUT + 5),
        "player exited {took:?} after Ctrl-C"
    );
    let err = stderr(&played);
    assert_eq!(played.status.code(), Some(1), "notes not delivered: {err}");
    assert!(
        err.contains("not delivered") || err.contains("flush:"),
        "says what was lost: {err}"
    );
}
