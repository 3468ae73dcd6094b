//! What the load runner learns from one side's instrument and player while the song
//! plays: where the song started (from the notes heard, as the churn lab does), the
//! notes heard so far (to judge a ramp level as soon as it ends), and the host's own
//! figures per note (the player's scheduling lateness, the instrument's processing
//! time) on the song's time axis.

use std::sync::Mutex;

use kmidi_engine::listen::ListenReport;
use kmidi_engine::measure::{unix_us, Sample};
use kmidi_engine::observe::Observer;

/// Samples of the host's own figures kept at most per side: every loop and buffer is
/// bounded (a long song at 100 notes/s stays far below it).
const MAX_SERIES: usize = 1_000_000;

#[derive(Default)]
struct Seen {
    /// Where the song started, µs since the Unix epoch: `arrival − latency − at`, the
    /// earliest such (lateness only makes it later).
    song_start_us: Option<u64>,
    /// The notes heard so far, as the meter recorded them.
    samples: Vec<Sample>,
    /// `(wall µs, µs)`: when and how late the player handed a note over.
    lateness: Vec<(u64, u64)>,
    /// `(wall µs, µs)`: when and how long the instrument took with a note.
    processing: Vec<(u64, u64)>,
}

/// `(song time s, µs)` per note.
pub type Series = Vec<(f64, u64)>;

/// One side's [`Observer`] for the load runner.
#[derive(Default)]
pub struct SideWatch {
    seen: Mutex<Seen>,
}

impl SideWatch {
    pub fn song_start_us(&self) -> Option<u64> {
        self.seen.lock().ok()?.song_start_us
    }

    /// How many seconds after `common_start_us` (the earliest side's start) this
    /// side's song started; 0 when it has not been heard yet. compare's sides each
    /// start once their own consumer has its partitions, seconds apart when one joins
    /// a classic group (the broker's initial rebalance delay), so a step at one
    /// wall-clock moment falls at different song times on each side: a side's window
    /// of a step is the common one moved back by this much.
    pub fn lag_s(&self, common_start_us: u64) -> f64 {
        self.song_start_us()
            .map_or(0.0, |s| s.saturating_sub(common_start_us) as f64 / 1e6)
    }

    /// The notes heard so far.
    pub fn samples(&self) -> Vec<Sample> {
        self.seen
            .lock()
            .map(|s| s.samples.clone())
            .unwrap_or_default()
    }

    /// The player's lateness and the instrument's processing time, `(song time s, µs)`,
    /// for a song that started at `start_us`.
    pub fn host_series(&self, start_us: u64) -> (Series, Series) {
        let Ok(seen) = self.seen.lock() else {
            return (Vec::new(), Vec::new());
        };
        let on_song = |series: &[(u64, u64)]| {
            series
                .iter()
                .map(|(at, v)| ((*at as f64 - start_us as f64) / 1e6, *v))
                .collect()
        };
        (on_song(&seen.lateness), on_song(&seen.processing))
    }
}

impl Observer for SideWatch {
    fn live(&self, report: &ListenReport) {
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        let new = report
            .meter
            .samples
            .get(seen.samples.len()..)
            .unwrap_or(&[]);
        let mut start = seen.song_start_us;
        for s in new {
            if let Some(latency) = s.latency_ms {
                let at = s.arrived_unix_ms * 1000.0 - latency * 1000.0 - s.at_s * 1e6;
                if at.is_finite() && at > 0.0 {
                    let at = at as u64;
                    start = Some(start.map_or(at, |b| b.min(at)));
                }
            }
        }
        seen.song_start_us = start;
        seen.samples.extend(new.iter().cloned());
    }

    fn sent(&self, _topic: &str, lateness_us: u64, _ok: bool) {
        if let Ok(mut seen) = self.seen.lock() {
            if seen.lateness.len() < MAX_SERIES {
                seen.lateness.push((unix_us(), lateness_us));
            }
        }
    }

    fn processed(&self, _topic: &str, us: u64) {
        if let Ok(mut seen) = self.seen.lock() {
            if seen.processing.len() < MAX_SERIES {
                seen.processing.push((unix_us(), us));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_song_start_is_the_earliest_arrival_less_latency_and_song_time() {
        let watch = SideWatch::default();
        let mut report = ListenReport::default();
        let mut late = Sample::heard(0, 0, 1.0, 10_000.0);
        late.latency_ms = Some(5.0);
        report.meter.samples.push(late);
        watch.live(&report);
        // 10 000 ms − 5 ms − 1 s.
        assert_eq!(watch.song_start_us(), Some(8_995_000));
        let mut early = Sample::heard(1, 0, 2.0, 11_000.0);
        early.latency_ms = Some(1.0);
        report.meter.samples.push(early);
        watch.live(&report);
        assert_eq!(watch.song_start_us(), Some(8_995_000));
        assert_eq!(watch.samples().len(), 2, "each sample is taken once");
        watch.live(&report);
        assert_eq!(watch.samples().len(), 2);
    }

    #[test]
    fn a_side_lags_the_earliest_start_by_its_own_start() {
        let watch = SideWatch::default();
        assert_eq!(watch.lag_s(1_000_000), 0.0, "not heard yet");
        let mut report = ListenReport::default();
        let mut s = Sample::heard(0, 0, 0.0, 4_000.0);
        s.latency_ms = Some(0.0);
        report.meter.samples.push(s);
        watch.live(&report);
        // Its song started at 4 000 ms, the earliest side's at 1 000 ms.
        assert!((watch.lag_s(1_000_000) - 3.0).abs() < 1e-9);
        assert_eq!(watch.lag_s(5_000_000), 0.0, "never negative");
    }

    #[test]
    fn the_host_series_are_put_on_the_songs_time_axis() {
        let watch = SideWatch::default();
        watch.sent("t", 40, true);
        watch.processed("t", 7);
        let now = unix_us();
        let (lateness, processing) = watch.host_series(now - 2_000_000);
        assert_eq!(lateness.len(), 1);
        assert!((lateness[0].0 - 2.0).abs() < 0.5, "{lateness:?}");
        assert_eq!((lateness[0].1, processing[0].1), (40, 7));
    }
}
