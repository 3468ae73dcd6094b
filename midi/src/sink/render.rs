//! Offline synthesis of what the instrument played to a `.wav` file with
//! rustysynth, for machines with no synthesizer or sound card; also where kmidi
//! looks for a SoundFont, and a reader that summarises a rendered file.
//!
//! Messages are collected with their arrival times and rendered at `finish()`, so
//! playback timing does not depend on how fast this machine synthesizes. Each note
//! starts on its own sample (see [`super::bank`] for how, given rustysynth's 8-sample
//! blocks); [`WavRenderer::with_block_size`] renders the cheaper way, every message
//! on the next block boundary.

use std::ffi::OsString;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustysynth::SoundFont;

use super::bank::{Bank, BLOCK};
use super::{check_parent_dir, parse_message, Sink, SinkError};

/// Output sample rate, Hz.
pub const SAMPLE_RATE: u32 = 44_100;
/// How long the rendering runs on after the last message, so final notes ring out.
pub const TAIL: Duration = Duration::from_millis(1500);
/// When, after the last message, notes still held are released. Earlier than the end
/// of the tail so notes whose note-off never arrived (Ctrl-C, lost messages) fade
/// instead of being cut off with a click.
const RELEASE_HELD: Duration = Duration::from_millis(1000);
/// Frames synthesized per call between messages.
const CHUNK: usize = 4096;

/// Where SoundFonts usually live, in order of preference, after `$KMIDI_SOUNDFONT`.
pub const SOUNDFONT_CANDIDATES: &[&str] = &[
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/opt/homebrew/share/soundfonts/default.sf2",
    "/usr/local/share/soundfonts/default.sf2",
    "/opt/homebrew/share/fluid-synth/sf2/VintageDreamsWaves-v2.sf2",
    "/usr/local/share/fluid-synth/sf2/VintageDreamsWaves-v2.sf2",
];

/// The SoundFont to use: `$KMIDI_SOUNDFONT` if it names an existing file, else the
/// first of [`SOUNDFONT_CANDIDATES`] that exists.
pub fn find_soundfont() -> Option<PathBuf> {
    let candidates: Vec<&Path> = SOUNDFONT_CANDIDATES.iter().map(Path::new).collect();
    find_soundfont_in(std::env::var_os("KMIDI_SOUNDFONT"), &candidates)
}

fn find_soundfont_in(env: Option<OsString>, candidates: &[&Path]) -> Option<PathBuf> {
    if let Some(env) = env.filter(|v| !v.is_empty()) {
        let path = PathBuf::from(env);
        if path.is_file() {
            return Some(path);
        }
        tracing::warn!(path = %path.display(), "KMIDI_SOUNDFONT names no file; looking in the usual places");
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .map(|p| p.to_path_buf())
}

/// Collects what was played and synthesizes it to a 44.1 kHz stereo 16-bit `.wav`
/// at [`Sink::finish`].
pub struct WavRenderer {
    path: PathBuf,
    soundfont_path: PathBuf,
    soundfont: Arc<SoundFont>,
    events: Vec<(Duration, Vec<u8>)>,
    /// `None`: note-ons on their exact sample; `Some(n)`: one synthesizer in blocks
    /// of `n` samples.
    block_size: Option<usize>,
}

impl WavRenderer {
    /// Loads `soundfont` now, so a missing or broken font is reported before
    /// anything is played, and checks that `path`'s directory exists.
    pub fn new(path: impl Into<PathBuf>, soundfont: &Path) -> Result<WavRenderer, SinkError> {
        let path = path.into();
        check_parent_dir(&path)?;
        let font = load_soundfont(soundfont)?;
        Ok(WavRenderer {
            path,
            soundfont_path: soundfont.to_path_buf(),
            soundfont: Arc::new(font),
            events: Vec::new(),
            block_size: None,
        })
    }

    /// Renders with one synthesizer in blocks of `samples` (rustysynth accepts
    /// 8..=1024): a message then lands on the first block boundary at or after its
    /// time, up to `samples − 1` samples late, for an eighth of the effects' cost. kmidi
    /// rendered this way, with 8, before onsets were exact; the benchmark compares both.
    pub fn with_block_size(mut self, samples: usize) -> Self {
        self.block_size = Some(samples);
        self
    }

    /// Where the rendering goes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn render(&self) -> Result<u64, SinkError> {
        let io_err = |source: hound::Error| SinkError::Io {
            action: "write rendering",
            path: self.path.clone(),
            source: match source {
                hound::Error::IoError(e) => e,
                other => std::io::Error::other(other.to_string()),
            },
        };
        let (exact, block) = match self.block_size {
            None => (true, BLOCK),
            Some(n) => (false, n),
        };
        let synth = Bank::new(&self.soundfont, SAMPLE_RATE as i32, exact, block).map_err(|e| {
            SinkError::BadFile {
                path: self.soundfont_path.clone(),
                kind: "SoundFont for synthesis",
                reason: e.to_string(),
            }
        })?;

        check_parent_dir(&self.path)?;
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(&self.path, spec).map_err(io_err)?;
        let mut out = Renderer::new(synth, writer);

        let mut timed: Vec<&(Duration, Vec<u8>)> = self.events.iter().collect();
        // Stable: messages that arrived at the same instant keep their order
        // (a note-off before the note-on that re-strikes the same key).
        timed.sort_by_key(|(at, _)| *at);
        let last = timed.last().map_or(Duration::ZERO, |(at, _)| *at);
        for (at, bytes) in timed {
            out.render_until(to_frames(*at)).map_err(io_err)?;
            out.synth.apply(bytes);
        }
        out.render_until(to_frames(last + RELEASE_HELD))
            .map_err(io_err)?;
        out.synth.note_off_all();
        out.render_until(to_frames(last + TAIL)).map_err(io_err)?;

        let (frames, clipped) = (out.frames, out.clipped);
        out.writer.finalize().map_err(io_err)?;
        if clipped > 0 {
            tracing::warn!(path = %self.path.display(), clipped, "rendering clipped");
        }
        Ok(frames)
    }
}

