//! The values a step's keys take: times, load rates and record sizes, read and written
//! so that writing a parsed value and reading it back gives the same value exactly.
//! Units are decimal (1 MB = 10^6 bytes), as Kafka's own tools count.

use std::fmt;
use std::time::Duration;

/// A load rate: bytes or records per second.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rate {
    BytesPerSec(f64),
    RecordsPerSec(f64),
}

impl Rate {
    /// Records per second at this record size (a byte rate over the size).
    pub fn records_per_sec(&self, record_size: u64) -> f64 {
        match *self {
            Rate::BytesPerSec(b) => b / record_size.max(1) as f64,
            Rate::RecordsPerSec(r) => r,
        }
    }

    /// Bytes per second at this record size (a record rate times the size).
    pub fn bytes_per_sec(&self, record_size: u64) -> f64 {
        match *self {
            Rate::BytesPerSec(b) => b,
            Rate::RecordsPerSec(r) => r * record_size as f64,
        }
    }

    /// The number, in the rate's own unit (bytes or records per second).
    pub fn value(&self) -> f64 {
        match *self {
            Rate::BytesPerSec(v) | Rate::RecordsPerSec(v) => v,
        }
    }

    /// The same unit, another value.
    pub fn with_value(&self, v: f64) -> Rate {
        match self {
            Rate::BytesPerSec(_) => Rate::BytesPerSec(v),
            Rate::RecordsPerSec(_) => Rate::RecordsPerSec(v),
        }
    }

    pub fn same_unit(&self, other: &Rate) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// `5MB/s`, `250KB/s`, `1500B/s` or `2000rec/s`: the largest byte unit that writes the
/// value exactly.
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Rate::BytesPerSec(b) => {
                let (n, unit) = exact_unit(b, &[(1e9, "GB"), (1e6, "MB"), (1e3, "KB")], "B");
                write!(f, "{n}{unit}/s")
            }
            Rate::RecordsPerSec(r) => write!(f, "{r}rec/s"),
        }
    }
}

/// Why a value was refused, for the step's error to say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueProblem {
    /// Not a number, or negative, or not finite.
    Number,
    /// A number, but a unit that is not one of those listed.
    Unit,
}

