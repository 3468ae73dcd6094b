//! Benchmark 10, listening from a browser (`kmidi instrument --web`): the page's onset
//! error against the instrument's arrivals, from Debian's headless Chromium through
//! 0–40 ms of random network delay ([`page`]); the bytes a listener receives on
//! `/events`, and what serving them costs the instrument in CPU and memory beside the
//! same instrument without `--web` ([`load`]). Loopback only; every process it starts
//! is ended.

mod load;
mod page;
mod procs;
mod sse;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use kmidi_test_instruments::clicks;

use crate::report::{Row, Section, Verdict};
use crate::stats::ratio;
use crate::transports::create_topic;
use load::Measured;
use page::Heard;
use procs::Kmidi;

/// Bounds on what one run may ask for.
const MAX_LISTENERS: usize = 64;
const MAX_NOTES: usize = 2_000;
const MAX_SONG: Duration = Duration::from_secs(600);

pub struct Options {
    pub bootstrap: String,
    pub kmidi: PathBuf,
    /// Plain SSE listeners per `--web` configuration, besides 0.
    pub listeners: Vec<usize>,
    /// The song of the cost figures (`None`: a generated one of `length`).
    pub song: Option<PathBuf>,
    pub length: Duration,
    /// Hi-hats the page plays for the onset figures.
    pub notes: usize,
    /// How long each instrument has to join its group before the song.
    pub settle: Duration,
    pub dir: PathBuf,
    pub command: String,
}

pub fn run(o: &Options) -> Result<Section> {
    if o.listeners.iter().any(|&n| n > MAX_LISTENERS) {
        bail!("--listeners: at most {MAX_LISTENERS} per configuration");
    }
    if o.notes == 0 || o.notes > MAX_NOTES {
        bail!("--notes: 1 to {MAX_NOTES}");
    }
    if o.length > MAX_SONG {
        bail!("--length: at most {} s", MAX_SONG.as_secs());
    }
    std::fs::create_dir_all(&o.dir).with_context(|| format!("creating {}", o.dir.display()))?;
    let k = Kmidi {
        bin: &o.kmidi,
        bootstrap: &o.bootstrap,
        dir: &o.dir,
    };
    let song = match &o.song {
        Some(path) => path.clone(),
        None => {
            let path = o.dir.join("web-song.mid");
            crate::song::write(&path, o.length)?;
            path
        }
    };
    let mut notes = Vec::new();
    eprintln!("web: warming the broker up");
    if let Err(e) = warm_up(&k) {
        notes.push(format!("The warm-up song failed: {e:#}"));
    }
    let heard = timed(
        &format!("the page in headless Chromium ({} hi-hats)", o.notes),
        || page::measure(&k, o.notes, o.settle),
    );
    let mut configs = vec![None, Some(0)];
    for &n in &o.listeners {
        if n > 0 && !configs.contains(&Some(n)) {
            configs.push(Some(n));
        }
    }
    let length = song_length(&song)?;
    let limit = length + Duration::from_secs(60);
    let mut measured = Vec::new();
    for c in configs {
        match timed(&format!("cost, {}", describe(c)), || {
            load::measure(&k, &song, c, o.settle, limit)
        }) {
            Ok(m) => measured.push(m),
            Err(e) => notes.push(format!("{}: {e:#}", describe(c))),
        }
    }
    Ok(section(o, (&song, length), &heard, &measured, notes))
}

/// Runs `f`, saying on stderr what it does and how long it took.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    eprintln!("web: {what}");
    let started = Instant::now();
    let out = f();
    eprintln!("web: {what}: {:.1} s", started.elapsed().as_secs_f64());
    out
}

/// A first song through a fresh broker waits for its coordinators and bunches its
/// first notes together: one is played on a topic of its own first, ten times fast.
fn warm_up(k: &Kmidi) -> Result<()> {
    let topic = format!("bench-web-{}-warm-up", std::process::id());
    create_topic(k.bootstrap, &topic)?;
    let song = k.dir.join("web-warm-up.mid");
    std::fs::write(&song, clicks::smf_bytes(20))?;
    k.play(&topic, &song, "0.1", Duration::from_secs(60))
}

