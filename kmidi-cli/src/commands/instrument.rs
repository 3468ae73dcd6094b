//! `kmidi instrument`: checks the cluster, opens the outputs, plays what arrives with a
//! live status line, and prints what it heard.

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use kmidi_engine::listen::{self, ListenOptions, ListenReport, Live};
use kmidi_engine::measure::Sample;
use kmidi_midi::sink::Sink;
use kmidi_transport::{OffsetReset, Subscription, TransportInfo, GROUP_TYPE_KEY};

use crate::cli::{InstrumentArgs, OutputArgs, StartFrom};
use crate::lab::{self, Lab};
use crate::report::{self, Document, SideReport};
use crate::signals::SignalStop;
use crate::{connect, metrics, plot, verdict};

pub fn run(args: InstrumentArgs, stop: SignalStop) -> Result<i32> {
    // Bound first: a port in use is an error before anything connects or plays.
    let metrics = metrics::start(&args.metrics)?;
    let idle_exit = args.idle_exit;
    let transport = connect::transport(&args.kafka.transport)?;
    let mut config = connect::kafka_config(&args.kafka)?;
    if args.share {
        let info = transport.info();
        if !info.capabilities.share_groups {
            anyhow::bail!(
                "the {} transport ({} {}) has no share groups (KIP-932): drop --share, or                  use a transport whose `kmidi transports` line lists share groups (the                  franz-go plugin)",
                info.name,
                info.library,
                info.library_version
            );
        }
        config.set(GROUP_TYPE_KEY, "share");
    }
    let timeout = args.kafka.connect_timeout;
    let mut sinks = crate::outputs::open_all(&args.output)?;
    let partitions = connect::check_topic(transport.as_ref(), &config, &args.kafka.topic, timeout)?;
    let group = group(&args, &transport.info())?;
    let broker = transport
        .admin(&config)
        .and_then(|a| a.describe_cluster(timeout))
        .unwrap_or_else(|e| format!("unknown ({e})"));
    let subscription = Subscription {
        topics: vec![args.kafka.topic.clone()],
        group: group.clone(),
        offset_reset: match args.from {
            StartFrom::Latest => OffsetReset::Latest,
            StartFrom::Earliest => OffsetReset::Earliest,
        },
    };
    let members = usize::from(
        args.members
            .unwrap_or(if args.churn.is_some() { 3 } else { 1 }),
    );
    let (mut consumer, group_log) = if members > 1 || args.churn.is_some() {
        lab::require_groups(&transport.info(), "")?;
        let lab = Lab {
            members,
            script: args.churn.clone().unwrap_or_default(),
            speed: 1.0,
            partitions,
            spec: &args.kafka.transport.transport,
            plugin_dirs: &args.kafka.transport.plugins.plugin_dirs,
            earliest: matches!(args.from, StartFrom::Earliest),
        };
        let plan = lab.plan(&config, &args.kafka.topic, &group)?;
        let (group, log) = lab::start_group(plan, "instrument")?;
        (
            Box::new(group) as Box<dyn kmidi_transport::Consumer>,
            Some(log),
        )
    } else {
        (transport.consumer(&config, &subscription)?, None)
    };
    eprintln!(
        "kmidi instrument: {} ({partitions} partition(s)) on {} via {}, {}group {}, output: {}",
        args.kafka.topic,
        config.bootstrap(),
        transport.info().name,
        if args.share { "share " } else { "" },
        if transport.info().capabilities.consumer_groups {
            group.as_str()
        } else {
            "none (the transport has no groups)"
        },
        describe(&sinks)
    );
    let opts = ListenOptions {
        idle_exit,
        max_messages: args.max_messages,
        target: Arc::new(AtomicU64::new(u64::MAX)),
        observer: metrics::observer(&metrics, &transport.info().name, &args.kafka.topic),
        playout_delay: args.output.playout_delay,
    };
    let live = Arc::new(Live::default());
    let status = status_line(args.quiet.quiet, Arc::clone(&live));
    let report = listen::listen(consumer.as_mut(), &mut sinks, &opts, stop.engine(), &live);
    status.finish_and_clear();
    let finished = finish(&mut sinks);
    print_report(&report);
    let rebalance = group_log.as_ref().map(|log| {
        let scheduled = lab::scheduled_from(&report.meter.samples);
        lab::figures(log, &report, &scheduled, members, None)
    });
    if let Some(r) = &rebalance {
        eprint!("{}", report::rebalance_table(&[("instrument", r)]));
    }
    if args.share {
        // What a share group allows and a consumer group does not, said as such.
        eprintln!(
            "share group {group}: {} note(s) heard again (redelivered), {} out of order",
            report.meter.duplicates, report.meter.reordered
        );
    }
    let info = transport.info();
    let side = SideReport {
        broker: Some(broker),
        topic_partitions: Some(partitions),
        from: Some(match args.from {
            StartFrom::Latest => "latest",
            StartFrom::Earliest => "earliest",
        }),
        client_properties: config.redacted(),
        rebalance,
        ..SideReport::new("instrument", &info, &args.kafka.topic, &group, &report)
    };
    let doc = Document::new("instrument", config.bootstrap().to_string(), vec![side]);
    write_outputs(&args.output, &doc, "kmidi instrument")?;
    finished?;
    let failed = verdict::report(&verdict::failures(None, Some(&report)));
    metrics::finish(&metrics, report.interrupted);
    Ok(failed.unwrap_or_else(|| stop.exit_code().unwrap_or(0)))
}

