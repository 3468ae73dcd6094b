//! `--record-size`: checked against the largest record the producer will send before
//! the first note, so a size the client refuses is one clear error instead of every
//! note failing with MessageSizeTooLarge, and a size that cannot fit in memory is
//! never allocated.

use anyhow::{bail, Result};
use kmidi_midi::score::Score;
use kmidi_transport::ClientConfig;

/// librdkafka's `message.max.bytes` default; franz-go's and the Java client's limits
/// are within a few bytes of it, and brokers accept 1048588 by default.
pub const DEFAULT_MESSAGE_MAX_BYTES: u64 = 1_000_000;

/// Bytes a note takes besides its padding: the JSON fields (the original's and kmidi's,
/// up to about 330 bytes with the longest values), the key, and the record's and
/// batch's own framing. Generous, so what passes the check is never refused.
const NOTE_OVERHEAD: u64 = 600;

/// The padding per note, if every record fits the producer's `message.max.bytes`.
pub fn check(record_size: u64, scores: &[Score], config: &ClientConfig) -> Result<usize> {
    let (max, whose) = match config.get("message.max.bytes") {
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) => (n, "set with -X or --config"),
            Err(_) => bail!(
                "message.max.bytes={v} is not a number of bytes: give -X \
                 message.max.bytes=N (the producer's largest record)"
            ),
        },
        None => (DEFAULT_MESSAGE_MAX_BYTES, "the client's default"),
    };
    // The key is the song's name and a song name is in the JSON too.
    let name = scores
        .iter()
        .map(|s| s.name.len() as u64)
        .max()
        .unwrap_or(0);
    let overhead = NOTE_OVERHEAD + 2 * name;
    let record = record_size.saturating_add(overhead);
    if record > max {
        let fits = max.saturating_sub(overhead);
        bail!(
            "--record-size {record_size} makes records of about {record} bytes, more than \
             the producer's message.max.bytes ({max}, {whose}): give --record-size {fits} \
             or less, or raise -X message.max.bytes (and the topic's max.message.bytes on \
             the broker, 1048588 by default) to fit"
        );
    }
    usize::try_from(record_size)
        .map_err(|_| anyhow::anyhow!("--record-size {record_size} does not fit this machine"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> ClientConfig {
        pairs.iter().copied().collect()
    }

    #[test]
    fn a_size_past_the_default_limit_is_refused_with_the_largest_that_fits() {
        let err = check(2_000_000, &[], &config(&[])).unwrap_err().to_string();
        assert!(err.contains("message.max.bytes (1000000"), "{err}");
        assert!(err.contains("--record-size 999400 or less"), "{err}");
        let huge = check(100_000_000_000, &[], &config(&[])).unwrap_err();
        assert!(huge.to_string().contains("100000000000"), "{huge}");
        assert!(check(u64::MAX, &[], &config(&[])).is_err());
    }

    #[test]
    fn the_users_message_max_bytes_is_the_limit() {
        let big = config(&[("message.max.bytes", "3000000")]);
        assert_eq!(check(2_000_000, &[], &big).unwrap(), 2_000_000);
        let small = config(&[("message.max.bytes", "2000")]);
        assert!(check(1_500, &[], &small).is_err());
        assert_eq!(check(0, &[], &config(&[])).unwrap(), 0);
        let bad = config(&[("message.max.bytes", "lots")]);
        assert!(check(1, &[], &bad)
            .unwrap_err()
            .to_string()
            .contains("lots"));
    }
}
