//! The `java` load client: Kafka's own ProducerPerformance (and ConsumerPerformance for
//! a step's consumer group), run from the project's Kafka jars through
//! `scripts/kafka.sh run-tool`. One step is one `bash` script leading a process group:
//! it creates the load topic (once per topic and driver), starts the step's consumers
//! and its producer in the background, prefixes their output lines with who wrote them
//! and waits for them all. The producer is asked for `rate × duration` records at
//! `rate`, so it ends by itself; the watchdog bounds the rest.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::driver::LoadReport;
use crate::scenario::LoadStep;

use super::perf::{consumed_records, error_lines, summarize_producer};
use super::process::Spawn;

/// How long a load consumer waits for a record before it ends (ConsumerPerformance's
/// `--timeout`): once the producer is done, its consumers follow this much later.
pub const CONSUMER_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

const PRODUCER: &str = "producer: ";
const CONSUMER: &str = "consumer: ";
const TOPIC_FAILED: &str = "kmidi-load: topic: ";
const STARTED: &str = "kmidi-load: started";
const DONE: &str = "kmidi-load: done";

/// `$1..$15` as below, then ProducerPerformance's extra options. Output goes to stdout
/// only (stderr merged), each line marked with who wrote it.
const STEP_SCRIPT: &str = r#"set -u
ks=$1 v=$2 b=$3 t=$4 p=$5 rf=$6 create=$7 n=$8 size=$9 rate=${10} consumers=${11} group=${12} count_opt=${13} ctimeout=${14} kip848=${15}
shift 15
exec 2>&1
if [[ $create == 1 ]]; then
  if ! out=$(bash "$ks" run-tool "$v" topics --bootstrap-server "$b" --create --if-not-exists \
      --topic "$t" --partitions "$p" --replication-factor "$rf" 2>&1); then
    printf '%s\n' "$out" | sed 's/^/kmidi-load: topic: /'
    exit 3
  fi
fi
echo "kmidi-load: started"
consume() {
  bash "$ks" run-tool "$v" consumer-perf-test --bootstrap-server "$b" --topic "$t" \
    --group "$group" "$count_opt" "$n" --timeout "$ctimeout" --from-latest "$@" 2>&1 |
    sed -u 's/^/consumer: /'
}
for ((i = 1; i <= consumers; i++)); do
  if [[ $kip848 == 1 ]]; then
    consume --consumer.config <(echo group.protocol=consumer) &
  else
    consume &
  fi
done
bash "$ks" run-tool "$v" producer-perf-test --topic "$t" --num-records "$n" \
  --record-size "$size" --throughput "$rate" "$@" \
  --producer-props "bootstrap.servers=$b" acks=all 2>&1 | sed -u 's/^/producer: /' &
wait
echo "kmidi-load: done""#;

/// Where Kafka's tools come from.
#[derive(Clone, Debug)]
pub struct JavaTools {
    /// The repository's `scripts/kafka.sh`.
    pub kafka_sh: PathBuf,
    /// The Kafka version whose jars run the tools (e.g. `4.3.1`).
    pub version: String,
}

impl JavaTools {
    fn major(&self) -> u32 {
        self.version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }
}

/// Records a step asks for: its rate over its duration, at least one.
pub fn step_records(load: &LoadStep) -> u64 {
    (load.records_per_sec() * load.duration.as_secs_f64())
        .ceil()
        .max(1.0) as u64
}

/// The step's script and its arguments.
pub fn step_spawn(
    tools: &JavaTools,
    load: &LoadStep,
    bootstrap: &str,
    group: &str,
    create_topic: bool,
    limit: Duration,
) -> Spawn {
    let major = tools.major();
    // ConsumerPerformance renamed `--messages` in 4.x (the old name still works there,
    // with a warning on every run).
    let count_opt = if major >= 4 {
        "--num-records"
    } else {
        "--messages"
    };
    let mut args: Vec<OsString> = vec!["-c".into(), STEP_SCRIPT.into(), "kmidi-load-step".into()];
    let positional = [
        tools.kafka_sh.display().to_string(),
        tools.version.clone(),
        bootstrap.to_string(),
        load.topic.name.clone(),
        load.topic.partitions.to_string(),
        load.topic.replication_factor.to_string(),
        u8::from(create_topic).to_string(),
        step_records(load).to_string(),
        load.record_size.to_string(),
        format!("{:.3}", load.records_per_sec()),
        load.consumers.to_string(),
        group.to_string(),
        count_opt.to_string(),
        CONSUMER_IDLE_TIMEOUT.as_millis().to_string(),
        // 4.x consumers join with KIP-848's protocol: at once, where a classic group's
        // first join waits out the broker's initial rebalance delay (3 s by default),
        // long enough to miss a short step's records from the latest offset.
        u8::from(major >= 4).to_string(),
    ];
    args.extend(positional.into_iter().map(OsString::from));
    if major >= 4 {
        // A line a second (3.x prints one every 5 s and has no option for it): a step
        // cut short still says what it made.
        args.extend(["--reporting-interval".into(), "1000".into()]);
    }
    Spawn {
        program: "bash".into(),
        args,
        stdin_line: None,
        limit,
    }
}

/// The lines one of the step's tools wrote, its mark removed.
fn from<'a>(lines: &'a [String], mark: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    lines.iter().filter_map(move |l| l.strip_prefix(mark))
}

