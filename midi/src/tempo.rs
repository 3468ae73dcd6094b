//! The tempo map: converts a tick position in a Standard MIDI File into absolute time
//! from the start of the song, honouring every tempo change (metrical division) or the
//! fixed SMPTE frame rate (timecode division).
//!
//! Arithmetic is done in integer nanoseconds with `u128` so that long files with many
//! tempo changes do not accumulate floating-point drift and absurd inputs cannot overflow.

use std::time::Duration;

use midly::{Fps, Timing};

/// Tempo the MIDI standard assumes until the first tempo event: 120 quarter notes/min.
pub const DEFAULT_MICROS_PER_QUARTER: u32 = 500_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    tick: u64,
    micros_per_quarter: u32,
    /// Song time at `tick`, so lookups need not re-walk earlier segments.
    start_nanos: u128,
}

#[derive(Clone, Debug)]
enum Division {
    /// Ticks per quarter note; the length of a quarter comes from the tempo.
    Metrical { ticks_per_quarter: u64 },
    /// A fixed number of ticks per second, as the fraction `num / den` so that 29.97 fps
    /// stays exact.
    Timecode {
        ticks_per_sec_num: u64,
        ticks_per_sec_den: u64,
    },
}

/// Ticks to absolute time for one file.
#[derive(Clone, Debug)]
pub struct TempoMap {
    division: Division,
    /// Sorted by tick, never empty, first segment at tick 0.
    segments: Vec<Segment>,
}

impl TempoMap {
    /// A map with the default tempo. A division of zero ticks is meaningless; it is treated
    /// as one tick so that nothing divides by zero (the loader refuses such files before
    /// they get here).
    pub fn new(timing: Timing) -> Self {
        let division = match timing {
            Timing::Metrical(tpq) => Division::Metrical {
                ticks_per_quarter: u64::from(tpq.as_int()).max(1),
            },
            Timing::Timecode(fps, subframes) => {
                let subframes = u64::from(subframes).max(1);
                // 29.97 drop-frame is the only non-integer rate.
                let (num, den) = match fps {
                    Fps::Fps29 => (2997, 100),
                    other => (u64::from(other.as_int()), 1),
                };
                Division::Timecode {
                    ticks_per_sec_num: num * subframes,
                    ticks_per_sec_den: den,
                }
            }
        };
        Self {
            division,
            segments: vec![Segment {
                tick: 0,
                micros_per_quarter: DEFAULT_MICROS_PER_QUARTER,
                start_nanos: 0,
            }],
        }
    }

    pub fn is_timecode(&self) -> bool {
        matches!(self.division, Division::Timecode { .. })
    }

    /// Records a tempo change. Changes may arrive in any order; a later change at the same
    /// tick replaces an earlier one, as a player reading the events in order would do.
    /// Under SMPTE division tempo does not affect time, so the change is ignored.
    pub fn add_change(&mut self, tick: u64, micros_per_quarter: u32) {
        if self.is_timecode() {
            return;
        }
        let idx = self.segments.partition_point(|s| s.tick <= tick);
        let replace = idx > 0 && self.segments[idx - 1].tick == tick;
        let at = if replace { idx - 1 } else { idx };
        let seg = Segment {
            tick,
            micros_per_quarter,
            start_nanos: 0,
        };
        if replace {
            self.segments[at] = seg;
        } else {
            self.segments.insert(at, seg);
        }
        self.recompute_from(at);
    }

    /// The number of distinct tempo segments (the implicit default included).
    pub fn changes(&self) -> usize {
        self.segments.len()
    }

    fn recompute_from(&mut self, from: usize) {
        for i in from.max(1)..self.segments.len() {
            let prev = self.segments[i - 1];
            let tick = self.segments[i].tick;
            self.segments[i].start_nanos = prev.start_nanos + self.span_nanos(&prev, tick);
        }
    }

    /// Nanoseconds from `seg.tick` to `tick` at the segment's tempo.
    fn span_nanos(&self, seg: &Segment, tick: u64) -> u128 {
        let ticks = u128::from(tick.saturating_sub(seg.tick));
        match self.division {
            Division::Metrical { ticks_per_quarter } => {
                ticks * u128::from(seg.micros_per_quarter) * 1_000 / u128::from(ticks_per_quarter)
            }
            Division::Timecode {
                ticks_per_sec_num,
                ticks_per_sec_den,
            } => {
                ticks * 1_000_000_000 * u128::from(ticks_per_sec_den)
                    / u128::from(ticks_per_sec_num)
            }
        }
    }

