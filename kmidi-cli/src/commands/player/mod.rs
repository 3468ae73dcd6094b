//! `kmidi player`: loads the songs, checks the record size and the cluster, plays on
//! the scheduler thread and shows where it is in the song.

mod record_size;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use kmidi_engine::perform::{self, PlayOptions, Progress};

use crate::cli::PlayerArgs;
use crate::signals::SignalStop;
use crate::term::{progress, summary};
use crate::verdict::{self, Played};
use crate::{connect, ids, metrics, songs};

pub fn run(args: PlayerArgs, stop: SignalStop) -> Result<i32> {
    // Bound first: a port in use is an error before anything connects or plays.
    let metrics = metrics::start(&args.metrics, metrics::Role::Player)?;
    let speed = args.speed.ratio();
    let flush_timeout = args.flush_timeout;
    let scores = songs::load_all(&args.song.songs, args.notes_only)?;
    let config = connect::kafka_config(&args.kafka)?;
    // Before connecting and before any padding is made: a size the client or broker
    // refuses would fail every note, and a huge one would not fit in memory.
    let record_size = record_size::check(args.record_size, &scores, &config)?;
    let transport = connect::transport(&args.kafka.transport)?;
    let topic = args.kafka.topic().to_string();
    let timeout = args.kafka.connect_timeout();
    connect::check_topic(transport.as_ref(), &config, &topic, timeout)?;
    let producer = transport.producer(&config)?;

    let names: Vec<&str> = scores.iter().map(|s| s.name.as_str()).collect();
    eprintln!(
        "kmidi player: {} song(s) [{}] to {topic} on {} via {}, speed ratio {speed}",
        scores.len(),
        names.join(", "),
        config.bootstrap(),
        transport.info().name
    );
    let opts = PlayOptions {
        topic: topic.clone(),
        speed,
        record_size,
        repeat: args.repeat,
        run_id: ids::new_run_id(),
        realtime: args.realtime,
        observer: metrics::observer(&metrics, &transport.info().name, &topic),
        key_by: args.key_by.key_by.map(Into::into).unwrap_or_default(),
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
    let bar = progress::progress_bar(args.quiet.quiet);
    while !handle.is_finished() {
        progress::update_bar(&bar, &progress);
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
    let (report, flushed) = handle
        .join()
        .map_err(|_| anyhow::anyhow!("the scheduler thread panicked"))?;
    summary::print_played(&report);
    let played = Played {
        report: &report,
        flushed: &flushed,
    };
    let failed = verdict::report(&verdict::failures(Some(played), None));
    metrics::finish(&metrics, report.interrupted);
    Ok(failed.unwrap_or_else(|| stop.exit_code().unwrap_or(0)))
}