const BYTE_UNITS: [(&str, f64); 4] = [("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("B", 1.0)];

/// Splits `12.5MB` into (12.5, "MB"), with blanks allowed between the two.
fn number_and_unit(s: &str) -> Result<(f64, &str), ValueProblem> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let v: f64 = number.trim().parse().map_err(|_| ValueProblem::Number)?;
    if !v.is_finite() || v < 0.0 {
        return Err(ValueProblem::Number);
    }
    Ok((v, unit.trim()))
}

/// `5MB/s`, `500KB/s`, `2000B/s`, `1GB/s` (decimal) or `2000rec/s`; zero is allowed
/// here (a ramp may start from nothing), the step decides.
pub fn parse_rate(s: &str) -> Result<Rate, ValueProblem> {
    let (v, unit) = number_and_unit(s)?;
    let Some(unit) = unit.strip_suffix("/s") else {
        return Err(ValueProblem::Unit);
    };
    if matches!(unit, "rec" | "records") {
        return Ok(Rate::RecordsPerSec(v));
    }
    // `kB` is how SI writes kilo; `Mb` (megabits) and `MiB` are refused, not guessed.
    let unit = if unit == "kB" { "KB" } else { unit };
    let (_, scale) = BYTE_UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .ok_or(ValueProblem::Unit)?;
    Ok(Rate::BytesPerSec(v * scale))
}

/// A record size in whole bytes: `10KB`, `1MB`, `512B` or a bare `512`.
pub fn parse_size(s: &str) -> Result<u64, ValueProblem> {
    let (v, unit) = number_and_unit(s)?;
    let unit = match unit {
        "" => "B",
        "kB" => "KB",
        u => u,
    };
    let (_, scale) = BYTE_UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .ok_or(ValueProblem::Unit)?;
    let bytes = v * scale;
    // Whole bytes only, and small enough that the cast is exact.
    if bytes.fract() != 0.0 || bytes > 1e15 {
        return Err(ValueProblem::Number);
    }
    Ok(bytes as u64)
}

pub fn format_size(bytes: u64) -> String {
    let (n, unit) = exact_unit(bytes as f64, &[(1e6, "MB"), (1e3, "KB")], "B");
    format!("{n}{unit}")
}

/// The first unit in which `v` is written exactly (reading the number back and scaling
/// it gives `v` again), else the base unit.
fn exact_unit(v: f64, units: &[(f64, &'static str)], base: &'static str) -> (f64, &'static str) {
    for (scale, unit) in units {
        let n = v / scale;
        if v >= *scale && n.to_string().parse::<f64>().ok().map(|n| n * scale) == Some(v) {
            return (n, unit);
        }
    }
    (v, base)
}

/// A time as the churn script reads it (`10s`, `2.5s`, `1500ms`, a bare number is
/// seconds): the churn script's own parser, so the two cannot drift apart.
pub use kmidi_engine::churn::parse_time;

/// Seconds, as `ChurnEvent` writes its time: `10s`, `2.5s`.
pub fn format_time(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}s", s as u64)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmidi_engine::churn::ChurnScript;

    #[test]
    fn rates_are_read_in_decimal_units_and_written_back_exactly() {
        assert_eq!(parse_rate("5MB/s"), Ok(Rate::BytesPerSec(5e6)));
        assert_eq!(parse_rate(" 2.5 MB/s "), Ok(Rate::BytesPerSec(2.5e6)));
        assert_eq!(parse_rate("500KB/s"), Ok(Rate::BytesPerSec(5e5)));
        assert_eq!(parse_rate("500kB/s"), Ok(Rate::BytesPerSec(5e5)));
        assert_eq!(parse_rate("1GB/s"), Ok(Rate::BytesPerSec(1e9)));
        assert_eq!(parse_rate("1500B/s"), Ok(Rate::BytesPerSec(1500.0)));
        assert_eq!(parse_rate("2000rec/s"), Ok(Rate::RecordsPerSec(2000.0)));
        assert_eq!(parse_rate("20records/s"), Ok(Rate::RecordsPerSec(20.0)));
        assert_eq!(parse_rate("0MB/s"), Ok(Rate::BytesPerSec(0.0)));
        for bad in ["5Mb/s", "5MiB/s", "5MB", "5 MB/m", "5rec"] {
            assert_eq!(parse_rate(bad), Err(ValueProblem::Unit), "{bad}");
        }
        for bad in ["MB/s", "-5MB/s", "x/s", "1.2.3MB/s", ""] {
            assert_eq!(parse_rate(bad), Err(ValueProblem::Number), "{bad}");
        }
        for text in [
            "5MB/s", "2.5MB/s", "1.1MB/s", "250KB/s", "1.5KB/s", "999B/s", "1GB/s",
        ] {
            let r = parse_rate(text).unwrap();
            assert_eq!(r.to_string(), text);
        }
        for v in [0.1, 1.0 / 3.0, 123_456.789, 7e6 + 0.3, 0.0] {
            let r = Rate::BytesPerSec(v);
            assert_eq!(parse_rate(&r.to_string()), Ok(r), "{r}");
            let r = Rate::RecordsPerSec(v);
            assert_eq!(parse_rate(&r.to_string()), Ok(r), "{r}");
        }
    }

    #[test]
    fn a_rate_converts_between_bytes_and_records_at_a_record_size() {
        let b = Rate::BytesPerSec(5e6);
        assert_eq!(b.records_per_sec(10_000), 500.0);
        assert_eq!(b.bytes_per_sec(10_000), 5e6);
        let r = Rate::RecordsPerSec(200.0);
        assert_eq!(r.records_per_sec(1000), 200.0);
        assert_eq!(r.bytes_per_sec(1000), 200_000.0);
        assert!(b.same_unit(&Rate::BytesPerSec(1.0)));
        assert!(!b.same_unit(&r));
        assert_eq!(r.with_value(3.0), Rate::RecordsPerSec(3.0));
    }

    #[test]
    fn sizes_are_whole_bytes() {
        assert_eq!(parse_size("10KB"), Ok(10_000));
        assert_eq!(parse_size("1.5KB"), Ok(1500));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert_eq!(parse_size("512B"), Ok(512));
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("1.0005KB"), Err(ValueProblem::Number));
        assert_eq!(parse_size("10KiB"), Err(ValueProblem::Unit));
        assert_eq!(parse_size("ten"), Err(ValueProblem::Number));
        for bytes in [1, 512, 1500, 10_000, 1_000_000, 1_234_567] {
            assert_eq!(parse_size(&format_size(bytes)), Ok(bytes));
        }
        assert_eq!(format_size(10_000), "10KB");
        assert_eq!(format_size(1_500_000), "1.5MB");
        assert_eq!(format_size(999), "999B");
    }

    #[test]
    fn times_are_read_as_the_churn_script_reads_them() {
        let churn = |t: &str| {
            format!("join@{t}")
                .parse::<ChurnScript>()
                .ok()
                .map(|s| s.events[0].at)
        };
        for t in [
            "10s", "2.5s", "1500ms", "0s", "7", "0.001s", " 3 s", "-1s", "soon", "", "ms", "1e3ms",
            "NaN", "inf",
        ] {
            assert_eq!(parse_time(t), churn(t.trim()), "'{t}'");
        }
        for t in ["10s", "2.5s", "0.1s", "0s", "3600s", "0.001s"] {
            let d = parse_time(t).unwrap();
            assert_eq!(format_time(d), t);
            assert_eq!(parse_time(&format_time(d)), Some(d));
        }
        assert_eq!(format_time(parse_time("1500ms").unwrap()), "1.5s");
    }
}
