//! What Kafka's ProducerPerformance and ConsumerPerformance print, read back:
//!
//! - the producer's periodic lines, `2500 records sent, 499.8 records/sec (0.49
//!   MB/sec), 2.31 ms avg latency, 150.0 ms max latency.`, one per reporting interval;
//! - its final line, the same over the whole run followed by `2 ms 50th, 4 ms 95th,
//!   10 ms 99th, 150 ms 99.9th.`;
//! - the consumer's CSV: a header (`start.time, end.time, data.consumed.in.MB, MB.sec,
//!   data.consumed.in.nMsg, ...`) then one line of values.

/// One producer line.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProducerLine {
    pub records: u64,
    pub records_per_sec: f64,
    pub avg_latency_ms: f64,
    pub max_latency_ms: f64,
    /// Only the final line has percentiles.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl ProducerLine {
    pub fn is_final(&self) -> bool {
        self.p50_ms.is_some()
    }
}

/// A producer line, or `None` for anything else the tool prints (warnings, errors).
pub fn parse_producer_line(line: &str) -> Option<ProducerLine> {
    let line = line.trim().trim_end_matches('.');
    let mut parts = line.split(", ");
    let records = parts.next()?.strip_suffix(" records sent")?.parse().ok()?;
    // `499.8 records/sec (0.49 MB/sec)`
    let rate = parts.next()?;
    let records_per_sec = rate.split_once(" records/sec")?.0.parse().ok()?;
    let avg_latency_ms = parts
        .next()?
        .strip_suffix(" ms avg latency")?
        .parse()
        .ok()?;
    let max_latency_ms = parts
        .next()?
        .strip_suffix(" ms max latency")?
        .parse()
        .ok()?;
    let mut out = ProducerLine {
        records,
        records_per_sec,
        avg_latency_ms,
        max_latency_ms,
        p50_ms: None,
        p99_ms: None,
    };
    for part in parts {
        let Some((value, which)) = part.split_once(" ms ") else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        match which {
            "50th" => out.p50_ms = Some(value),
            "99th" => out.p99_ms = Some(value),
            _ => {}
        }
    }
    Some(out)
}

/// What a producer run amounts to.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProducerSummary {
    pub records: u64,
    pub records_per_sec: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// The run ended with its final line (not killed before).
    pub finished: bool,
}

/// The final line when there is one; else (a run cut short) the periodic lines summed,
/// each covering `records / rate` seconds, and no percentiles.
pub fn summarize_producer<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<ProducerSummary> {
    let parsed: Vec<ProducerLine> = lines.into_iter().filter_map(parse_producer_line).collect();
    if let Some(last) = parsed.iter().rev().find(|l| l.is_final()) {
        return Some(ProducerSummary {
            records: last.records,
            records_per_sec: last.records_per_sec,
            p50_ms: last.p50_ms,
            p99_ms: last.p99_ms,
            finished: true,
        });
    }
    if parsed.is_empty() {
        return None;
    }
    let records: u64 = parsed.iter().map(|l| l.records).sum();
    let seconds: f64 = parsed
        .iter()
        .filter(|l| l.records_per_sec > 0.0)
        .map(|l| l.records as f64 / l.records_per_sec)
        .sum();
    Some(ProducerSummary {
        records,
        records_per_sec: if seconds > 0.0 {
            records as f64 / seconds
        } else {
            0.0
        },
        p50_ms: None,
        p99_ms: None,
        finished: false,
    })
}

/// Records one ConsumerPerformance run read: the `data.consumed.in.nMsg` column of the
/// line after its header.
pub fn consumed_records<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<u64> {
    let mut column = None;
    let mut total = None;
    for line in lines {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if let Some(i) = fields.iter().position(|f| *f == "data.consumed.in.nMsg") {
            column = Some(i);
            continue;
        }
        if let Some(n) = column
            .and_then(|i| fields.get(i))
            .and_then(|v| v.parse::<u64>().ok())
        {
            *total.get_or_insert(0) += n;
            column = None;
        }
    }
    total
}

/// Lines that say a record failed (a Java exception's first line; its stack trace's
/// `at ...` and `Caused by` lines are not counted again).
pub fn error_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> u64 {
    lines
        .into_iter()
        .filter(|l| {
            let t = l.trim_start();
            !t.starts_with("at ")
                && !t.starts_with("...")
                && !t.starts_with("Caused by")
                && t.contains("Exception")
        })
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIODIC: &str =
        "2499 records sent, 499.7 records/sec (0.48 MB/sec), 3.4 ms avg latency, 123.0 ms max latency.";
    const FINAL: &str = "1500 records sent, 499.833389 records/sec (0.48 MB/sec), 2.72 ms avg \
         latency, 123.00 ms max latency, 2 ms 50th, 5 ms 95th, 10 ms 99th, 120 ms 99.9th.";

    #[test]
    fn periodic_and_final_lines_parse() {
        let p = parse_producer_line(PERIODIC).unwrap();
        assert_eq!(p.records, 2499);
        assert_eq!(p.records_per_sec, 499.7);
        assert_eq!(p.avg_latency_ms, 3.4);
        assert_eq!(p.max_latency_ms, 123.0);
        assert!(!p.is_final());
        let f = parse_producer_line(FINAL).unwrap();
        assert_eq!(f.records, 1500);
        assert_eq!(f.p50_ms, Some(2.0));
        assert_eq!(f.p99_ms, Some(10.0));
        assert!(f.is_final());
        for other in [
            "",
            "WARN some warning, with commas",
            "org.apache.kafka.common.errors.TimeoutException: Expiring 3 record(s)",
        ] {
            assert_eq!(parse_producer_line(other), None, "{other}");
        }
    }

    #[test]
    fn the_final_line_wins_else_the_periodic_lines_add_up() {
        let s = summarize_producer([PERIODIC, "noise", FINAL]).unwrap();
        assert!(s.finished);
        assert_eq!(s.records, 1500);
        assert_eq!(s.p99_ms, Some(10.0));
        let cut = summarize_producer([
            "1000 records sent, 500.0 records/sec (0.48 MB/sec), 1 ms avg latency, 2 ms max latency.",
            "500 records sent, 250.0 records/sec (0.24 MB/sec), 1 ms avg latency, 2 ms max latency.",
        ])
        .unwrap();
        assert!(!cut.finished);
        assert_eq!(cut.records, 1500);
        // 1500 records over 2 s + 2 s.
        assert_eq!(cut.records_per_sec, 375.0);
        assert_eq!(cut.p50_ms, None);
        assert_eq!(summarize_producer(["nothing"]), None);
    }

    #[test]
    fn consumer_csv_is_read_by_its_header() {
        let lines = [
            "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec",
            "2026-12-03 10:00:00:000, 2026-12-03 10:00:05:000, 1.4, 0.28, 1432, 286.4, 300, 4700, 0.3, 304.6",
        ];
        assert_eq!(consumed_records(lines), Some(1432));
        // Two members' outputs add up.
        let two = [lines[0], lines[1], lines[0], lines[1]];
        assert_eq!(consumed_records(two), Some(2864));
        assert_eq!(consumed_records(["WARN nothing"]), None);
    }

    #[test]
    fn an_exception_counts_once_with_its_stack_trace() {
        let lines = [
            "org.apache.kafka.common.errors.TimeoutException: Expiring 3 record(s)",
            "\tat org.apache.kafka.clients.producer.KafkaProducer.send(KafkaProducer.java:1)",
            "\t... 3 more",
            "Caused by: org.apache.kafka.common.errors.NetworkException: gone",
            PERIODIC,
        ];
        assert_eq!(error_lines(lines), 1);
    }
}
