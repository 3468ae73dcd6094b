//! `kmidi instrument`: checks the cluster, opens the outputs, plays what arrives with a
//! live status line, and prints what it heard.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use anyhow::Result;
use kmidi_engine::listen::{self, ListenOptions, Live};
use kmidi_engine::observe::Fanout;
use kmidi_transport::{OffsetReset, Subscription, TransportInfo, GROUP_TYPE_KEY};

use crate::cli::{InstrumentArgs, StartFrom};
use crate::lab::{self, Lab};
use crate::report::{self, Document, SideReport};
use crate::signals::SignalStop;
use crate::term::status::{self, GroupWatch};
use crate::term::summary;
use crate::{connect, faults, ids, leaders, load, metrics, outputs, verdict, web};

pub fn run(args: InstrumentArgs, stop: SignalStop) -> Result<i32> {
    // Bound first: a port in use is an error before anything connects or plays.
    let served = web::start(
        &args.web,
        &args.metrics,
        metrics::Role::Instrument,
        "instrument",
        &["instrument"],
    )?;
    let (metrics, web) = (served.metrics, served.web);
    let idle_exit = args.idle_exit;
    let transport = connect::transport(&args.kafka.transport)?;
    let mut config = connect::kafka_config(&args.kafka)?;
    if args.share {
        let info = transport.info();
        if !info.capabilities.share_groups {
            anyhow::bail!(
                "the {} transport ({} {}) has no share groups (KIP-932): drop --share, or \
                 use a transport whose `kmidi transports` line lists share groups (the \
                 franz-go plugin)",
                info.name,
                info.library,
                info.library_version
            );
        }
        config.set(GROUP_TYPE_KEY, "share");
    }
    let timeout = args.kafka.connect_timeout();
    let topic = args.kafka.topic().to_string();
    // The load is checked (loopback, its driver) before anything connects.
    let load = match args.lab.load() {
        Some(scenario) => Some(load::start(load::LoadSetup {
            scenario,
            args: &args.load,
            bootstrap: config.bootstrap().to_string(),
            worker: load::WorkerSetup {
                transport: &args.kafka.transport.transport,
                plugin_dirs: &args.kafka.transport.plugins.plugin_dirs,
                config: config
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            },
            // Song times as the player plays them: the instrument does not know its speed.
            speed: 1.0,
            scheduled_s: None,
            sides: 1,
            run_id: &ids::new_run_id(),
            events: metrics::LoadSeries::shared(&metrics),
        })?),
        None => None,
    };
    let faults = faults::start(faults::FaultSetup {
        scenario: args.lab.scenario.as_ref(),
        args: &args.faults,
        bootstrap: config.bootstrap().to_string(),
        embedded: false,
        transport: transport.as_ref(),
        config: &config,
        topics: vec![topic.clone()],
        // Song times as the player plays them, as the load's.
        speed: 1.0,
        scheduled_s: None,
        labels: vec!["instrument".into()],
        run_id: &ids::new_run_id(),
    })?;
    let mut sinks = web::open_outputs(&args.output, &web)?;
    let partitions = connect::check_topic(transport.as_ref(), &config, &topic, timeout)?;
    let group = group(&args, &transport.info())?;
    let admin = transport.admin(&config);
    let unknown = |e: &dyn std::fmt::Display| format!("unknown ({e})");
    let broker = match &admin {
        Ok(a) => a.describe_cluster(timeout).unwrap_or_else(|e| unknown(&e)),
        Err(e) => unknown(e),
    };
    // Leadership followed live: failovers said on a probe topic, notes charged to
    // their broker (and with --voices broker, voiced by it) (`leaders`).
    let per_broker = leaders::PerBroker::start(
        admin.ok(),
        &topic,
        config.bootstrap(),
        args.voices.per_broker(),
        &transport.info().name,
        &mut sinks,
    );
    let subscription = Subscription {
        topics: vec![topic.clone()],
        group: group.clone(),
        offset_reset: match args.from {
            StartFrom::Latest => OffsetReset::Latest,
            StartFrom::Earliest => OffsetReset::Earliest,
        },
    };
    let members = args.lab.members();
    let (consumer, group_log) = if args.lab.lab() {
        lab::require_groups(&transport.info(), "")?;
        let lab = Lab {
            members,
            script: args.lab.churn().unwrap_or_default(),
            speed: 1.0,
            partitions,
            spec: &args.kafka.transport.transport,
            plugin_dirs: &args.kafka.transport.plugins.plugin_dirs,
            earliest: matches!(args.from, StartFrom::Earliest),
        };
        let plan = lab.plan(&config, &topic, &group)?;
        let (group, log) = lab::start_group(plan, "instrument")?;
        (
            Box::new(group) as Box<dyn kmidi_transport::Consumer>,
            Some(log),
        )
    } else {
        (transport.consumer(&config, &subscription)?, None)
    };
    let mut consumer = per_broker.wrap(consumer);
    eprintln!(
        "kmidi instrument: {topic} ({partitions} partition(s)) on {} via {}, {}group {}, output: {}",
        config.bootstrap(),
        transport.info().name,
        if args.share { "share " } else { "" },
        if transport.info().capabilities.consumer_groups {
            group.as_str()
        } else {
            "none (the transport has no groups)"
        },
        outputs::describe(&sinks)
    );
    let opts = ListenOptions {
        idle_exit,
        idle_after_target: false,
        max_messages: args.max_messages,
        target: Arc::new(AtomicU64::new(u64::MAX)),
        observer: Fanout::of([
            web::observer(
                &web,
                0,
                metrics::observer(&metrics, &transport.info().name, &topic),
            ),
            load.as_ref().and_then(|l| l.observer(0)),
            faults.as_ref().and_then(|f| f.observer(0)),
            metrics::broker_observer(&metrics, &transport.info().name, &topic, &per_broker.live),
        ]),
        playout_delay: args.output.playout_delay,
        warm_up_seen: None,
    };
    web::watch_groups(&web, std::slice::from_ref(&group_log));
    let live = Arc::new(Live::default());
    // Only a group member can be left without partitions by other members.
    let watch =
        (transport.info().capabilities.consumer_groups && !args.lab.lab()).then(|| GroupWatch {
            group: group.clone(),
            topic: topic.clone(),
            partitions,
        });
    let status = status::status_line(args.quiet.quiet, Arc::clone(&live), watch);
    let report = listen::listen(consumer.as_mut(), &mut sinks, &opts, stop.engine(), &live);
    status.finish_and_clear();
    let load = load.map(|l| l.finish(&[&report.meter.samples]));
    let faults = faults.map(|f| f.finish(&[&report.meter.samples]));
    if let Some(f) = &faults {
        eprint!("{}", report::faults_table(f));
    }
    let finished = outputs::finish(&mut sinks);
    summary::print_heard(&report);
    web::end(&web, &[("instrument", &report)]);
    let rebalance = group_log.as_ref().map(|log| {
        let scheduled = lab::scheduled_from(&report.meter.samples);
        lab::figures(log, &report, &scheduled, members, None)
    });
    if let Some(r) = &rebalance {
        eprint!("{}", report::rebalance_table(&[("instrument", r)]));
    }
    let brokers = per_broker.figures(&report.meter.samples);
    if let Some(b) = &brokers {
        eprint!("{}", report::brokers_table("instrument", b));
        summary::warn_silent_brokers(b);
    }
    if args.share {
        // What a share group allows and a consumer group does not, said as such.
        eprintln!(
            "share group {group}: {} note(s) heard again (redelivered), {} out of order",
            report.meter.duplicates, report.meter.reordered
        );
    }
    let info = transport.info();
    let mut side = SideReport {
        broker: Some(broker),
        topic_partitions: Some(partitions),
        from: Some(match args.from {
            StartFrom::Latest => "latest",
            StartFrom::Earliest => "earliest",
        }),
        client_properties: config.redacted(),
        rebalance,
        brokers,
        ..SideReport::new("instrument", &info, &topic, &group, &report)
    };
    let load_section = load.as_ref().map(report::LoadSection::of);
    if let (Some(outcome), Some(section)) = (&load, &load_section) {
        side.load = report::SideLoad::of(outcome, 0);
        if let Some(l) = &side.load {
            eprint!("{}", report::load_table(section, &[("instrument", l)]));
        }
    }
    let doc = Document {
        load: load_section,
        faults,
        ..Document::new("instrument", config.bootstrap().to_string(), vec![side])
    };
    report::write_outputs(&args.output, &doc, "kmidi instrument")?;
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
