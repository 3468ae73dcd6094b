//! Apache Kafka's own tools as references, run from the broker's jars through
//! `scripts/kafka.sh run-tool` as the integration tests run them
//! (`kmidi_test_support::run_kafka_sh_bounded`), with a bound on how long each may take.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use kmidi_test_support::{run_kafka_sh_bounded, ToolError};

/// Waits for a child at most a limit, killing it (by its own pid) after.
pub(crate) use kmidi_test_support::wait_bounded;

/// Runs a Kafka tool class; returns its stdout. Killed (by its own pid) after `limit`.
pub fn run_tool(
    repo: &Path,
    version: &str,
    class: &str,
    args: &[String],
    limit: Duration,
) -> Result<String> {
    let mut all = vec![
        "run-tool".to_string(),
        version.to_string(),
        class.to_string(),
    ];
    all.extend_from_slice(args);
    kafka_sh(repo, &all, &[], class, limit)
}

/// Runs `scripts/kafka.sh ARGS` with `env` set; returns its stdout. Killed (by its own
/// pid) after `limit`; `what` names it in errors.
pub(crate) fn kafka_sh(
    repo: &Path,
    args: &[String],
    env: &[(&str, String)],
    what: &str,
    limit: Duration,
) -> Result<String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_kafka_sh_bounded(repo, &args, &env, None, limit).map_err(|e| match e {
        ToolError::Io { source, .. } => anyhow::Error::new(source).context(format!(
            "starting scripts/kafka.sh {}",
            args.first().copied().unwrap_or_default()
        )),
        // A report has room for one line: the last each stream printed.
        ToolError::Failed {
            status,
            stdout,
            stderr,
            ..
        } => anyhow!(
            "{what} failed ({status}): {}{}",
            stdout.lines().last().unwrap_or_default(),
            stderr.lines().last().unwrap_or_default()
        ),
        ToolError::TimedOut { limit, .. } => {
            anyhow!("{what} did not finish within {} s", limit.as_secs())
        }
    })
}

/// Kafka's producer benchmark class.
pub const PRODUCER_PERFORMANCE: &str = "org.apache.kafka.tools.ProducerPerformance";

/// ProducerPerformance's arguments for `records` records of `size` bytes to `topic` at
/// full speed, with kmidi's producer settings (acks=all, linger.ms=0, idempotence);
/// more producer properties may follow.
pub fn full_speed_args(bootstrap: &str, topic: &str, records: u64, size: usize) -> Vec<String> {
    [
        "--topic",
        topic,
        "--num-records",
        &records.to_string(),
        "--record-size",
        &size.to_string(),
        "--throughput",
        "-1",
        "--producer-props",
        &format!("bootstrap.servers={bootstrap}"),
        "acks=all",
        "linger.ms=0",
        "enable.idempotence=true",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// EndToEndLatency's result. Percentiles are whole ms rounded down by the tool; the
/// average is computed from nanoseconds, so it is the one precise figure.
#[derive(Clone, Copy, Debug, Default)]
pub struct E2e {
    pub avg_ms: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Parses "Avg latency: 1.2345 ms" and "Percentiles: 50th = 1, 99th = 3, 99.9th = 7".
pub fn parse_e2e(out: &str) -> Result<E2e> {
    let mut r = E2e::default();
    let mut seen = 0;
    for line in out.lines() {
        if let Some(rest) = line.trim().strip_prefix("Avg latency:") {
            r.avg_ms = rest.trim().trim_end_matches("ms").trim().parse()?;
            seen += 1;
        }
        if let Some(rest) = line.trim().strip_prefix("Percentiles:") {
            for part in rest.split(',') {
                let (k, v) = part.split_once('=').context("percentile")?;
                let v: f64 = v.trim().parse()?;
                match k.trim() {
                    "50th" => r.p50_ms = v,
                    "99th" => r.p99_ms = v,
                    _ => {}
                }
            }
            seen += 1;
        }
    }
    if seen < 2 {
        bail!("no latency figures in EndToEndLatency's output: {out}");
    }
    Ok(r)
}

/// ProducerPerformance's final line: records/s and MB/s (MiB, 1024 × 1024).
pub fn parse_perf(out: &str) -> Result<(f64, f64)> {
    // "10000 records sent, 2345.6 records/sec (22.91 MB/sec), 5.3 ms avg latency, ..."
    let line = out
        .lines()
        .rev()
        .find(|l| l.contains("records sent") && l.contains("records/sec"))
        .with_context(|| format!("no summary line in ProducerPerformance's output: {out}"))?;
    let rate = line
        .split(',')
        .nth(1)
        .and_then(|p| p.split_whitespace().next())
        .context("records/sec")?
        .parse()?;
    let mb = line
        .split('(')
        .nth(1)
        .and_then(|p| p.split_whitespace().next())
        .context("MB/sec")?
        .parse()?;
    Ok((rate, mb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_tools_output() {
        let e = parse_e2e(
            "0\t2.1\nAvg latency: 1.2345 ms\n\nPercentiles: 50th = 1, 99th = 3, 99.9th = 7\n",
        )
        .unwrap();
        assert_eq!((e.avg_ms, e.p50_ms, e.p99_ms), (1.2345, 1.0, 3.0));
        let p = parse_perf(
            "1000 records sent, 200.0 records/sec\n10000 records sent, 2345.6 records/sec (22.91 MB/sec), 5.30 ms avg latency, 9.00 ms max latency.\n",
        )
        .unwrap();
        assert_eq!(p, (2345.6, 22.91));
    }
}
