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
use kmidi_midi::sink::read_recording;
use kmidi_test_instruments::clicks;
use kmidi_test_instruments::onset::{compare, Detector};
use kmidi_test_support::browser::{base64_decode, Browser, JitterProxy};
use serde_json::Value;

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

/// One channel of the tap: little-endian f32 samples, base64.
fn samples(v: &Value) -> Vec<f32> {
    let bytes = base64_decode(v.as_str().expect("base64 text")).expect("valid base64");
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Two strikes closer than this sound as one onset: the second starts inside the first
/// one's burst. Arrivals come this close when the player or the broker stalls a moment
/// and hands several notes on at once.
const MASKED: Duration = Duration::from_millis(20);

/// How the onsets in the page's audio sit against the instrument's arrivals.
struct Judged {
    /// Per note found: onset − arrival less the page's constant delay (the median of
    /// those over the notes sharing that delay), ms.
    errors_ms: Vec<f64>,
    /// How many delays the page played at: 1, plus one per underrun between notes.
    delays: usize,
    /// Notes with no onset of their own that came within [`MASKED`] of the one before.
    masked: Vec<usize>,
    /// Notes with no onset near them, and no excuse.
    unheard: Vec<usize>,
    /// Onsets no note explains.
    extra: usize,
}

/// `scheduled`: where the page put each note in its audio (from `kmidiTap.noteFrames()`),
/// on the onsets' timeline. An underrun moves the page's delay once (that is the
/// design: the buffer grows only then), so the constant removed is the one of the run of
/// notes between underruns; where the page claims it scheduled a note only splits the
/// notes into those runs, every error is the audio's against the arrival.
fn judge(arrivals: &[Duration], scheduled: &[Duration], onsets: &[Duration]) -> Judged {
    assert_eq!(
        scheduled.len(),
        arrivals.len(),
        "the page scheduled every note"
    );
    // Matched to the schedule within 3 ms (the schedule's timeline is continuous across
    // an underrun, the arrivals' is not), held to 1 ms of the arrival after.
    let c = compare(scheduled, onsets, Duration::from_millis(3));
    let offset: Vec<f64> = scheduled
        .iter()
        .zip(arrivals)
        .map(|(s, a)| s.as_secs_f64() - a.as_secs_f64())
        .collect();
    // A new delay where the schedule's offset jumps (by ≥ 50 ms on an underrun; frame
    // rounding moves it by a sample at most).
    let mut delay_of = vec![0usize; arrivals.len()];
    for i in 1..arrivals.len() {
        let jump = (offset[i] - offset[i - 1]).abs() > 0.5e-3;
        delay_of[i] = delay_of[i - 1] + usize::from(jump);
    }
    let delays = delay_of.last().map_or(1, |d| d + 1);
    // Onset − arrival, up to one constant for the whole song: the detector's own offset.
    let heard: Vec<(usize, f64)> = c
        .heard
        .iter()
        .map(|h| (h.index, h.delay_us / 1e3 + offset[h.index] * 1e3))
        .collect();
    let mut errors_ms = Vec::with_capacity(heard.len());
    for d in 0..delays {
        let mut run: Vec<f64> = heard
            .iter()
            .filter(|(i, _)| delay_of[*i] == d)
            .map(|(_, ms)| *ms)
            .collect();
        run.sort_by(f64::total_cmp);
        let median = run.get(run.len() / 2).copied().unwrap_or(0.0);
        errors_ms.extend(run.iter().map(|ms| ms - median));
    }
    let (masked, unheard) = c
        .missing
        .iter()
        .partition(|&&i| i > 0 && arrivals[i] - arrivals[i - 1] < MASKED);
    Judged {
        errors_ms,
        delays,
        masked,
        unheard,
        extra: c.extra,
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
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
    browser.open(&format!("http://127.0.0.1:{}/?tap=1", proxy.port));
    browser.wait_for(
        "kmidiPage.state() === 'waiting' && kmidiPage.audioRunning()",
        Duration::from_secs(30),
        "[kmidiPage.state(), kmidiPage.audioRunning(), document.body.innerText]",
    );

    let out = run(player_at(&broker().bootstrap, topic, "1")
        .arg("-m")
        .arg(&song));
    assert!(out.status.success(), "{}", stderr(&out));
    instrument.wait_exit(Duration::from_secs(60));
    browser.wait_for(
        "kmidiPage.state() === 'ended'",
        Duration::from_secs(20),
        "document.body.innerText",
    );

    // Where the page put each note, in its own audio.
    let tap = browser.eval("kmidiTap.take()");
    let rate = tap["sampleRate"].as_f64().expect("a sample rate");
    let (left, right) = (samples(&tap["left"]), samples(&tap["right"]));
    let mono: Vec<f32> = left
        .iter()
        .zip(&right)
        .map(|(l, r)| (l + r) / 2.0)
        .collect();
    let onsets: Vec<Duration> = Detector {
        // The page's hi-hat is one 12 ms burst of noise, with no second burst to skip.
        refractory: Duration::from_millis(12),
        ..Detector::default()
    }
    .onsets(&mono, rate as u32)
    .into_iter()
    .map(|n| Duration::from_secs_f64(n as f64 / rate))
    .collect();
    let arrivals: Vec<Duration> = read_recording(&heard)
        .expect("the recording is a MIDI file")
        .into_iter()
        .filter(|(_, bytes)| bytes.as_slice() == clicks::note_on())
        .map(|(at, _)| at)
        .collect();
    assert_eq!(arrivals.len(), NOTES, "the instrument heard every note");
    let delay_ms = browser.eval("kmidiPage.delayMs()");
    let underruns = browser.eval("kmidiPage.underruns()");
    let first = tap["firstFrame"].as_f64().expect("the tap's first frame");
    let scheduled: Vec<Duration> = browser
        .eval("kmidiTap.noteFrames()")
        .as_array()
        .expect("the frames the page scheduled")
        .iter()
        .map(|f| Duration::from_secs_f64((f.as_f64().unwrap_or(0.0) - first) / rate))
        .collect();
    let j = judge(&arrivals, &scheduled, &onsets);
    let mut errors_ms: Vec<f64> = j.errors_ms.iter().map(|e| e.abs()).collect();
    errors_ms.sort_by(f64::total_cmp);
    eprintln!(
        "page onset − instrument arrival, constant removed: p50 {:.3} ms, p99 {:.3} ms, \
         max {:.3} ms over {} notes ({} more inside the one before); the page's delay \
         {delay_ms} ms, underruns {underruns} ({} delay(s) between notes)",
        percentile(&errors_ms, 0.5),
        percentile(&errors_ms, 0.99),
        errors_ms.last().copied().unwrap_or(0.0),
        errors_ms.len(),
        j.masked.len(),
        j.delays,
    );
    let context = || {
        format!(
            "underruns {underruns}; errors (ms) {:?}; scheduled {scheduled:?}; \
             onsets {onsets:?}; arrivals {arrivals:?}",
            j.errors_ms,
        )
    };
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
        errors_ms.iter().all(|e| *e <= 1.0),
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
    let out = run(player_at(&broker().bootstrap, topic, "1")
        .arg("-m")
        .arg(&song));
    assert!(out.status.success(), "{}", stderr(&out));
    instrument.wait_exit(Duration::from_secs(60));
    browser.wait_for(
        "kmidiPage.state() === 'ended'",
        Duration::from_secs(20),
        "document.body.innerText",
    );
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
