//! Value parsers: each refuses a bad value at parse time with a message naming the
//! problem and the fix, instead of letting an engine fall back silently. Numeric
//! options also accept a leading '-' as a value (`-s -1`), so a negative number gets
//! these messages rather than clap's "unexpected argument".

use std::path::PathBuf;
use std::time::Duration;

/// `--plugin-dir`: it must be a directory, so a typo is caught at once.
pub fn plugin_dir(s: &str) -> Result<PathBuf, String> {
    let dir = PathBuf::from(s);
    if !dir.is_dir() {
        return Err(format!("{s} is not a directory"));
    }
    Ok(dir)
}

/// `--speed-ratio`: a positive, finite number.
pub fn speed_ratio(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "{s:?} is not a positive number (1.0 plays as written, 2 twice as slow, 0.5 \
             twice as fast)"
        )),
    }
}

/// A number of milliseconds (`--playout-delay 40`): positive and finite.
pub fn millis(s: &str) -> Result<Duration, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .and_then(|v| Duration::try_from_secs_f64(v / 1000.0).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{s:?} is not a positive number of milliseconds"))
}

/// A number of seconds (`--connect-timeout 2.5`): positive and finite.
pub fn seconds(s: &str) -> Result<Duration, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .and_then(|v| Duration::try_from_secs_f64(v).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{s:?} is not a positive number of seconds"))
}

/// A count or size that may be 0 (`--record-size 0`).
pub fn count(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| format!("{s:?} is not a whole number of 0 or more"))
}

/// A count of at least 1 (`--max-messages 1`, `--partitions 3`).
pub fn positive(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{s:?} is not a whole number of 1 or more")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_speed_ratio_must_be_positive_and_finite() {
        assert_eq!(speed_ratio("0.9"), Ok(0.9));
        for bad in ["0", "-1", "nan", "inf", "fast", ""] {
            assert!(speed_ratio(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn seconds_must_be_positive() {
        assert_eq!(seconds("2.5"), Ok(Duration::from_millis(2500)));
        for bad in ["0", "-3", "nan", "soon"] {
            assert!(seconds(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn counts_refuse_negatives_by_name() {
        assert_eq!(count("0"), Ok(0));
        assert!(count("-5").unwrap_err().contains("0 or more"));
        assert!(positive("0").unwrap_err().contains("1 or more"));
        assert_eq!(positive("3"), Ok(3));
    }
}
