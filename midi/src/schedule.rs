//! Absolute-deadline scheduling: when each score event is due on the wall clock, and a
//! sleep that reaches that instant with sub-millisecond precision.
//!
//! Deadlines are always computed from the song's start instant, never by adding up
//! deltas, so a late wake-up or a slow send delays one event but never shifts the rest of
//! the song.

use std::time::{Duration, Instant};

/// How long before a deadline `sleep_until` stops trusting the OS sleep and spins: OS
/// sleeps routinely overshoot by up to a millisecond on a loaded machine.
const SPIN_MARGIN: Duration = Duration::from_micros(1_500);

/// Below this, spinning with `yield_now` would risk losing the CPU past the deadline, so
/// the last stretch is a pure busy-wait.
const BUSY_MARGIN: Duration = Duration::from_micros(200);

/// Blocks until `deadline`. Returns immediately if it has passed; never returns before it.
pub fn sleep_until(deadline: Instant) {
    loop {
        let now = Instant::now();
        let Some(remaining) = deadline
            .checked_duration_since(now)
            .filter(|d| !d.is_zero())
        else {
            return;
        };
        if remaining > SPIN_MARGIN {
            std::thread::sleep(remaining - SPIN_MARGIN);
        } else if remaining > BUSY_MARGIN {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Maps song time to wall-clock deadlines for one playback.
#[derive(Clone, Copy, Debug)]
pub struct SongClock {
    start: Instant,
    speed: f64,
}

impl SongClock {
    /// `speed` multiplies every song time, as the Python original's `--speed-ratio`:
    /// 1.1 plays 10 % slower, 0.5 twice as fast, 0 sends everything at once. A negative,
    /// infinite or NaN speed has no meaning and is replaced by 1.0 with a warning rather
    /// than being allowed to produce nonsense deadlines.
    pub fn new(start: Instant, speed: f64) -> Self {
        let speed = if speed.is_finite() && speed >= 0.0 {
            speed
        } else {
            tracing::warn!(speed, "invalid speed ratio; playing at normal speed (1.0)");
            1.0
        };
        Self { start, speed }
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The song time `at`, scaled by the speed, as an offset from the start.
    pub fn offset(&self, at: Duration) -> Duration {
        Duration::try_from_secs_f64(at.as_secs_f64() * self.speed).unwrap_or(Duration::MAX)
    }

    /// The instant the event at song time `at` is due. Saturates far in the future rather
    /// than overflowing if the offset cannot be represented.
    pub fn deadline(&self, at: Duration) -> Instant {
        let offset = self.offset(at);
        self.start
            .checked_add(offset)
            .or_else(|| {
                self.start
                    .checked_add(Duration::from_secs(u64::from(u32::MAX)))
            })
            .unwrap_or(self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_offsets_from_start_not_accumulated_deltas() {
        let start = Instant::now();
        let clock = SongClock::new(start, 1.0);
        // 1000 events a third of a millisecond apart: accumulating rounded deltas would drift.
        let step = Duration::from_nanos(333_333);
        let mut at = Duration::ZERO;
        for _ in 0..1_000 {
            at += step;
        }
        assert_eq!(clock.deadline(at), start + step * 1_000);
        // Asking out of order gives the same answer: the clock has no running state.
        assert_eq!(
            clock.deadline(Duration::from_secs(2)),
            start + Duration::from_secs(2)
        );
        assert_eq!(
            clock.deadline(Duration::from_secs(1)),
            start + Duration::from_secs(1)
        );
    }

    #[test]
    fn speed_ratio_above_one_plays_slower() {
        let start = Instant::now();
        let slow = SongClock::new(start, 1.5);
        let fast = SongClock::new(start, 0.5);
        assert_eq!(
            slow.deadline(Duration::from_secs(2)),
            start + Duration::from_secs(3)
        );
        assert_eq!(
            fast.deadline(Duration::from_secs(2)),
            start + Duration::from_secs(1)
        );
        assert_eq!(
            SongClock::new(start, 0.0).deadline(Duration::from_secs(9)),
            start
        );
    }

    #[test]
    fn meaningless_speed_falls_back_to_normal_speed() {
        let start = Instant::now();
        for speed in [f64::NAN, -1.0, f64::INFINITY] {
            let clock = SongClock::new(start, speed);
            assert_eq!(clock.speed(), 1.0);
            assert_eq!(
                clock.deadline(Duration::from_secs(1)),
                start + Duration::from_secs(1)
            );
        }
    }

    #[test]
    fn huge_song_times_do_not_panic() {
        let start = Instant::now();
        let clock = SongClock::new(start, 1e300);
        assert!(clock.deadline(Duration::from_secs(1)) > start);
    }

    #[test]
    fn sleep_until_never_returns_before_the_deadline() {
        for micros in [0u64, 50, 900, 1_600, 4_000] {
            let deadline = Instant::now() + Duration::from_micros(micros);
            sleep_until(deadline);
            assert!(Instant::now() >= deadline, "woke early for {micros} µs");
        }
    }

    #[test]
    fn sleep_until_a_past_deadline_returns_at_once() {
        let past = Instant::now();
        std::thread::sleep(Duration::from_millis(2));
        let before = Instant::now();
        sleep_until(past);
        // Generous bound: only catches a sleep for the (negative) remaining time wrapping.
        assert!(before.elapsed() < Duration::from_millis(500));
    }
}