impl Sink for WavRenderer {
    fn send(&mut self, bytes: &[u8], at: Duration) -> Result<(), SinkError> {
        parse_message(bytes)?;
        self.events.push((at, bytes.to_vec()));
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        let frames = self.render()?;
        tracing::info!(path = %self.path.display(), seconds = frames as f64 / f64::from(SAMPLE_RATE), "wrote rendering");
        Ok(())
    }

    fn describe(&self) -> String {
        format!(
            "rendering to {} with {}",
            self.path.display(),
            self.soundfont_path.display()
        )
    }
}

/// Synthesizer plus the file it streams into, tracking the write position.
struct Renderer {
    synth: Bank,
    writer: hound::WavWriter<std::io::BufWriter<File>>,
    frames: u64,
    clipped: u64,
    left: Vec<f32>,
    right: Vec<f32>,
}

impl Renderer {
    fn new(synth: Bank, writer: hound::WavWriter<std::io::BufWriter<File>>) -> Self {
        Renderer {
            synth,
            writer,
            frames: 0,
            clipped: 0,
            left: vec![0.0; CHUNK],
            right: vec![0.0; CHUNK],
        }
    }

    /// Synthesizes and writes frames up to (not including) frame `end`.
    fn render_until(&mut self, end: u64) -> Result<(), hound::Error> {
        while self.frames < end {
            let n = usize::try_from(end - self.frames).map_or(CHUNK, |n| n.min(CHUNK));
            let (left, right) = (&mut self.left[..n], &mut self.right[..n]);
            self.synth.render(left, right);
            for (l, r) in left.iter().zip(right.iter()) {
                for s in [*l, *r] {
                    let (sample, clipped) = to_i16(s);
                    self.clipped += u64::from(clipped);
                    self.writer.write_sample(sample)?;
                }
            }
            self.frames += n as u64;
        }
        Ok(())
    }
}

fn to_frames(at: Duration) -> u64 {
    let frames = (at.as_nanos() * u128::from(SAMPLE_RATE) + 500_000_000) / 1_000_000_000;
    u64::try_from(frames).unwrap_or(u64::MAX)
}

fn to_i16(sample: f32) -> (i16, bool) {
    let scaled = sample * 32767.0;
    if scaled > 32767.0 {
        (i16::MAX, true)
    } else if scaled < -32768.0 {
        (i16::MIN, true)
    } else {
        // NaN becomes 0 here, which is what silence should be.
        (scaled as i16, false)
    }
}

fn load_soundfont(path: &Path) -> Result<SoundFont, SinkError> {
    let file = File::open(path).map_err(|source| SinkError::Io {
        action: "open SoundFont",
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = BufReader::new(file);
    // rustysynth indexes tables with values read from the file. Truncated and
    // byte-flipped fonts gave errors, not panics, when tried; the guard is for the
    // damage nobody tried, since a bad file is no reason to take the instrument down.
    let parsed =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| SoundFont::new(&mut reader)));
    let bad = |reason: String| SinkError::BadFile {
        path: path.to_path_buf(),
        kind: "SoundFont (.sf2)",
        reason: format!("{reason}; point KMIDI_SOUNDFONT or --soundfont at a working .sf2"),
    };
    match parsed {
        Ok(Ok(font)) => Ok(font),
        Ok(Err(e)) => Err(bad(e.to_string())),
        Err(_) => Err(bad("the SoundFont parser crashed on it".to_string())),
    }
}

