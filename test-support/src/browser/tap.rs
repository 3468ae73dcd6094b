//! What the page played, as the page itself produced it: the audio its AudioWorklet
//! tapped (`?tap=1`) and where it scheduled each note-on, on one timeline (frames of the
//! page's own audio clock, from the tap's first frame). Under load that clock runs
//! slower than the wall clock, so wall time says nothing about it.

use std::time::Duration;

use serde_json::Value;

use super::{base64_decode, Browser};

/// The page's audio and schedule, taken once the run has ended.
pub struct PageAudio {
    /// Frames per second of the page's audio clock.
    pub sample_rate: f64,
    /// Left and right mixed.
    pub mono: Vec<f32>,
    /// Where the page put each note-on in its audio (`kmidiTap.noteFrames()`), from the
    /// tap's first frame.
    pub scheduled: Vec<Duration>,
    /// The page's buffer delay when the tap was taken, ms (`kmidiPage.delayMs()`).
    pub delay_ms: Value,
    /// How many times the page ran out of sound (`kmidiPage.underruns()`).
    pub underruns: Value,
}

impl PageAudio {
    /// Takes the tap of the page open in `browser` (opened with `?tap=1`).
    ///
    /// # Panics
    ///
    /// If the page has no tap or it is not what the page's script hands out.
    pub fn take(browser: &Browser) -> PageAudio {
        let tap = browser.eval("kmidiTap.take()");
        let sample_rate = tap["sampleRate"].as_f64().expect("a sample rate");
        let (left, right) = (samples(&tap["left"]), samples(&tap["right"]));
        let mono = left
            .iter()
            .zip(&right)
            .map(|(l, r)| (l + r) / 2.0)
            .collect();
        let delay_ms = browser.eval("kmidiPage.delayMs()");
        let underruns = browser.eval("kmidiPage.underruns()");
        let first = tap["firstFrame"].as_f64().expect("the tap's first frame");
        let scheduled = browser
            .eval("kmidiTap.noteFrames()")
            .as_array()
            .expect("the frames the page scheduled")
            .iter()
            .map(|f| Duration::from_secs_f64((f.as_f64().unwrap_or(0.0) - first) / sample_rate))
            .collect();
        PageAudio {
            sample_rate,
            mono,
            scheduled,
            delay_ms,
            underruns,
        }
    }
}

/// One channel of the tap: little-endian f32 samples, base64.
fn samples(v: &Value) -> Vec<f32> {
    let bytes = base64_decode(v.as_str().expect("base64 text")).expect("valid base64");
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tap_samples_are_little_endian_floats() {
        // 1.0f32 and -0.5f32, little-endian: 00 00 80 3f, 00 00 00 bf.
        assert_eq!(samples(&Value::from("AACAPwAAAL8=")), vec![1.0, -0.5]);
    }
}
