//! `--web` in a real browser (Debian's headless Chromium over WebDriver) against a real
//! Kafka broker: the page plays what the instrument heard with the instrument's timing,
//! to the sample, through tens of milliseconds of random network delay; it says when
//! it waits, reconnects, and when the run ended; and it says so when the browser has no
//! AudioWorklet.
//!
//! The sound is judged on the audio the page itself produced (tapped inside its
//! AudioWorklet, `?tap=1`), in frames of the page's own audio clock: under load that
//! clock runs slower than the wall clock, so wall time says nothing about it.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{instrument_in, player_at, run, stderr, Broker};
use kmidi_test_instruments::clicks;
use kmidi_test_support::browser::{Browser, JitterProxy, PageAudio};
use serde_json::Value;

use kmidi_test_support::browser::judge::judge_page;

const NOTES: usize = 40;
/// Up to this much random delay per chunk between kmidi and the page.
const JITTER: Duration = Duration::from_millis(40);

/// One browser at a time: the sound test measures timing, and two Chromiums on a
/// two-core machine would starve its audio thread.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn broker() -> &'static Broker {
    Broker::shared(&kmidi_test_support::kafka_version("4"))
}

/// A running `kmidi instrument --web`, killed on drop if it is still running.
struct Instrument {
    child: Child,
    stderr: Arc<Mutex<String>>,
    port: u16,
}

