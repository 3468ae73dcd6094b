//! `kmidi compare`: two client libraries play the same song at the same time against
//! the same cluster, each on its own topic and group; A is heard on the left, B on the
//! right (or each on its own port), and one table puts their figures side by side.
//! `side` sets each side up and `equalize` is `--equalize`; with `--members`/`--churn`
//! each side is a churned group of member processes (`crate::lab`).

mod equalize;
mod side;

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use kmidi_engine::observe::Fanout;
use kmidi_lab::Scenario;
use kmidi_midi::score::Score;
use kmidi_midi::sink::{PortSink, SharedSinks, Side, SideSink, Sink};
use kmidi_registry as registry;

use crate::cli::CompareArgs;
use crate::lab::{self, Lab};
use crate::report::{self, Document, EffectiveSettings};
use crate::session::SessionSetup;
use crate::signals::SignalStop;
use crate::term::summary;
use crate::{connect, faults, ids, leaders, load, metrics, outputs, songs, verdict, web};
use side::{SideSetup, NAMES};

pub fn run(args: CompareArgs, stop: SignalStop) -> Result<i32> {
    // Bound first: a port in use is an error before anything connects or plays.
    let served = web::start(
        &args.web,
        &args.metrics,
        metrics::Role::Both,
        "compare",
        &NAMES,
    )?;
    let (metrics, web) = (served.metrics, served.web);
    let speed = args.speed.ratio();
    let song = args.song.one().map_err(anyhow::Error::msg)?;
    let score = songs::bundled_or_file(song)?;
    let timeout = args.timeout.connect_timeout;
    let [spec_a, spec_b] = args.transports();
    let a = registry::resolve(spec_a, &args.plugins.plugin_dirs).context("side A")?;
    let b = registry::resolve(spec_b, &args.plugins.plugin_dirs).context("side B")?;
    let names = [a.info().name, b.info().name];
    if args.lab.lab() {
        lab::require_groups(&a.info(), "side A: ")?;
        lab::require_groups(&b.info(), "side B: ")?;
    }
    let labels = side::labels(&args, [&names[0], &names[1]]);
    web::sides(&web, &labels);
    let partitions = args.partitions();
    // Kept alive until both sides are done.
    let on = connect::Cluster::given_or_embedded(args.bootstrap.bootstrap.as_deref())?;
    for name in &names {
        on.check_transport(name)?;
    }
    let (bootstrap, cluster) = (on.bootstrap.clone(), &on.embedded);
    let where_ = on.describe();
    if args.lab.lab() && cluster.is_some() {
        tracing::warn!(
            "--members/--churn on the embedded mock cluster: its group coordinator is \
             librdkafka's test double, not Kafka's; give -b a real cluster for rebalance \
             figures worth comparing"
        );
    }
    let load = match args.lab.load() {
        Some(_) if cluster.is_some() => anyhow::bail!(
            "--scenario's load steps need a real cluster: the embedded mock cluster is \
             librdkafka's test double, whose admin client cannot even make the load's \
             topic; give -b a cluster (scripts/kafka.sh start 4.3.1 9092 starts one here)"
        ),
        Some(scenario) => Some(start_load(&args, scenario, &bootstrap, &score, &metrics)?),
        None => None,
    };
    let topics = (0..2).map(|i| side::topic(&args.topic, i, partitions));
    let (embedded, transport) = (cluster.is_some(), a.as_ref());
    let faults = faults::for_compare(
        &args, &bootstrap, embedded, transport, topics, &labels, &score,
    )?;
    let mut sides = Vec::new();
    // Each side's leadership followed, for its figures per broker (`leaders`).
    let mut per_broker = Vec::new();
    for (i, (transport, extra)) in [a, b].into_iter().zip(args.side_props()).enumerate() {
        let label = labels[i].clone();
        let mut props = args.client.props.clone();
        props.extend(extra.iter().cloned());
        let mut config =
            connect::client_config(Some(&bootstrap), args.client.config.as_deref(), &props)?;
        let topic = side::topic(&args.topic, i, partitions);
        match &cluster {
            Some(c) => c.create_topic(&topic, partitions)?,
            None => side::ensure_topic(transport.as_ref(), &config, &topic, partitions, timeout)
                .with_context(|| format!("{label}: topic {topic}"))?,
        }
        let mut settings = EffectiveSettings::default();
        if args.equalize {
            let e = equalize::probe(
                transport.as_ref(),
                &config,
                &topic,
                &side::user_keys(&args, i),
            );
            for (k, v) in &e.set {
                config.set(k, v);
            }
            settings.equalized = e.set;
            settings.not_equalized = e.refused;
        }
        let (producer_config, mut consumer_config) = connect::split_roles(&config);
        if cluster.is_some() {
            // The mock cluster answers a fetch only when its wait expires.
            consumer_config.set_default("fetch.wait.max.ms", "5");
        }
        let group = format!("kmidi-compare-{}-{}", ["a", "b"][i], ids::new_run_id());
        let spec = args.transports()[i];
        let group_plan = if args.lab.lab() {
            let lab = Lab {
                members: args.lab.members(),
                script: args.lab.churn().unwrap_or_default(),
                speed,
                partitions,
                spec,
                plugin_dirs: &args.plugins.plugin_dirs,
                earliest: false,
            };
            Some(lab.plan(&consumer_config, &topic, &group)?)
        } else {
            None
        };
        let mut side = SideSetup {
            label: label.clone(),
            info: transport.info(),
            topic: topic.clone(),
            partitions,
            group: group.clone(),
            client_properties: config.redacted(),
            settings,
        };
        // The embedded mock cluster has no brokers worth telling apart.
        per_broker.push(cluster.is_none().then(|| {
            let admin = transport.admin(&config).ok();
            let name = transport.info().name;
            leaders::PerBroker::start(admin, &topic, &bootstrap, false, &name, &mut [])
        }));
        let session = SessionSetup {
            transport,
            producer_config,
            consumer_config,
            topic: topic.clone(),
            group,
            score: score.clone(),
            speed,
            run_id: ids::new_run_id(),
            observer: Fanout::of([
                web::observer(
                    &web,
                    i,
                    metrics::observer(&metrics, &side.info.name, &topic),
                ),
                load.as_ref().and_then(|l| l.observer(i)),
                faults.as_ref().and_then(|f| f.observer(i)),
            ]),
            playout_delay: args.output.playout_delay,
            key_by: args.key_by(),
            group_plan,
        };
        // Both sides connect before either plays, so a refusal stops the comparison
        // before any music: a one-sided "comparison" would mislead.
        let ready = session
            .connect(&stop)
            .map_err(|e| anyhow!("{label} cannot play on {where_}: {e:#}"))?;
        (side.settings.producer, side.settings.consumer) = ready.settings();
        sides.push((side, ready));
    }
    let (mut sinks_a, mut sinks_b, shared) = open_sinks(&args, &web)?;
    eprintln!(
        "kmidi compare: {} on {where_}: {} (left), {} (right), output: {}",
        score.name,
        labels[0],
        labels[1],
        shared
            .as_ref()
            .map(|s| s.describe())
            .unwrap_or_else(|| format!(
                "{} | {}",
                outputs::describe(&sinks_a),
                outputs::describe(&sinks_b)
            ))
    );
    print_settings(
        &sides.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        args.equalize,
    );
    let mut it = sides.into_iter();
    let ((sa, ra), (sb, rb)) = match (it.next(), it.next()) {
        (Some(x), Some(y)) => (x, y),
        _ => unreachable!("two sides were connected"),
    };
    let logs = [ra.group_log.clone(), rb.group_log.clone()];
    web::watch_groups(&web, &logs);
    let quiet = args.quiet.quiet;
    let stop_b = stop.clone();
    let thread_b = std::thread::spawn(move || {
        let outcome = rb.run(&mut sinks_b, &stop_b, false);
        (outcome, sinks_b)
    });
    let outcome_a = ra.run(&mut sinks_a, &stop, !quiet)?;
    let (outcome_b, mut sinks_b) = thread_b
        .join()
        .map_err(|_| anyhow!("side B's thread panicked"))?;
    let outcome_b = outcome_b?;
    let load = load.map(|l| {
        l.finish(&[
            &outcome_a.listened.meter.samples,
            &outcome_b.listened.meter.samples,
        ])
    });
    let faults = faults.map(|f| {
        f.finish(&[
            &outcome_a.listened.meter.samples,
            &outcome_b.listened.meter.samples,
        ])
    });
    let mut finished = outputs::finish(&mut sinks_a).and(outputs::finish(&mut sinks_b));
    if let Some(shared) = &shared {
        for (what, result) in shared.finish() {
            match result {
                Ok(()) => eprintln!("done: {what}"),
                Err(e) => {
                    eprintln!("{what}: {e}");
                    finished = finished.and(Err(e.into()));
                }
            }
        }
    }
    let mut failures = Vec::new();
    for (side, o) in [(&sa, &outcome_a), (&sb, &outcome_b)] {
        eprint!("{}: ", side.label);
        summary::print_played(&o.played);
        let label = &side.label;
        let found = if args.lab.churn().is_some() {
            verdict::of_churned_session(o)
        } else {
            verdict::of_session(o)
        };
        failures.extend(found.into_iter().map(|f| format!("{label}: {f}")));
    }
    let ends = [
        (sa.label.as_str(), &outcome_a.listened),
        (sb.label.as_str(), &outcome_b.listened),
    ];
    web::end(&web, &ends);
    eprint!(
        "{}",
        report::side_by_side(
            &sa.label,
            &outcome_a.listened,
            &sb.label,
            &outcome_b.listened
        )
    );
    let rebalances: Vec<Option<report::Rebalance>> = [&outcome_a, &outcome_b]
        .iter()
        .zip(&logs)
        .map(|(o, log)| {
            log.as_ref().map(|l| {
                let scheduled = lab::scheduled_us(&score, speed);
                let keys = Some(args.key_by());
                lab::figures(l, &o.listened, &scheduled, args.lab.members(), keys)
            })
        })
        .collect();
    if let [Some(ra), Some(rb)] = rebalances.as_slice() {
        eprint!(
            "{}",
            report::rebalance_table(&[(sa.label.as_str(), ra), (sb.label.as_str(), rb)])
        );
    }
    let mut rebalances = rebalances.into_iter();
    let mut reports = vec![
        sa.report(&outcome_a, rebalances.next().flatten()),
        sb.report(&outcome_b, rebalances.next().flatten()),
    ];
    for ((r, o), p) in reports
        .iter_mut()
        .zip([&outcome_a, &outcome_b])
        .zip(&per_broker)
    {
        r.brokers = p
            .as_ref()
            .and_then(|p| p.figures(&o.listened.meter.samples));
        if let Some(b) = &r.brokers {
            eprint!("{}", report::brokers_table(&r.label, b));
        }
    }
    let load_section = load.as_ref().map(report::LoadSection::of);
    if let (Some(outcome), Some(section)) = (&load, &load_section) {
        for (i, r) in reports.iter_mut().enumerate() {
            r.load = report::SideLoad::of(outcome, i);
        }
        let sides: Vec<(&str, &report::SideLoad)> = reports
            .iter()
            .filter_map(|r| Some((r.label.as_str(), r.load.as_ref()?)))
            .collect();
        eprint!("{}", report::load_table(section, &sides));
    }
    if let Some(f) = &faults {
        eprint!("{}", report::faults_table(f));
    }
    let doc = Document {
        song: Some(score.name.clone()),
        speed_ratio: Some(speed),
        load: load_section,
        faults,
        ..Document::new("compare", where_.clone(), reports)
    };
    report::write_outputs(
        &args.output,
        &doc,
        &format!("kmidi compare: {}", score.name),
    )?;
    finished?;
    let failed = verdict::report(&failures);
    let interrupted = outcome_a.listened.interrupted || outcome_b.listened.interrupted;
    metrics::finish(&metrics, interrupted);
    Ok(failed.unwrap_or_else(|| stop.exit_code().unwrap_or(0)))
}