/// Length and loudness of a `.wav` file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WavSummary {
    /// Frames (samples per channel).
    pub frames: u32,
    pub sample_rate: u32,
    pub channels: u16,
    /// Largest absolute sample, 0.0 ..= 1.0 of full scale.
    pub peak: f32,
}

impl WavSummary {
    /// Length in seconds.
    pub fn seconds(&self) -> f64 {
        f64::from(self.frames) / f64::from(self.sample_rate.max(1))
    }

    /// Peak in dBFS (negative; `-inf` for digital silence).
    pub fn peak_dbfs(&self) -> f32 {
        20.0 * self.peak.log10()
    }
}

/// Turns hound's error reading the `.wav` at `path` into a [`SinkError`] naming it.
pub fn wav_read_error(path: &Path) -> impl Fn(hound::Error) -> SinkError + Copy + '_ {
    move |e| match e {
        hound::Error::IoError(source) => SinkError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        },
        other => SinkError::BadFile {
            path: path.to_path_buf(),
            kind: "WAV file",
            reason: other.to_string(),
        },
    }
}

/// Reads a `.wav` (16/24/32-bit integer or 32-bit float) and measures it.
pub fn wav_summary(path: impl AsRef<Path>) -> Result<WavSummary, SinkError> {
    let path = path.as_ref();
    let bad = wav_read_error(path);
    let mut reader = hound::WavReader::open(path).map_err(bad)?;
    let spec = reader.spec();
    let mut peak = 0f32;
    match spec.sample_format {
        hound::SampleFormat::Float => {
            for s in reader.samples::<f32>() {
                peak = peak.max(s.map_err(bad)?.abs());
            }
        }
        hound::SampleFormat::Int => {
            let full = (1i64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            for s in reader.samples::<i32>() {
                peak = peak.max(s.map_err(bad)?.unsigned_abs() as f32 / full);
            }
        }
    }
    Ok(WavSummary {
        frames: reader.duration(),
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        peak: peak.min(1.0),
    })
}

/// `(frames, peak 0..1)` of a `.wav`, for "rendered 12.3 s, peak -6 dBFS".
pub fn wav_peak(path: impl AsRef<Path>) -> Result<(u32, f32), SinkError> {
    wav_summary(path).map(|s| (s.frames, s.peak))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_to_the_nearest_sample() {
        assert_eq!(to_frames(Duration::ZERO), 0);
        assert_eq!(to_frames(Duration::from_secs(1)), 44_100);
        assert_eq!(to_frames(Duration::from_micros(11)), 0);
        assert_eq!(to_frames(Duration::from_micros(12)), 1);
    }

    #[test]
    fn samples_beyond_full_scale_are_clamped_and_counted() {
        assert_eq!(to_i16(0.0), (0, false));
        assert_eq!(to_i16(1.5), (i16::MAX, true));
        assert_eq!(to_i16(-1.5), (i16::MIN, true));
        assert_eq!(to_i16(f32::NAN), (0, false));
    }

    #[test]
    fn soundfont_env_wins_when_it_exists_and_is_skipped_when_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.sf2");
        let b = dir.path().join("b.sf2");
        std::fs::write(&a, b"x").expect("write");
        std::fs::write(&b, b"x").expect("write");
        let missing = dir.path().join("missing.sf2");
        let cands = [missing.as_path(), b.as_path()];
        assert_eq!(find_soundfont_in(Some(a.clone().into()), &cands), Some(a));
        assert_eq!(
            find_soundfont_in(Some(missing.clone().into()), &cands),
            Some(b.clone())
        );
        assert_eq!(find_soundfont_in(None, &cands), Some(b));
        assert_eq!(find_soundfont_in(None, &[missing.as_path()]), None);
    }

    #[test]
    fn a_file_that_is_not_a_soundfont_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let font = dir.path().join("broken.sf2");
        std::fs::write(&font, b"RIFF\x04\x00\x00\x00sfbkjunkjunk").expect("write");
        let err = WavRenderer::new(dir.path().join("out.wav"), &font)
            .err()
            .expect("must fail");
        assert!(err.to_string().contains("broken.sf2"), "{err}");
        let missing = WavRenderer::new(dir.path().join("out.wav"), &dir.path().join("none.sf2"))
            .err()
            .expect("must fail");
        assert!(missing.to_string().contains("none.sf2"), "{missing}");
    }
}
