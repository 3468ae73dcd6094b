//! Latency histograms in nanoseconds and the few figures every table prints.
//!
//! Values are recorded in ns (not µs) because several targets sit in the tens of
//! microseconds, where µs rounding would be a visible part of the figure.

use hdrhistogram::Histogram;

/// 1 ns to 1 h at 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("static histogram bounds are valid")
}

/// Records a duration in ns (0 is stored as 1: the histogram's floor).
pub fn record(h: &mut Histogram<u64>, nanos: u128) {
    let v = u64::try_from(nanos).unwrap_or(u64::MAX).max(1);
    let _ = h.record(v.min(h.high()));
}

/// p50/p99/max/mean of a histogram, in µs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Summary {
    pub count: u64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    /// Of a histogram in ns (this module's).
    pub fn of(h: &Histogram<u64>) -> Self {
        Self::scaled(h, 1e-3)
    }

    /// Of a histogram in µs (kmidi's engines record in µs).
    pub fn of_us(h: &Histogram<u64>) -> Self {
        Self::scaled(h, 1.0)
    }

    fn scaled(h: &Histogram<u64>, to_us: f64) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            count: h.len(),
            p50: h.value_at_quantile(0.5) as f64 * to_us,
            p99: h.value_at_quantile(0.99) as f64 * to_us,
            max: h.max() as f64 * to_us,
            mean: h.mean() * to_us,
        }
    }
}

/// A duration in µs, shown in the unit that keeps it readable.
pub fn us(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        format!("{:.1} ms", v / 1e3)
    } else if v.abs() >= 1_000.0 {
        format!("{:.2} ms", v / 1e3)
    } else {
        format!("{v:.1} µs")
    }
}

/// `a / b` as "0.93×", or "–" when `b` is zero.
pub fn ratio(a: f64, b: f64) -> String {
    if b == 0.0 {
        "–".to_string()
    } else {
        format!("{:.2}×", a / b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_in_microseconds() {
        let mut h = histogram();
        for ns in [1_000u128, 2_000, 3_000] {
            record(&mut h, ns);
        }
        let s = Summary::of(&h);
        assert_eq!(s.count, 3);
        assert!((s.p50 - 2.0).abs() < 0.01, "{s:?}");
        assert!((s.max - 3.0).abs() < 0.01, "{s:?}");
    }

    #[test]
    fn units_stay_readable() {
        assert_eq!(us(12.34), "12.3 µs");
        assert_eq!(us(1_234.0), "1.23 ms");
        assert_eq!(us(12_345.0), "12.3 ms");
        assert_eq!(ratio(1.0, 0.0), "–");
        assert_eq!(ratio(3.0, 2.0), "1.50×");
    }
}
