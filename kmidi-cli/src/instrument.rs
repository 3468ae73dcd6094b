//! `kmidi instrument`: checks the cluster, opens the outputs, plays what arrives with a
//! live status line, and prints what it heard.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use kmidi_midi::sink::Sink;
use kmidi_transport::{OffsetReset, Subscription};

use crate::cli::{From, InstrumentArgs};
use crate::listen::{self, ListenOptions, ListenReport, Live};
use crate::signals::Stop;
use crate::{connect, registry};

pub fn run(args: InstrumentArgs, stop: Stop) -> Result<i32> {
    let idle_exit = args
        .idle_exit
        .map(Duration::try_from_secs_f64)
        .transpose()
        .context("--idle-exit must be a non-negative number of seconds")?;
    let transport = registry::resolve(&args.kafka.transport)?;
    let config = connect::client_config(&args.kafka.bootstrap, &args.kafka.props)?;
    let timeout = connect::timeout(&args.kafka)?;
    let mut sinks = crate::outputs::open_all(&args.output)?;
    let partitions = connect::check_topic(transport.as_ref(), &config, &args.kafka.topic, timeout)?;
    let subscription = Subscription {
        topics: vec![args.kafka.topic.clone()],
        group: args.group.clone(),
        offset_reset: match args.from {
            From::Latest => OffsetReset::Latest,
            From::Earliest => OffsetReset::Earliest,
        },
    };
    let mut consumer = transport.consumer(&config, &subscription)?;
    eprintln!(
        "kmidi instrument: {} ({partitions} partition(s)) on {} via {}, group {}, playing to {}",
        args.kafka.topic,
        config.bootstrap(),
        transport.info().name,
        args.group,
        describe(&sinks)
    );
    let opts = ListenOptions {
        idle_exit,
        max_messages: args.max_messages,
        target: Arc::new(AtomicU64::new(u64::MAX)),
    };
    let live = Arc::new(Live::default());
    let status = status_line(args.quiet, Arc::clone(&live));
    let report = listen::listen(consumer.as_mut(), &mut sinks, &opts, &stop, &live);
    status.finish_and_clear();
    let finished = finish(&mut sinks);
    print_report(&report);
    if let Some(fatal) = &report.fatal {
        anyhow::bail!("the consumer failed: {fatal}");
    }
    finished?;
    Ok(stop.exit_code().unwrap_or(0))
}

pub fn describe(sinks: &[Box<dyn Sink>]) -> String {
    sinks
        .iter()
        .map(|s| s.describe())
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Finishes every sink (writing files) even if one fails; returns the first failure.
pub fn finish(sinks: &mut [Box<dyn Sink>]) -> Result<()> {
    let mut first = None;
    for sink in sinks.iter_mut() {
        let what = sink.describe();
        match sink.finish() {
            Ok(()) => eprintln!("done: {what}"),
            Err(err) => {
                eprintln!("{what}: {err}");
                first.get_or_insert(err);
            }
        }
    }
    first.map_or(Ok(()), |e| Err(e.into()))
}

/// A spinner line redrawn by its own thread, so drawing never delays a note.
pub fn status_line(quiet: bool, live: Arc<Live>) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let b = bar.clone();
    std::thread::spawn(move || {
        while !b.is_finished() {
            b.set_message(format!(
                "played {}  bad {}  latency {:.1} ms",
                live.played.load(Ordering::Relaxed),
                live.bad.load(Ordering::Relaxed),
                live.last_latency_us.load(Ordering::Relaxed) as f64 / 1000.0
            ));
            b.tick();
            std::thread::sleep(Duration::from_millis(250));
        }
    });
    bar
}

pub fn print_report(report: &ListenReport) {
    eprintln!(
        "played {} message(s){}",
        report.played,
        if report.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    );
    if !report.latency_us.is_empty() {
        let h = &report.latency_us;
        eprintln!(
            "end-to-end latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            h.max() as f64 / 1000.0
        );
    }
    if report.without_send_time > 0 {
        eprintln!(
            "{} message(s) carried no send time (e.g. from the original Python player): latency unavailable for them",
            report.without_send_time
        );
    }
    for ((topic, partition), n) in &report.per_partition {
        eprintln!("  {topic}[{partition}]: {n} record(s)");
    }
    for (kind, n) in &report.bad {
        eprintln!("skipped {n} bad record(s): {kind}");
    }
    if report.transient_errors > 0 {
        eprintln!(
            "{} transient consumer error(s) recovered from",
            report.transient_errors
        );
    }
}
