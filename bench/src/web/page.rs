//! The page's sound against the instrument's arrivals, as the browser test measures it:
//! Debian's headless Chromium opens the page (`?tap=1`) through a proxy adding 0–40 ms
//! of random delay per chunk, the `clicks` song plays, and the audio the page itself
//! produced is judged against the instrument's `--record` file by the analysis the test
//! uses (compiled in from test-support, see its header).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use kmidi_test_instruments::clicks;
use kmidi_test_support::browser::{Browser, JitterProxy, PageAudio};
use kmidi_test_support::free_port;

use super::procs::{tail, Kmidi};
use crate::transports::create_topic;

use kmidi_test_support::browser::judge;

/// Up to this much random delay per chunk between kmidi and the page.
pub const JITTER: Duration = Duration::from_millis(40);

/// What the page part found.
pub struct Heard {
    /// Note-ons the instrument played (its recording).
    pub notes: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Notes judged (heard on an onset of their own).
    pub judged: usize,
    /// Notes inside the one before (within [`judge::MASKED`]), not judged.
    pub masked: usize,
    pub unheard: usize,
    pub extra: usize,
    /// How many delays the page played at (1 + underruns between notes).
    pub delays: usize,
    pub delay_ms: String,
    pub underruns: String,
    /// What to read when a note was off.
    pub context: String,
}

/// Why the page part could not run, or its figures. Every failure of the browser
/// (which panics, as test helpers do) comes back as an error, after the browser, the
/// proxy and the instrument have been ended.
pub fn measure(k: &Kmidi, notes: usize, settle: Duration) -> Result<Heard> {
    if let Some(why) = Browser::missing() {
        bail!("skipped: {why}");
    }
    match catch_unwind(AssertUnwindSafe(|| listen(k, notes, settle))) {
        Ok(r) => r,
        Err(panic) => Err(anyhow!(
            "the browser part failed: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
    }
}

fn listen(k: &Kmidi, notes: usize, settle: Duration) -> Result<Heard> {
    let topic = format!("bench-web-{}-page", std::process::id());
    create_topic(k.bootstrap, &topic)?;
    let song = k.dir.join("web-clicks.mid");
    std::fs::write(&song, clicks::smf_bytes(notes))?;
    let port = free_port();
    let started = Instant::now();
    // Long enough an idle exit that a stall of the machine mid-song does not end it.
    let mut instrument = k.instrument(&topic, "page", Some(port), 4)?;
    instrument.wait_web(port, Duration::from_secs(30))?;
    let proxy = JitterProxy::start(port, JITTER);
    let browser = Browser::start();
    browser.open_tapped_page(proxy.port);
    std::thread::sleep(settle.saturating_sub(started.elapsed()));
    let song_limit =
        clicks::onsets(notes).last().copied().unwrap_or_default() + Duration::from_secs(60);
    k.play(&topic, &song, "1", song_limit)?;
    if !instrument.wait_exit(Duration::from_secs(60)) {
        bail!(
            "the instrument did not exit by itself: {}",
            tail(&instrument.log)
        );
    }
    browser.wait_for(
        "kmidiPage.state() === 'ended'",
        Duration::from_secs(20),
        "document.body.innerText",
    );
    let audio = PageAudio::take(&browser);
    Ok(judged(&audio, &instrument.record))
}

fn judged(audio: &PageAudio, record: &Path) -> Heard {
    let sound = judge::judge_page(audio, record);
    let j = &sound.judged;
    let spread = j.spread();
    Heard {
        notes: sound.arrivals.len(),
        p50_ms: spread.p50_ms,
        p99_ms: spread.p99_ms,
        max_ms: spread.max_ms,
        judged: spread.count,
        masked: j.masked.len(),
        unheard: j.unheard.len(),
        extra: j.extra,
        delays: j.delays,
        delay_ms: audio.delay_ms.to_string(),
        underruns: audio.underruns.to_string(),
        context: sound.context(audio),
    }
}
