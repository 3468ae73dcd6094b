//! The host's side of the optional reporting entries appended to the first v1 table:
//! reading a consumer's assignment through `consumer_assignment` (growing the buffer
//! when the plugin says it needs more) and parsing the `key=value` lines of
//! `producer_settings` / `consumer_settings`.
//!
//! Everything the plugin lends is copied before the next call on the handle. A plugin
//! that answers nonsense (a NULL topic, an absurd count) is logged at debug level and
//! the last known answer stands: these entries feed reports, never the music.

use crate::plugin::abi::{kmidi_consumer, kmidi_topic_partition, ConsumerAssignmentFn, KMIDI_OK};
use crate::plugin::ffi::lossy;

/// More partitions than any consumer is assigned (Kafka's own practical limits are far
/// below): a larger count is garbage, refused before anything is allocated for it.
const MAX_PLAUSIBLE_PARTITIONS: usize = 1 << 20;

/// The buffer's first size; most consumers hold a handful of partitions.
const FIRST_CAP: usize = 16;

/// How often the host grows the buffer in one `assignment()` before giving up on an
/// assignment that keeps growing between calls.
const MAX_ATTEMPTS: usize = 4;

/// What a consumer last said about its assignment.
#[derive(Debug, Default)]
pub(super) struct AssignmentCache {
    /// `None` until the entry answered OK or KMIDI_UNSUPPORTED; `Some(false)` after
    /// KMIDI_UNSUPPORTED (this consumer cannot tell, as if the entry were NULL).
    answered: Option<bool>,
    last: Vec<(String, i32)>,
}

impl AssignmentCache {
    pub(super) fn answered(&self) -> Option<bool> {
        self.answered
    }

    pub(super) fn last(&self) -> &[(String, i32)] {
        &self.last
    }

    pub(super) fn set(&mut self, now: Vec<(String, i32)>) {
        self.answered = Some(true);
        self.last = now;
    }

    pub(super) fn unsupported(&mut self) {
        self.answered = Some(false);
        self.last.clear();
    }
}

/// Why no assignment could be read.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The entry returned this status instead of KMIDI_OK.
    Status(i32),
    /// It returned OK with something no consumer could be assigned.
    Bogus(String),
}

/// Asks the plugin for `c`'s assignment, calling again with a buffer as large as it
/// says it needs, and copies the result.
///
/// # Safety
/// `c` is a live, usable consumer of the plugin `entry` belongs to, and no other thread
/// is in a call on it.
pub(super) unsafe fn fetch_assignment(
    entry: ConsumerAssignmentFn,
    c: *mut kmidi_consumer,
) -> Result<Vec<(String, i32)>, Refusal> {
    let mut cap = FIRST_CAP;
    for _ in 0..MAX_ATTEMPTS {
        let mut buf = vec![kmidi_topic_partition::EMPTY; cap];
        let mut n = 0usize;
        // SAFETY: `buf` holds `cap` writable entries and `n` is a valid out pointer; the
        // handle per the caller's contract.
        let rc = unsafe { entry(c, buf.as_mut_ptr(), cap, &mut n) };
        if rc != KMIDI_OK {
            return Err(Refusal::Status(rc));
        }
        if n > MAX_PLAUSIBLE_PARTITIONS {
            return Err(Refusal::Bogus(format!(
                "an assignment of {n} partitions (more than {MAX_PLAUSIBLE_PARTITIONS})"
            )));
        }
        if n <= cap {
            return buf[..n]
                .iter()
                .map(|tp| {
                    // SAFETY: written by this successful call, borrowed until the next
                    // call on `c`; copied now. NULL is refused inside `lossy`'s None.
                    let topic = unsafe { lossy(tp.topic) };
                    topic
                        .map(|t| (t, tp.partition))
                        .ok_or_else(|| Refusal::Bogus("a partition without a topic (NULL)".into()))
                })
                .collect();
        }
        cap = n;
    }
    Err(Refusal::Bogus(format!(
        "an assignment that grew at each of {MAX_ATTEMPTS} calls"
    )))
}

/// The `key=value` lines a settings entry returned (`None`: NULL, nothing reported).
/// Blank lines are ignored; a line without `=` or with an empty key is skipped with a
/// debug log naming the plugin and the entry.
pub(super) fn parse_settings(
    plugin: &str,
    entry: &str,
    text: Option<String>,
) -> Vec<(String, String)> {
    let Some(text) = text else {
        return Vec::new();
    };
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| match line.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Some((key.trim().to_string(), value.trim().to_string()))
            }
            _ => {
                tracing::debug!(
                    "{plugin} plugin: {entry}: skipping a line that is not key=value: {line:?}"
                );
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_settings;

    fn parse(text: &str) -> Vec<(String, String)> {
        parse_settings("p", "producer_settings", Some(text.to_string()))
    }

    #[test]
    fn settings_lines_become_pairs_and_blank_lines_are_ignored() {
        assert_eq!(
            parse("linger.ms=5\n\n  \nacks=all\r\nfoo= a=b \n"),
            [
                ("linger.ms".to_string(), "5".to_string()),
                ("acks".to_string(), "all".to_string()),
                ("foo".to_string(), "a=b".to_string()),
            ]
        );
    }

    #[test]
    fn malformed_settings_lines_are_skipped_not_fatal() {
        assert_eq!(
            parse("no equals sign\n=value without key\nlinger.ms=0"),
            [("linger.ms".to_string(), "0".to_string())]
        );
    }

    #[test]
    fn null_or_empty_settings_mean_none_reported() {
        assert!(parse_settings("p", "consumer_settings", None).is_empty());
        assert!(parse("").is_empty());
    }
}