/// Whether the step's script got past the topic's creation.
pub fn topic_ready(lines: &[String]) -> bool {
    lines.iter().any(|l| l == STARTED)
}

/// What the step achieved, from what its tools printed; `Err` when the step could not
/// make load at all (the topic could not be created, the producer never reported).
pub fn java_report(step: usize, load: &LoadStep, lines: &[String]) -> Result<LoadReport, String> {
    let topic_problem: Vec<&str> = from(lines, TOPIC_FAILED).collect();
    if !topic_problem.is_empty() {
        return Err(format!(
            "creating the load topic '{}': {}",
            load.topic.name,
            topic_problem.join(" | ")
        ));
    }
    let mut report = LoadReport::nothing(step, load.rate);
    let producer: Vec<&str> = from(lines, PRODUCER).collect();
    match summarize_producer(producer.iter().copied()) {
        Some(s) => {
            report.records_sent = s.records;
            report.achieved_records_per_sec = s.records_per_sec;
            report.achieved_bytes_per_sec = s.records_per_sec * load.record_size as f64;
            report.ack_latency_p50_ms = s.p50_ms;
            report.ack_latency_p99_ms = s.p99_ms;
        }
        None if lines.iter().any(|l| l == DONE) => {
            // The producer ran to its end without a single figure: it failed.
            let said: Vec<&str> = producer.iter().rev().take(5).rev().copied().collect();
            return Err(format!(
                "ProducerPerformance reported nothing: {}",
                said.join(" | ")
            ));
        }
        // Stopped before the producer's first line: nothing made, nothing wrong.
        None => {}
    }
    report.errors = error_lines(producer.iter().copied());
    if load.consumers > 0 {
        report.records_consumed = Some(consumed_records(from(lines, CONSUMER)).unwrap_or(0));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadTopic, Rate};

    fn step(consumers: u32) -> LoadStep {
        LoadStep {
            at: Duration::ZERO,
            rate: Rate::RecordsPerSec(500.0),
            record_size: 1000,
            duration: Duration::from_secs(3),
            topic: LoadTopic::default(),
            consumers,
            ramp: None,
        }
    }

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_step_script_asks_rate_times_duration_records() {
        let tools = JavaTools {
            kafka_sh: "/repo/scripts/kafka.sh".into(),
            version: "4.3.1".into(),
        };
        let s = step_spawn(
            &tools,
            &step(1),
            "127.0.0.1:9092",
            "g",
            true,
            Duration::from_secs(30),
        );
        let args: Vec<String> = s
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args[2], "kmidi-load-step");
        assert_eq!(
            &args[3..18],
            [
                "/repo/scripts/kafka.sh",
                "4.3.1",
                "127.0.0.1:9092",
                "kmidi_load",
                "6",
                "1",
                "1",
                "1500",
                "1000",
                "500.000",
                "1",
                "g",
                "--num-records",
                "5000",
                "1"
            ]
        );
        assert_eq!(&args[18..], ["--reporting-interval", "1000"]);
        let old = JavaTools {
            version: "3.9.2".into(),
            ..tools
        };
        let s = step_spawn(&old, &step(0), "b", "g", false, Duration::from_secs(30));
        let args: Vec<String> = s
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args[15], "--messages");
        assert_eq!(args[17], "0");
        assert_eq!(args.len(), 18);
    }

    #[test]
    fn a_finished_step_reports_the_final_line_and_its_consumers() {
        let out = lines(&[
            "kmidi-load: started",
            "producer: 1500 records sent, 499.5 records/sec (0.48 MB/sec), 2.7 ms avg latency, 123.0 ms max latency, 2 ms 50th, 5 ms 95th, 10 ms 99th, 120 ms 99.9th.",
            "consumer: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec",
            "consumer: 2026-12-03 10:00:00:000, 2026-12-03 10:00:05:000, 1.4, 0.28, 1400, 280.0",
            "kmidi-load: done",
        ]);
        let r = java_report(2, &step(1), &out).unwrap();
        assert_eq!(r.step, 2);
        assert_eq!(r.records_sent, 1500);
        assert_eq!(r.achieved_records_per_sec, 499.5);
        assert_eq!(r.achieved_bytes_per_sec, 499_500.0);
        assert_eq!(r.ack_latency_p50_ms, Some(2.0));
        assert_eq!(r.ack_latency_p99_ms, Some(10.0));
        assert_eq!(r.records_consumed, Some(1400));
        assert_eq!(r.errors, 0);
    }

    #[test]
    fn failures_are_errors_and_a_step_cut_short_is_not() {
        let topic = lines(&["kmidi-load: topic: Error while executing topic command"]);
        let e = java_report(0, &step(0), &topic).unwrap_err();
        assert!(e.contains("kmidi_load") && e.contains("Error while"), "{e}");
        let silent = lines(&[
            "kmidi-load: started",
            "producer: Exception in thread main",
            "kmidi-load: done",
        ]);
        assert!(java_report(0, &step(0), &silent).is_err());
        let cut = lines(&["kmidi-load: started"]);
        let r = java_report(0, &step(0), &cut).unwrap();
        assert_eq!(r.records_sent, 0);
        assert_eq!(r.records_consumed, None);
    }
}
