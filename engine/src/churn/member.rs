//! One member of a churned consumer group, as its own process: it consumes and writes
//! every record, its assignment and its errors to stdout as JSON lines, which the
//! group (`group`) merges into one instrument. A process, not a thread, because
//! `kill` must be a real crash for every library, plugins included: SIGKILL is the
//! one way to drop a member without its library leaving the group. Closing the
//! member's stdin is the clean way out: it commits, closes (leaving the group) and
//! says goodbye.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kmidi_transport::{Consumer, Record, TransportError};

use crate::measure::unix_us;

/// How often a member reads its assignment.
const ASSIGNMENT_EVERY: Duration = Duration::from_millis(100);
const POLL: Duration = Duration::from_millis(50);

/// One line a member writes.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "line", rename_all = "snake_case")]
pub enum MemberLine {
    /// Subscribed; what the consumer can tell and how it is set.
    Ready {
        reports_assignment: bool,
        settings: Vec<(String, String)>,
    },
    /// A record, stamped when the member's poll returned it.
    Record {
        topic: String,
        partition: i32,
        offset: i64,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        timestamp_ms: Option<i64>,
        arrived_us: u64,
    },
    /// The member's assignment changed.
    Assignment {
        partitions: Vec<(String, i32)>,
        at_us: u64,
    },
    Transient {
        message: String,
    },
    /// The consumer failed for good; the member exits.
    Fatal {
        message: String,
    },
    /// Left the group cleanly.
    Bye,
}

impl MemberLine {
    pub fn record(r: Record, arrived_us: u64) -> Self {
        MemberLine::Record {
            topic: r.topic,
            partition: r.partition,
            offset: r.offset,
            key: r.key,
            value: r.value,
            timestamp_ms: r.timestamp_ms,
            arrived_us,
        }
    }
}

impl MemberLine {
    /// The record a `Record` line carries; any other line back as it was.
    pub fn into_record(self) -> Result<Record, MemberLine> {
        match self {
            MemberLine::Record {
                topic,
                partition,
                offset,
                key,
                value,
                timestamp_ms,
                arrived_us: _,
            } => Ok(Record {
                topic,
                partition,
                offset,
                key,
                value,
                timestamp_ms,
            }),
            other => Err(other),
        }
    }
}

/// Sets `quit` when stdin reaches its end: the group's way of asking the member to
/// leave cleanly (and what happens if the group's process dies, so no member outlives
/// it).
pub fn quit_on_stdin_eof(stdin: impl BufRead + Send + 'static) -> Arc<AtomicBool> {
    let quit = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&quit);
    std::thread::spawn(move || {
        let mut stdin = stdin;
        let mut line = String::new();
        while matches!(stdin.read_line(&mut line), Ok(n) if n > 0) {
            line.clear();
        }
        flag.store(true, Ordering::Relaxed);
    });
    quit
}

fn emit(out: &mut impl Write, line: &MemberLine) -> std::io::Result<()> {
    let text = serde_json::to_string(line).map_err(std::io::Error::other)?;
    writeln!(out, "{text}")?;
    out.flush()
}

/// The member's loop: until `quit` or a fatal error, polls and reports. Returns the
/// fatal error, if any; an unwritable stdout (the group is gone) ends it quietly.
pub fn serve(
    consumer: &mut dyn Consumer,
    out: &mut impl Write,
    quit: &AtomicBool,
) -> Option<TransportError> {
    let ready = MemberLine::Ready {
        reports_assignment: consumer.reports_assignment(),
        settings: consumer.settings(),
    };
    if emit(out, &ready).is_err() {
        return None;
    }
    let mut held: Vec<(String, i32)> = Vec::new();
    let mut checked: Option<Instant> = None;
    while !quit.load(Ordering::Relaxed) {
        if checked.is_none_or(|c| c.elapsed() >= ASSIGNMENT_EVERY) {
            checked = Some(Instant::now());
            let mut now = consumer.assignment();
            now.sort();
            if now != held {
                held.clone_from(&now);
                let line = MemberLine::Assignment {
                    partitions: now,
                    at_us: unix_us(),
                };
                if emit(out, &line).is_err() {
                    return None;
                }
            }
        }
        let line = match consumer.poll(POLL) {
            Ok(Some(record)) => MemberLine::record(record, unix_us()),
            Ok(None) => continue,
            Err(e) if e.is_transient() => MemberLine::Transient {
                message: e.to_string(),
            },
            Err(e) => {
                let _ = emit(
                    out,
                    &MemberLine::Fatal {
                        message: e.to_string(),
                    },
                );
                return Some(e);
            }
        };
        if emit(out, &line).is_err() {
            return None;
        }
    }
    if let Err(e) = consumer.commit() {
        tracing::debug!("member's final commit: {e}");
    }
    None
}

/// Says goodbye once the consumer is closed (dropped), so the group can tell a clean
/// leave from a crash.
pub fn say_bye(out: &mut impl Write) {
    let _ = emit(out, &MemberLine::Bye);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_line_round_trips_with_binary_values() {
        let line = MemberLine::record(
            Record {
                topic: "t".into(),
                partition: 2,
                offset: 7,
                key: Some(b"song".to_vec()),
                value: Some(vec![0xff, 0x00, b'{']),
                timestamp_ms: None,
            },
            42,
        );
        let text = serde_json::to_string(&line).unwrap();
        assert!(text.starts_with(r#"{"line":"record""#), "{text}");
        let back: MemberLine = serde_json::from_str(&text).unwrap();
        assert_eq!(back, line);
    }
}