impl Instrument {
    /// Starts an instrument on `topic` serving the page on a free loopback port, and
    /// waits for its `web: http://...` line.
    fn start(topic: &str, record: &Path, idle_exit: u32) -> Instrument {
        let mut cmd = instrument_in(&broker().bootstrap, topic, &format!("g-{topic}"));
        cmd.arg("--record")
            .arg(record)
            .args([
                "--web",
                "127.0.0.1:0",
                "--idle-exit",
                &idle_exit.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("kmidi instrument starts");
        let text = Arc::new(Mutex::new(String::new()));
        let (pipe, sink) = (child.stderr.take().expect("piped"), Arc::clone(&text));
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut t = sink.lock().unwrap_or_else(|p| p.into_inner());
                t.push_str(&line);
                t.push('\n');
            }
        });
        let mut instrument = Instrument {
            child,
            stderr: text,
            port: 0,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while instrument.port == 0 {
            let said = instrument.stderr();
            if let Some(port) = said.lines().find_map(web_port) {
                instrument.port = port;
            } else if Instant::now() > deadline
                || matches!(instrument.child.try_wait(), Ok(Some(_)))
            {
                panic!("no 'web: http://...' line from the instrument: {said}");
            } else {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        instrument
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits for the instrument to exit by itself, at most `limit`.
    fn wait_exit(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !matches!(self.child.try_wait(), Ok(Some(_))) {
            assert!(
                Instant::now() < deadline,
                "the instrument did not exit: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Instrument {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The port of a `web: http://127.0.0.1:PORT/` line.
fn web_port(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("web: http://")?;
    let host_port = rest.split('/').next()?;
    host_port.rsplit(':').next()?.parse().ok()
}

/// A first song through a fresh broker waits for its coordinators (the idempotent
/// producer's id, say) and bunches its first notes together: played once on a topic of
/// its own, so the measured song goes out on time.
fn warm_up(song: &Path) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        broker().create_topic("web-warm-up", 1);
        let out = run(player_at(&broker().bootstrap, "web-warm-up", "0.1")
            .arg("-m")
            .arg(song));
        assert!(out.status.success(), "{}", stderr(&out));
    });
}

/// Plays `song` to `topic`, waits for the instrument's idle exit and for the page to
/// say the run ended.
fn play_to_the_end(topic: &str, song: &Path, instrument: &mut Instrument, browser: &Browser) {
    let out = run(player_at(&broker().bootstrap, topic, "1")
        .arg("-m")
        .arg(song));
    assert!(out.status.success(), "{}", stderr(&out));
    instrument.wait_exit(Duration::from_secs(60));
    browser.wait_for(
        "kmidiPage.state() === 'ended'",
        Duration::from_secs(20),
        "document.body.innerText",
    );
}

#[test]
fn the_page_plays_every_note_on_its_arrival_through_network_jitter() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let topic = "web-onsets";
    broker().create_topic(topic, 1);
    let song = dir.path().join("clicks.mid");
    std::fs::write(&song, clicks::smf_bytes(NOTES)).unwrap();
    warm_up(&song);
    let heard = dir.path().join("heard.mid");
    let mut instrument = Instrument::start(topic, &heard, 10);
    let proxy = JitterProxy::start(instrument.port, JITTER);
    let browser = Browser::start();
    browser.open_tapped_page(proxy.port);

    play_to_the_end(topic, &song, &mut instrument, &browser);

    // Where the page put each note, in its own audio, against where the instrument
    // heard it.
    let audio = PageAudio::take(&browser);
    let sound = judge_page(&audio, &heard);
    let j = &sound.judged;
    assert_eq!(
        sound.arrivals.len(),
        NOTES,
        "the instrument heard every note"
    );
    let spread = j.spread();
    eprintln!(
        "page onset − instrument arrival, constant removed: p50 {:.3} ms, p99 {:.3} ms, \
         max {:.3} ms over {} notes ({} more inside the one before); the page's delay \
         {} ms, underruns {} ({} delay(s) between notes)",
        spread.p50_ms,
        spread.p99_ms,
        spread.max_ms,
        spread.count,
        j.masked.len(),
        audio.delay_ms,
        audio.underruns,
        j.delays,
    );
    let context = || sound.context(&audio);
    assert!(
        j.unheard.is_empty(),
        "notes not heard where they arrived: {:?}; {}",
        j.unheard,
        context()
    );
    assert_eq!(j.extra, 0, "sounds no note explains; {}", context());
    assert!(
        j.masked.len() <= NOTES / 4,
        "too many notes inside another: {:?}; {}",
        j.masked,
        context()
    );
    // The buffer grows only on an underrun: a loaded machine may need one or two, a
    // page that keeps underrunning is broken.
    assert!(
        j.delays <= 3,
        "the page's delay moved {} times; {}",
        j.delays - 1,
        context()
    );
    assert!(
        spread.max_ms <= 1.0,
        "a note sounded more than 1 ms off its arrival; {}",
        context()
    );

    // The live view kept the final figures and says the run ended.
    let status = browser.eval("document.getElementById('status').textContent");
    assert_eq!(status, "the run ended");
    let tables = browser.eval("document.getElementById('figures').innerText");
    let tables = tables.as_str().unwrap_or_default();
    assert!(tables.contains("(final)"), "{tables}");
    // Every message of the song: a note-on and a note-off per note.
    assert!(
        tables.contains(&format!("played {}", 2 * NOTES)),
        "{tables}"
    );
    let rows = browser.eval("document.querySelectorAll('#figures tr').length");
    assert!(rows.as_u64().unwrap_or(0) > 3, "{tables}");
    let png = browser.screenshot();
    let shot = if std::env::var_os("KMIDI_WEB_SCREENSHOT").is_some_and(|v| v == "1") {
        common::repo().join("docs/web.png")
    } else {
        dir.path().join("web.png")
    };
    std::fs::write(&shot, png).unwrap();
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn a_page_opened_early_waits_and_a_listener_that_comes_back_is_greeted_again() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let topic = "web-early";
    broker().create_topic(topic, 1);
    let mut instrument = Instrument::start(topic, &dir.path().join("heard.mid"), 5);
    let proxy = JitterProxy::start(instrument.port, Duration::from_millis(5));
    let browser = Browser::start();
    browser.open(&format!("http://127.0.0.1:{}/", proxy.port));
    browser.wait_for(
        "kmidiPage.state() === 'waiting'",
        Duration::from_secs(30),
        "document.body.innerText",
    );
    let status = browser.eval("document.getElementById('status').textContent");
    assert!(
        status
            .as_str()
            .unwrap_or_default()
            .contains("waiting for the first note"),
        "{status}"
    );
    let first = browser.eval("kmidiPage.hello().listener");

    // The network fails: the page says so, EventSource comes back by itself and is
    // greeted as a new listener.
    proxy.cut();
    browser.wait_for(
        "kmidiPage.hellos() === 2 && kmidiPage.state() === 'waiting'",
        Duration::from_secs(30),
        "[kmidiPage.hellos(), kmidiPage.state()]",
    );
    let second = browser.eval("kmidiPage.hello().listener");
    assert_ne!(first, second, "a new listener");

    // A reload is a listener leaving and another coming.
    browser.reload();
    browser.wait_for(
        "window.kmidiPage && kmidiPage.hellos() === 1 && kmidiPage.state() === 'waiting'",
        Duration::from_secs(30),
        "document.body.innerText",
    );
    assert_ne!(browser.eval("kmidiPage.hello().listener"), second);

    // A few notes, then the instrument's idle exit: the run ended, and the closed
    // stream after it is not a lost connection.
    let song = dir.path().join("clicks.mid");
    std::fs::write(&song, clicks::smf_bytes(5)).unwrap();
    play_to_the_end(topic, &song, &mut instrument, &browser);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(browser.eval("kmidiPage.state()"), "ended");
}

#[test]
fn a_browser_without_audio_worklet_is_told_so_and_the_view_still_works() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let topic = "web-no-worklet";
    broker().create_topic(topic, 1);
    let instrument = Instrument::start(topic, &dir.path().join("heard.mid"), 5);
    let browser = Browser::start();
    browser.open(&format!("http://127.0.0.1:{}/", instrument.port));
    browser.wait_for(
        "window.kmidiPage",
        Duration::from_secs(30),
        "document.body.innerText",
    );
    // This Chromium has one.
    assert_eq!(
        browser.eval("kmidiPage.audioWorkletMissing(window)"),
        Value::Null
    );
    for fake in [
        "{}",
        "{AudioContext: function () {}}",
        "{AudioContext: window.AudioContext}",
        "{AudioContext: window.AudioContext, AudioWorkletNode: undefined, isSecureContext: false}",
    ] {
        let said = browser.eval(&format!("kmidiPage.audioNotice({fake})"));
        let said = said
            .as_str()
            .unwrap_or_else(|| panic!("{fake}: no message"));
        assert!(
            said.contains("this browser has no AudioWorklet"),
            "{fake}: {said}"
        );
        assert!(said.contains("the live view still works"), "{fake}: {said}");
        let shown = browser.eval("document.getElementById('notice').textContent");
        assert_eq!(shown.as_str(), Some(said));
    }
    // The view goes on: connected and waiting.
    browser.wait_for(
        "kmidiPage.state() === 'waiting'",
        Duration::from_secs(30),
        "document.body.innerText",
    );
}

/// Not a browser test: kept here so the `web:` line this file reads is pinned.
#[test]
fn the_web_line_gives_the_port() {
    assert_eq!(web_port("web: http://127.0.0.1:4321/"), Some(4321));
    assert_eq!(web_port("web: http://[::1]:80/?token=x"), Some(80));
    assert_eq!(web_port("metrics: http://127.0.0.1:1/metrics"), None);
}