/// `-g`'s default.
const DEFAULT_GROUP: &str = "kmidi";

/// The group to subscribe with. A `-g` the transport cannot honour is said once (an
/// error with `--strict`) instead of being silently ignored.
fn group(args: &InstrumentArgs, info: &TransportInfo) -> Result<String> {
    let group = args.group.as_deref().unwrap_or(DEFAULT_GROUP).to_string();
    if args.group.is_some() && !info.capabilities.consumer_groups {
        let what = format!(
            "the {} transport has no consumer groups: -g {group} is ignored, and this \
             instrument reads every partition of the topic itself (from --from)",
            info.name
        );
        if args.strict {
            anyhow::bail!("{what}; without --strict this is a warning");
        }
        eprintln!("warning: {what}");
    }
    Ok(group)
}

pub fn describe(sinks: &[Box<dyn Sink>]) -> String {
    if sinks.is_empty() {
        return "none (measuring only)".to_string();
    }
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
            if let Ok(line) = live.line.lock() {
                b.set_message(if line.is_empty() {
                    "waiting for notes...".to_string()
                } else {
                    line.clone()
                });
            }
            b.tick();
            std::thread::sleep(Duration::from_millis(250));
        }
    });
    bar
}

/// `--report` and `--plot`, if asked for: the plot has a series per side.
pub fn write_outputs(out: &OutputArgs, doc: &Document, title: &str) -> Result<()> {
    if let Some(path) = &out.report {
        write_json(path, doc)?;
    }
    if let Some(path) = &out.plot {
        let series: Vec<(&str, &[Sample])> = match doc.sides.as_slice() {
            [one] => vec![("notes", one.instrument.samples)],
            sides => sides
                .iter()
                .map(|s| (s.label.as_str(), s.instrument.samples))
                .collect(),
        };
        let marks: Vec<plot::Mark> = doc
            .sides
            .iter()
            .enumerate()
            .flat_map(|(i, side)| {
                side.rebalance.iter().flat_map(move |r| {
                    r.events.iter().map(move |e| plot::Mark {
                        series: i,
                        at_s: e.applied_at_s,
                        label: format!("{} {}", ["A", "B"][i.min(1)], e.event),
                    })
                })
            })
            .collect();
        plot::draw(path, title, &series, &marks)?;
        eprintln!("plot: {}", path.display());
    }
    Ok(())
}

fn write_json(path: &Path, doc: &Document) -> Result<()> {
    let text = serde_json::to_string_pretty(doc).context("encoding the report")?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("report: {}", path.display());
    Ok(())
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
    eprint!("{}", report::table(report));
    for (kind, n) in &report.bad {
        eprintln!("skipped {n} bad record(s): {kind}");
    }
    if report.meter.unmeasured > 0 {
        eprintln!(
            "{} message(s) carried no kmidi_* fields (e.g. from the original Python player): their timing is unavailable",
            report.meter.unmeasured
        );
    }
    if report.transient_errors > 0 {
        eprintln!(
            "{} transient consumer error(s) recovered from",
            report.transient_errors
        );
    }
}
