//! The y axis of a panel: linear, or log when the values span orders of magnitude (a
//! rebalance's seconds-long stalls beside sub-millisecond notes), and the audibility
//! thresholds drawn on it.

use kmidi_engine::measure::{AUDIBLE_FLIP_US, AUDIBLE_SHIFT_US};

/// The lowest value a log axis shows, ms. A log axis cannot show zero or a negative
/// value (ln of them is -inf or NaN), and an onset error of exactly zero is common (the
/// note a song's timing is anchored on), so such values are clamped up to the axis
/// floor, which is never below this: they sit on the bottom edge, visible, instead of
/// being drawn at -inf or dropped.
pub const FLOOR_MS: f64 = 0.01;

/// A log axis when the largest plotted value is at least this many times the smallest.
pub const LOG_SPREAD: f64 = 100.0;

/// A shift heard as out of time, ms.
pub fn shift_ms() -> f64 {
    AUDIBLE_SHIFT_US as f64 / 1000.0
}

/// Notes this far apart in the score, swapped, are heard as a wrong melody, ms.
pub fn flip_ms() -> f64 {
    AUDIBLE_FLIP_US as f64 / 1000.0
}

/// What a panel plots.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// End-to-end latency: positive (but for clock skew between machines).
    Latency,
    /// Onset error against the score: signed, early or late.
    Onset,
}

impl Kind {
    /// The largest threshold drawn on this panel: a log axis reaches at least past it.
    fn keep_ms(self) -> f64 {
        match self {
            Kind::Latency => shift_ms() * 1.5,
            Kind::Onset => flip_ms() * 1.5,
        }
    }
}

/// A panel's y axis, ms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    Linear {
        lo: f64,
        hi: f64,
    },
    /// `floor` is a power of ten, at least [`FLOOR_MS`]; `hi` a power of ten.
    Log {
        floor: f64,
        hi: f64,
    },
}

impl Scale {
    /// Linear, as the plot always was (reaching at least ±1.5 times the inaudible band),
    /// unless the values span [`LOG_SPREAD`] or more: then log, of the magnitudes for a
    /// signed kind. The spread is taken over the values above zero (of the magnitudes for
    /// a signed kind), the smallest counted as at least [`FLOOR_MS`]: an exact zero
    /// carries no magnitude and does not by itself force a log axis.
    pub fn choose(values: &[f64], kind: Kind) -> Scale {
        let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let magnitudes = values
            .iter()
            .map(|&v| if kind == Kind::Onset { v.abs() } else { v })
            .filter(|&v| v > 0.0);
        let (min, max) = magnitudes.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if max > 0.0 && max / min.max(FLOOR_MS) >= LOG_SPREAD {
            let floor = decade_below(min).max(FLOOR_MS);
            let hi = decade_above(max.max(kind.keep_ms()));
            return Scale::Log { floor, hi };
        }
        let band = shift_ms() * 1.5;
        Scale::Linear {
            lo: values.iter().copied().fold(-band, f64::min),
            hi: values.iter().copied().fold(band, f64::max),
        }
    }

    pub fn is_log(&self) -> bool {
        matches!(self, Scale::Log { .. })
    }

    /// The axis range.
    pub fn range(&self) -> (f64, f64) {
        match *self {
            Scale::Linear { lo, hi } => (lo, hi),
            Scale::Log { floor, hi } => (floor, hi),
        }
    }

    /// Where value `v` of `kind` is drawn: itself on a linear axis; on a log axis its
    /// magnitude for a signed kind, and anything below the floor (zero, a negative
    /// latency from clock skew, a tiny error) clamped up to the floor (see [`FLOOR_MS`]).
    pub fn place(&self, v: f64, kind: Kind) -> f64 {
        match *self {
            Scale::Linear { .. } => v,
            Scale::Log { floor, hi } => {
                let v = if kind == Kind::Onset { v.abs() } else { v };
                // NaN fails both comparisons: max/min would keep it, so test it first.
                if v.is_nan() {
                    floor
                } else {
                    v.clamp(floor, hi)
                }
            }
        }
    }

    /// The y axis description.
    pub fn describe(&self, kind: Kind) -> &'static str {
        match (kind, self.is_log()) {
            (Kind::Latency, false) => "end-to-end latency (ms)",
            (Kind::Latency, true) => "end-to-end latency (ms, log)",
            (Kind::Onset, false) => "onset error vs the score (ms)",
            (Kind::Onset, true) => "|onset error| vs the score (ms, log)",
        }
    }

    /// The bands shaded on the panel, clipped to the axis: `(from, to, band)`.
    pub fn bands(&self, kind: Kind) -> Vec<(f64, f64, Band)> {
        let (shift, flip) = (shift_ms(), flip_ms());
        let mut out = match *self {
            Scale::Linear { .. } => vec![(-shift, shift, Band::Inaudible)],
            Scale::Log { floor, .. } => vec![(floor, shift, Band::Inaudible)],
        };
        if kind == Kind::Onset {
            out.push((shift, flip, Band::OutOfTime));
            if !self.is_log() {
                out.push((-flip, -shift, Band::OutOfTime));
            }
        }
        let (lo, hi) = self.range();
        out.into_iter()
            .map(|(a, b, band)| (a.clamp(lo, hi), b.clamp(lo, hi), band))
            .filter(|(a, b, _)| a < b)
            .collect()
    }

    /// The lines drawn across the panel (the wrong-melody threshold), inside the axis.
    pub fn lines(&self, kind: Kind) -> Vec<f64> {
        if kind != Kind::Onset {
            return Vec::new();
        }
        let flip = flip_ms();
        let candidates = match self {
            Scale::Linear { .. } => vec![-flip, flip],
            Scale::Log { .. } => vec![flip],
        };
        let (lo, hi) = self.range();
        candidates
            .into_iter()
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    }
}