/// The scenario's load, made with side A's transport unless `--load-driver` says: one
/// load on the cluster, heard by both sides.
fn start_load(
    args: &CompareArgs,
    scenario: &Scenario,
    bootstrap: &str,
    score: &Score,
    metrics: &Option<std::sync::Arc<metrics::Metrics>>,
) -> Result<load::LoadRun> {
    let speed = args.speed.ratio();
    let config = connect::client_config(
        Some(bootstrap),
        args.client.config.as_deref(),
        &args.client.props,
    )?;
    let scheduled = lab::scheduled_us(score, speed)
        .into_iter()
        .map(|us| us as f64 / 1e6)
        .collect();
    load::start(load::LoadSetup {
        scenario,
        args: &args.load,
        bootstrap: bootstrap.to_string(),
        worker: load::WorkerSetup {
            transport: args.transports()[0],
            plugin_dirs: &args.plugins.plugin_dirs,
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        },
        speed,
        scheduled_s: Some(scheduled),
        sides: 2,
        run_id: &ids::new_run_id(),
        events: metrics::LoadSeries::shared(metrics),
    })
}

/// Each side's effective latency settings under the header, and what `--equalize`
/// could not make alike.
fn print_settings(sides: &[&SideSetup], equalizing: bool) {
    for (i, s) in sides.iter().enumerate() {
        eprintln!(
            "  {}: producer {} | consumer {}",
            NAMES[i],
            EffectiveSettings::line(&s.settings.producer),
            EffectiveSettings::line(&s.settings.consumer)
        );
        for why in &s.settings.not_equalized {
            eprintln!("  {}: not equalized: {why}", NAMES[i]);
        }
    }
    if let [a, b] = sides {
        if equalizing {
            let differ = equalize::differences(
                NAMES,
                [
                    (&a.settings.producer, &a.settings.consumer),
                    (&b.settings.producer, &b.settings.consumer),
                ],
            );
            for d in differ {
                eprintln!("  still different after --equalize: {d}");
            }
        }
    }
}

type SideSinks = (Vec<Box<dyn Sink>>, Vec<Box<dyn Sink>>, Option<SharedSinks>);

/// Two ports (`--port-a/--port-b`), or one set of outputs shared and panned.
fn open_sinks(args: &CompareArgs, web: &Option<web::Web>) -> Result<SideSinks> {
    if let (Some(pa), Some(pb)) = (&args.port_a, &args.port_b) {
        let mut a: Vec<Box<dyn Sink>> = vec![Box::new(PortSink::open(pa)?)];
        let mut b: Vec<Box<dyn Sink>> = vec![Box::new(PortSink::open(pb)?)];
        web::add_side_sinks(web, [&mut a, &mut b])?;
        return Ok((a, b, None));
    }
    let mut sinks = outputs::open_or_fallback(&args.output, Path::new("."), "kmidi-compare")?;
    web::add_sink(web, &mut sinks);
    let shared = SharedSinks::new(sinks);
    let a: Vec<Box<dyn Sink>> = vec![Box::new(SideSink::new(shared.clone(), Side::Left, "A")?)];
    let b: Vec<Box<dyn Sink>> = vec![Box::new(SideSink::new(shared.clone(), Side::Right, "B")?)];
    Ok((a, b, Some(shared)))
}
