//! Two players in one pair of ears: sinks shared by several listeners, and a side
//! adapter that moves one listener's channels to its own half of the 16 MIDI channels
//! and pans them hard left or right, so an A/B comparison is heard A left, B right.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Sink, SinkError};

/// Pan controller (CC10): 0 hard left, 127 hard right.
const CC_PAN: u8 = 10;
/// General MIDI's percussion channel keeps its meaning on both sides.
const DRUMS: u8 = 9;

/// Sinks written to by several threads; finished once by their owner.
#[derive(Clone)]
pub struct SharedSinks {
    inner: Arc<Mutex<Vec<Box<dyn Sink>>>>,
}

impl SharedSinks {
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(sinks)),
        }
    }

    fn send(&self, bytes: &[u8], at: Duration) -> Result<(), SinkError> {
        let mut sinks = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut first = Ok(());
        for sink in sinks.iter_mut() {
            if let Err(e) = sink.send(bytes, at) {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }

    /// Finishes every sink; returns what each is, with its outcome.
    pub fn finish(&self) -> Vec<(String, Result<(), SinkError>)> {
        let mut sinks = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        sinks
            .iter_mut()
            .map(|s| (s.describe(), s.finish()))
            .collect()
    }

    pub fn describe(&self) -> String {
        let sinks = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        sinks
            .iter()
            .map(|s| s.describe())
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// Which half of the stereo field a listener plays to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

impl Side {
    /// Where channel `ch` of a song goes on this side: left uses 0–7, right 8 and
    /// 10–15; the drum channel stays 9.
    pub fn channel(self, ch: u8) -> u8 {
        if ch == DRUMS {
            return DRUMS;
        }
        match self {
            Side::Left => ch % 8,
            Side::Right => [8, 10, 11, 12, 13, 14, 15][usize::from(ch % 7)],
        }
    }

    fn pan(self) -> u8 {
        match self {
            Side::Left => 0,
            Side::Right => 127,
        }
    }
}

/// One listener's view of the shared sinks: channels remapped to its side, the song's
/// own pan changes dropped so they cannot pull it back to the middle.
pub struct SideSink {
    shared: SharedSinks,
    side: Side,
    label: String,
}

impl SideSink {
    /// Pans this side's channels before the first note.
    pub fn new(
        shared: SharedSinks,
        side: Side,
        label: impl Into<String>,
    ) -> Result<Self, SinkError> {
        let sink = Self {
            shared,
            side,
            label: label.into(),
        };
        let mut done = Vec::new();
        for ch in 0..16u8 {
            let out = side.channel(ch);
            if out != DRUMS && !done.contains(&out) {
                done.push(out);
                sink.shared
                    .send(&[0xB0 | out, CC_PAN, side.pan()], Duration::ZERO)?;
            }
        }
        Ok(sink)
    }
}

impl Sink for SideSink {
    fn send(&mut self, bytes: &[u8], at: Duration) -> Result<(), SinkError> {
        match bytes {
            [status @ 0x80..=0xEF, rest @ ..] => {
                if status & 0xF0 == 0xB0 && rest.first() == Some(&CC_PAN) {
                    return Ok(());
                }
                let mut moved = bytes.to_vec();
                moved[0] = (status & 0xF0) | self.side.channel(status & 0x0F);
                self.shared.send(&moved, at)
            }
            _ => self.shared.send(bytes, at),
        }
    }

    /// The shared sinks are finished once, by their owner.
    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    fn describe(&self) -> String {
        format!("{} ({:?})", self.label, self.side)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Tap(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Sink for Tap {
        fn send(&mut self, bytes: &[u8], _: Duration) -> Result<(), SinkError> {
            self.0.lock().unwrap().push(bytes.to_vec());
            Ok(())
        }
        fn finish(&mut self) -> Result<(), SinkError> {
            Ok(())
        }
        fn describe(&self) -> String {
            "tap".into()
        }
    }

    #[test]
    fn sides_never_share_a_melodic_channel() {
        for a in 0..16u8 {
            for b in 0..16u8 {
                let (l, r) = (Side::Left.channel(a), Side::Right.channel(b));
                assert!(l != r || l == DRUMS, "{a}->{l} and {b}->{r}");
            }
        }
    }

    #[test]
    fn right_side_is_panned_right_and_remapped() {
        let tap = Tap::default();
        let shared = SharedSinks::new(vec![Box::new(tap.clone())]);
        let mut right = SideSink::new(shared, Side::Right, "B").unwrap();
        right.send(&[0x90, 60, 100], Duration::ZERO).unwrap();
        right.send(&[0xB1, CC_PAN, 64], Duration::ZERO).unwrap();
        let got = tap.0.lock().unwrap().clone();
        assert!(got.contains(&vec![0xB8, CC_PAN, 127]), "{got:?}");
        assert_eq!(got.last(), Some(&vec![0x98, 60, 100]), "song pan dropped");
    }
}
