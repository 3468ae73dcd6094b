//! `kmidi player`: loads the songs, checks the cluster, plays on the scheduler thread
//! and shows where it is in the song.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use kmidi_engine::perform::{self, PlayOptions, PlayReport, Progress};

use crate::cli::PlayerArgs;
use crate::signals::SignalStop;
use crate::verdict::{self, Played};
use crate::{connect, metrics, songs};

pub fn run(args: PlayerArgs, stop: SignalStop) -> Result<i32> {
    // Bound first: a port in use is an error before anything connects or plays.
    let metrics = metrics::start(&args.metrics)?;
    let speed = args.speed.ratio();
    let flush_timeout = args.flush_timeout;
    let scores = songs::load_all(&args.midi, args.notes_only)?;
    let transport = connect::transport(&args.kafka.transport)?;
    let config = connect::kafka_config(&args.kafka)?;
    let timeout = args.kafka.connect_timeout;
    connect::check_topic(transport.as_ref(), &config, &args.kafka.topic, timeout)?;
    let producer = transport.producer(&config)?;

    let names: Vec<&str> = scores.iter().map(|s| s.name.as_str()).collect();
    eprintln!(
        "kmidi player: {} song(s) [{}] to {} on {} via {}, speed ratio {speed}",
        scores.len(),
        names.join(", "),
        args.kafka.topic,
        config.bootstrap(),
        transport.info().name
    );
    let opts = PlayOptions {
        topic: args.kafka.topic.clone(),
        speed,
        record_size: args.record_size,
        repeat: args.repeat,
        run_id: new_run_id(),
        realtime: args.realtime,
        observer: metrics::observer(&metrics, &transport.info().name, &args.kafka.topic),
        key_by: args.key_by.into(),
    };
    let progress = Arc::new(Progress::default());
    let handle = perform::spawn(
        producer,
        scores,
        opts,
        stop.engine().clone(),
        Arc::clone(&progress),
        flush_timeout,
    )
    .context("starting the scheduler thread")?;
    let bar = progress_bar(args.quiet.quiet);
    while !handle.is_finished() {
        update_bar(&bar, &progress);
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
    let (report, flushed) = handle
        .join()
        .map_err(|_| anyhow::anyhow!("the scheduler thread panicked"))?;
    print_summary(&report);
    let played = Played {
        report: &report,
        flushed: &flushed,
    };
    let failed = verdict::report(&verdict::failures(Some(played), None));
    metrics::finish(&metrics, report.interrupted);
    Ok(failed.unwrap_or_else(|| stop.exit_code().unwrap_or(0)))
}

pub fn new_run_id() -> String {
    format!("{:08x}", rand::random::<u32>())
}

pub fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(1);
    bar.set_style(
        ProgressStyle::with_template("{msg:24!} [{bar:40}] {prefix} ")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

pub fn update_bar(bar: &ProgressBar, progress: &Progress) {
    let pos = progress.position_ms.load(Ordering::Relaxed);
    let len = progress.length_ms.load(Ordering::Relaxed).max(1);
    bar.set_length(len);
    bar.set_position(pos.min(len));
    bar.set_prefix(format!(
        "{} / {}  {} sent",
        clock(pos),
        clock(len),
        progress.sent.load(Ordering::Relaxed)
    ));
    if let Ok(song) = progress.song.lock() {
        bar.set_message(song.clone());
    }
}

fn clock(ms: u64) -> String {
    format!("{}:{:02}", ms / 60_000, (ms / 1000) % 60)
}

pub fn print_summary(report: &PlayReport) {
    let h = &report.lateness_us;
    eprintln!(
        "sent {} message(s){}; scheduling lateness p50 {} µs, p99 {} µs, max {} µs",
        report.sent,
        if report.interrupted {
            " (interrupted)"
        } else {
            ""
        },
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.max()
    );
    // Send errors, delivery failures and a failed flush are the verdict's to say.
}