/// A shaded band of a panel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Band {
    /// Within the audible shift: not heard.
    Inaudible,
    /// Between the audible shift and the wrong-melody threshold: heard as out of time.
    OutOfTime,
}

/// A log axis tick: its value on decades ("0.01", "1", "1000"), nothing between them
/// (the light mesh lines there would crowd the axis with labels).
pub fn log_tick(v: f64) -> String {
    if v <= 0.0 {
        return String::new();
    }
    let exp = v.log10().round();
    if (v / 10f64.powf(exp) - 1.0).abs() > 1e-6 {
        return String::new();
    }
    let decimals = (-exp).max(0.0) as usize;
    format!("{:.*}", decimals, 10f64.powf(exp))
}

fn decade_below(v: f64) -> f64 {
    10f64.powf(v.log10().floor())
}

fn decade_above(v: f64) -> f64 {
    10f64.powf(v.log10().ceil())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_of_magnitude_make_a_log_axis() {
        let scale = Scale::choose(&[0.3, 4.0, 300.0], Kind::Latency);
        assert_eq!(
            scale,
            Scale::Log {
                floor: 0.1,
                hi: 1000.0
            }
        );
        assert_eq!(
            scale.describe(Kind::Latency),
            "end-to-end latency (ms, log)"
        );
    }

    #[test]
    fn a_narrow_range_stays_linear_as_before() {
        let scale = Scale::choose(&[1.0, 2.5, 5.0], Kind::Latency);
        assert_eq!(scale, Scale::Linear { lo: -9.0, hi: 9.0 });
        let scale = Scale::choose(&[-3.0, 1.0, 12.0], Kind::Onset);
        assert_eq!(scale, Scale::Linear { lo: -9.0, hi: 12.0 });
    }

    #[test]
    fn signed_onset_errors_go_log_by_their_magnitude() {
        let scale = Scale::choose(&[-0.3, 0.0, 2.0, -300.0], Kind::Onset);
        assert!(scale.is_log());
        assert_eq!(scale.place(-300.0, Kind::Onset), 300.0);
        assert_eq!(
            scale.describe(Kind::Onset),
            "|onset error| vs the score (ms, log)"
        );
        // A zero alone does not count as a spread.
        assert!(!Scale::choose(&[0.0, 1.0, 5.0], Kind::Onset).is_log());
    }

    #[test]
    fn zero_negative_and_tiny_values_clamp_to_the_floor() {
        let scale = Scale::choose(&[0.001, 0.5, 300.0], Kind::Latency);
        assert_eq!(
            scale,
            Scale::Log {
                floor: FLOOR_MS,
                hi: 1000.0
            }
        );
        for v in [0.0, -5.0, 0.001, f64::NAN] {
            assert_eq!(scale.place(v, Kind::Latency), FLOOR_MS, "{v}");
        }
        assert_eq!(scale.place(0.0, Kind::Onset), FLOOR_MS);
        assert_eq!(scale.place(-0.0001, Kind::Onset), FLOOR_MS);
        assert_eq!(scale.place(f64::INFINITY, Kind::Onset), 1000.0);
        // A linear axis places values as they are.
        let linear = Scale::choose(&[1.0, 5.0], Kind::Onset);
        assert_eq!(linear.place(-2.0, Kind::Onset), -2.0);
    }

    #[test]
    fn a_log_onset_axis_shows_both_thresholds() {
        let scale = Scale::choose(&[0.05, 8.0], Kind::Onset);
        assert_eq!(
            scale,
            Scale::Log {
                floor: 0.01,
                hi: 100.0
            }
        );
        assert_eq!(scale.lines(Kind::Onset), vec![20.0]);
        assert_eq!(
            scale.bands(Kind::Onset),
            vec![(0.01, 6.0, Band::Inaudible), (6.0, 20.0, Band::OutOfTime)]
        );
        assert!(scale.lines(Kind::Latency).is_empty());
    }

    #[test]
    fn linear_bands_and_lines_stay_inside_the_axis() {
        let scale = Scale::Linear { lo: -9.0, hi: 30.0 };
        assert_eq!(scale.lines(Kind::Onset), vec![20.0]);
        assert_eq!(
            scale.bands(Kind::Onset),
            vec![
                (-6.0, 6.0, Band::Inaudible),
                (6.0, 20.0, Band::OutOfTime),
                (-9.0, -6.0, Band::OutOfTime)
            ]
        );
    }

    #[test]
    fn log_ticks_label_decades_only() {
        assert_eq!(log_tick(0.01), "0.01");
        assert_eq!(log_tick(1.0), "1");
        assert_eq!(log_tick(10000.0), "10000");
        assert_eq!(log_tick(20.0), "");
        assert_eq!(log_tick(0.0), "");
    }
}
