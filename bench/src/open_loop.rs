//! Benchmark 2's fair reference for the music figure: the Java client from the broker's
//! own jars sending one record per interval whatever the last one did (open loop, as a
//! song is played) and timing each arrival in the same JVM (`bench/java/
//! OpenLoopLatency.java`, run by Java's single-file source launcher). EndToEndLatency,
//! the other reference, is closed loop: it keeps every thread on the path busy, which
//! music at one note per 50 ms does not.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::java;

/// Records sent before the measured ones: the JVM's and the connections' warm-up.
const WARM_UP: u64 = 10;

/// What the Java client heard, µs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OpenLoop {
    pub n: u64,
    pub lost: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
}

/// `count` records of `size` bytes, one every `interval`, on `topic` (one partition).
pub fn run(
    repo: &Path,
    version: &str,
    bootstrap: &str,
    topic: &str,
    count: u64,
    interval: Duration,
    size: usize,
) -> Result<OpenLoop> {
    let source = repo.join("bench/java/OpenLoopLatency.java");
    if !source.is_file() {
        bail!(
            "{} is missing: run kmidi-bench from a checkout of the repository",
            source.display()
        );
    }
    let args = [
        bootstrap.to_string(),
        topic.to_string(),
        count.to_string(),
        interval.as_millis().to_string(),
        size.to_string(),
        WARM_UP.to_string(),
    ];
    // The song's length, the warm-up, the JVM's start and the source's compilation.
    let limit = interval * (count + WARM_UP) as u32 + Duration::from_secs(120);
    let out = java::run_tool(repo, version, &source.display().to_string(), &args, limit)?;
    parse(&out)
}

/// The tool's one line: `open-loop n=.. lost=.. p50_us=.. p99_us=.. max_us=.. mean_us=..`.
pub fn parse(out: &str) -> Result<OpenLoop> {
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with("open-loop "))
        .with_context(|| format!("no result line in OpenLoopLatency's output: {out}"))?;
    let mut r = OpenLoop::default();
    let mut seen = 0;
    for part in line.split_whitespace().skip(1) {
        let (k, v) = part.split_once('=').context("key=value")?;
        let v: f64 = v.parse().with_context(|| format!("{k}={v}"))?;
        seen += 1;
        match k {
            "n" => r.n = v as u64,
            "lost" => r.lost = v as u64,
            "p50_us" => r.p50_us = v,
            "p99_us" => r.p99_us = v,
            "max_us" => r.max_us = v,
            "mean_us" => r.mean_us = v,
            _ => seen -= 1,
        }
    }
    if seen < 6 {
        bail!("OpenLoopLatency heard nothing: {line}");
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_reference_line_and_refuses_an_empty_run() {
        let r = parse(
            "log\nopen-loop n=200 lost=0 p50_us=1303 p99_us=2962 max_us=3226 mean_us=1404.5\n",
        )
        .unwrap();
        assert_eq!((r.n, r.lost, r.p50_us, r.mean_us), (200, 0, 1303.0, 1404.5));
        assert!(parse("open-loop n=0 lost=200\n").is_err());
        assert!(parse("Exception in thread main\n").is_err());
    }
}