/// How long the song lasts, read from the file as kmidi reads it.
fn song_length(song: &std::path::Path) -> Result<Duration> {
    let bytes = std::fs::read(song).with_context(|| format!("reading {}", song.display()))?;
    let score = kmidi_midi::score::Score::parse("song", song, &bytes)
        .with_context(|| format!("loading {}", song.display()))?;
    if score.duration() > MAX_SONG {
        bail!("the song lasts more than {} s", MAX_SONG.as_secs());
    }
    Ok(score.duration())
}

fn describe(listeners: Option<usize>) -> String {
    match listeners {
        None => "without --web".to_string(),
        Some(1) => "--web, 1 listener".to_string(),
        Some(n) => format!("--web, {n} listeners"),
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Bytes per second, in decimal kB (1 kB = 1000 B).
fn rate(bytes: f64, over: Duration) -> String {
    format!("{:.2} kB/s", bytes / over.as_secs_f64().max(1e-9) / 1e3)
}

fn section(
    o: &Options,
    (song, length): (&std::path::Path, Duration),
    heard: &Result<Heard>,
    measured: &[Measured],
    mut notes: Vec<String>,
) -> Section {
    let reference = measured.iter().find(|m| m.listeners.is_none());
    let messages = reference.map_or(0, |r| r.played);
    let mut s = Section::new(
        "10. Listening from a browser (--web)",
        &format!(
            "**Sound:** Debian's headless Chromium opens the page (`?tap=1`) through a \
             proxy that holds each chunk back a random 0–{jitter} ms; `kmidi player` plays \
             {n} closed hi-hats at 45–190 ms gaps; the audio the page itself produced \
             (tapped in its AudioWorklet, in frames of its own audio clock) goes through \
             the project's onset detector, and each onset is compared with the note's \
             arrival in the instrument's `--record` file, the page's constant delay removed \
             per stretch between underruns (the analysis of \
             `kmidi-cli/tests/web_browser.rs`, shared). **Cost:** a fresh `kmidi instrument \
             --record` per configuration plays the same song ({song}, {secs:.0} s, {messages} messages); \
             CPU = utime + stime (/proc/PID/stat) from just before the player starts to 1 s \
             after it ends, peak RSS = VmHWM; the listeners are plain SSE clients reading \
             `/events` on loopback (a browser's own CPU is not kmidi's and is not counted), \
             bandwidth = the bytes each received over that window, per second and per \
             message played.",
            jitter = page::JITTER.as_millis(),
            secs = length.as_secs_f64(),
            n = o.notes,
            song = song.file_name().map_or_else(
                || song.display().to_string(),
                |f| f.to_string_lossy().into_owned()
            ),
        ),
        "the instrument's own recorded arrivals (sound); the same instrument without \
         `--web`, same song, same run (CPU, RSS); the song's message rate (bandwidth)",
        &o.command,
    );
    match heard {
        Ok(h) => {
            let clean = h.unheard == 0 && h.extra == 0;
            s.rows.push(
                Row::new(
                    "page onset − instrument arrival, constant removed: p50 / p99 / max",
                    "max ≤ 1 ms",
                )
                .measured(format!(
                    "{:.3} / {:.3} / {:.3} ms ({} notes)",
                    h.p50_ms, h.p99_ms, h.max_ms, h.judged
                ))
                .reference("the arrivals in the instrument's `--record`")
                .verdict(Verdict::check(h.max_ms <= 1.0 && clean)),
            );
            s.rows.push(
                Row::new(
                    "notes judged / inside the one before / unheard / sounds no note explains",
                    "none unheard, none extra",
                )
                .measured(format!(
                    "{} / {} / {} / {} of {}",
                    h.judged, h.masked, h.unheard, h.extra, h.notes
                ))
                .reference(format!("{} note-ons sent", o.notes))
                .verdict(Verdict::check(clean && h.notes == o.notes)),
            );
            s.rows.push(
                Row::new("the page's buffer delay at the end, underruns", "").measured(format!(
                    "{} ms, {} ({} delay(s) between notes)",
                    h.delay_ms, h.underruns, h.delays
                )),
            );
            if !clean || h.max_ms > 1.0 {
                notes.push(format!("What the page played: {}", h.context));
            }
        }
        Err(e) => notes.insert(0, format!("No sound figures: {e:#}")),
    }
    bandwidth_rows(&mut s, measured);
    cost_rows(&mut s, measured, reference);
    for m in measured {
        if m.played != messages {
            notes.push(format!(
                "{} played {} messages, the reference {messages}.",
                describe(m.listeners),
                m.played
            ));
        }
        if m.dropped > 0 {
            notes.push(format!(
                "{}: the listeners were told of {} drop(s) (a slow listener's queue).",
                describe(m.listeners),
                m.dropped
            ));
        }
    }
    s.notes = notes;
    s
}

fn bandwidth_rows(s: &mut Section, measured: &[Measured]) {
    for m in measured.iter().filter(|m| !m.bytes.is_empty()) {
        let n = m.bytes.len();
        let mean = m.bytes.iter().sum::<u64>() as f64 / n as f64;
        let spread = if n > 1 {
            let (lo, hi) = (
                m.bytes.iter().min().copied().unwrap_or(0),
                m.bytes.iter().max().copied().unwrap_or(0),
            );
            let secs = m.window.as_secs_f64().max(1e-9);
            format!(
                " ({:.2}–{:.2} per listener)",
                lo as f64 / secs / 1e3,
                hi as f64 / secs / 1e3
            )
        } else {
            String::new()
        };
        let per_second = m.played as f64 / m.window.as_secs_f64().max(1e-9);
        s.rows.push(
            Row::new(
                format!(
                    "bandwidth per listener on `/events`, {}",
                    describe(m.listeners)
                ),
                "",
            )
            .measured(format!(
                "{}{spread}, {:.0} B over {:.1} s",
                rate(mean, m.window),
                mean,
                m.window.as_secs_f64()
            ))
            .reference(format!("the song: {per_second:.1} messages/s"))
            .ratio(if m.played == 0 {
                "–".to_string()
            } else {
                format!("{:.0} B per message", mean / m.played as f64)
            }),
        );
    }
}

fn cost_rows(s: &mut Section, measured: &[Measured], reference: Option<&Measured>) {
    let Some(r) = reference else {
        return;
    };
    let figures = |m: &Measured| format!("{:.2} s CPU, {} peak RSS", m.cpu_s, mib(m.peak_kib));
    for m in measured {
        let row = Row::new(format!("instrument {}", describe(m.listeners)), "")
            .measured(figures(m))
            .reference(if m.listeners.is_none() {
                "(the reference)".to_string()
            } else {
                figures(r)
            })
            .ratio(format!(
                "CPU {}, RSS {}",
                ratio(m.cpu_s, r.cpu_s),
                ratio(m.peak_kib as f64, r.peak_kib as f64)
            ));
        s.rows.push(row);
    }
    let zero = measured.iter().find(|m| m.listeners == Some(0));
    let most = measured
        .iter()
        .filter(|m| m.listeners.is_some_and(|n| n > 0))
        .max_by_key(|m| m.listeners);
    if let (Some(z), Some(m), Some(n)) = (zero, most, most.and_then(|m| m.listeners)) {
        let each = (m.cpu_s - z.cpu_s) / n as f64;
        s.rows.push(
            Row::new(format!("CPU per listener: ({n} listeners − 0) / {n}"), "")
                .measured(format!("{each:.3} s"))
                .reference(format!("{:.2} s without --web", r.cpu_s))
                .ratio(ratio(each, r.cpu_s)),
        );
    }
}