    /// Song time at `tick`, saturating at `u64::MAX` nanoseconds (about 584 years; the
    /// loader refuses anything near that long).
    pub fn time_at(&self, tick: u64) -> Duration {
        let nanos = match self.division {
            Division::Timecode { .. } => self.span_nanos(&self.segments[0], tick),
            Division::Metrical { .. } => {
                let idx = self.segments.partition_point(|s| s.tick <= tick);
                // idx >= 1 because segments[0].tick == 0 <= any tick.
                let seg = &self.segments[idx.saturating_sub(1)];
                seg.start_nanos + self.span_nanos(seg, tick)
            }
        };
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use midly::num::u15;

    fn metrical(tpq: u16) -> TempoMap {
        TempoMap::new(Timing::Metrical(u15::new(tpq)))
    }

    #[test]
    fn default_tempo_is_half_a_second_per_quarter() {
        let map = metrical(480);
        assert_eq!(map.time_at(0), Duration::ZERO);
        assert_eq!(map.time_at(480), Duration::from_millis(500));
        assert_eq!(map.time_at(960 * 3), Duration::from_secs(3));
    }

    #[test]
    fn every_tempo_change_applies_from_its_tick_onwards() {
        let mut map = metrical(100);
        map.add_change(0, 1_000_000); // 1 s per quarter
        map.add_change(200, 250_000); // then 4 quarters per second
        map.add_change(600, 2_000_000); // then 2 s per quarter
        assert_eq!(map.time_at(100), Duration::from_millis(1_000));
        assert_eq!(map.time_at(200), Duration::from_millis(2_000));
        assert_eq!(map.time_at(600), Duration::from_millis(3_000));
        assert_eq!(map.time_at(650), Duration::from_millis(4_000));
    }

    #[test]
    fn changes_added_out_of_order_give_the_same_map() {
        let mut ordered = metrical(96);
        let mut shuffled = metrical(96);
        let changes = [(96, 400_000), (500, 700_000), (1_000, 300_000)];
        for (t, us) in changes {
            ordered.add_change(t, us);
        }
        for (t, us) in changes.iter().rev() {
            shuffled.add_change(*t, *us);
        }
        for tick in [0, 50, 96, 300, 500, 999, 1_000, 5_000] {
            assert_eq!(ordered.time_at(tick), shuffled.time_at(tick), "tick {tick}");
        }
    }

    #[test]
    fn a_later_change_at_the_same_tick_replaces_the_earlier_one() {
        let mut map = metrical(10);
        map.add_change(10, 100_000);
        map.add_change(10, 1_000_000);
        assert_eq!(map.changes(), 2);
        assert_eq!(map.time_at(20), Duration::from_millis(1_500));
    }

    #[test]
    fn smpte_division_counts_frames_and_subframes_and_ignores_tempo() {
        let mut map = TempoMap::new(Timing::Timecode(Fps::Fps25, 40)); // 1000 ticks/s
        map.add_change(0, 123_456);
        assert_eq!(map.time_at(1_000), Duration::from_secs(1));
        assert_eq!(map.time_at(2_500), Duration::from_millis(2_500));
    }

    #[test]
    fn smpte_29_97_is_drop_frame_rate_not_30() {
        let map = TempoMap::new(Timing::Timecode(Fps::Fps29, 100)); // 2997 ticks/s
        assert_eq!(map.time_at(2_997), Duration::from_secs(1));
    }

    #[test]
    fn zero_division_does_not_panic() {
        let map = metrical(0);
        assert_eq!(map.time_at(1), Duration::from_millis(500));
        let map = TempoMap::new(Timing::Timecode(Fps::Fps24, 0));
        assert_eq!(map.time_at(24), Duration::from_secs(1));
    }

    #[test]
    fn absurd_positions_saturate_instead_of_overflowing() {
        let mut map = metrical(1);
        map.add_change(0, u32::MAX);
        assert_eq!(map.time_at(u64::MAX), Duration::from_nanos(u64::MAX));
    }
}
