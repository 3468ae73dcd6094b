//! `kmidi compare`: two client libraries play the same song at the same time against
//! the same cluster, each on its own topic and group; A is heard on the left, B on the
//! right (or each on its own port), and one table puts their figures side by side.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use kmidi_engine::session::Outcome;
use kmidi_midi::sink::{PortSink, SharedSinks, Side, SideSink, Sink};
use kmidi_registry as registry;
use kmidi_transport::{ClientConfig, TopicSpec, Transport, TransportInfo};

use crate::cli::CompareArgs;
use crate::report::{self, Document, PlayerFigures, SideReport};
use crate::setup::SessionSetup;
use crate::signals::SignalStop;
use crate::{connect, instrument, metrics, outputs, player, songs, verdict};

pub fn run(args: CompareArgs, stop: SignalStop) -> Result<i32> {
    // Bound first: a port in use is an error before anything connects or plays.
    let metrics = metrics::start(&args.metrics)?;
    let speed = args.speed.ratio();
    let score = songs::bundled_or_file(&args.song.song)?;
    let timeout = args.connect_timeout;
    let a = registry::resolve(&args.a, &args.plugins.plugin_dirs).context("side A")?;
    let b = registry::resolve(&args.b, &args.plugins.plugin_dirs).context("side B")?;
    let (names, topics) = (
        [a.info().name, b.info().name],
        [
            format!("{}_a", args.topic_prefix),
            format!("{}_b", args.topic_prefix),
        ],
    );
    // Kept alive until both sides are done.
    let on = connect::Cluster::given_or_embedded(args.bootstrap.as_deref())?;
    let (bootstrap, cluster) = (on.bootstrap.clone(), &on.embedded);
    let where_ = on.describe();
    let mut sides = Vec::new();
    for (i, (transport, extra)) in [(a, &args.props_a), (b, &args.props_b)]
        .into_iter()
        .enumerate()
    {
        let label = format!("{} ({})", ["A", "B"][i], names[i]);
        let mut props = args.client.props.clone();
        props.extend(extra.iter().cloned());
        let config = connect::client_config(&bootstrap, args.client.config.as_deref(), &props)?;
        let topic = &topics[i];
        match &cluster {
            Some(c) => c.create_topic(topic, 1)?,
            None => ensure_topic(transport.as_ref(), &config, topic, timeout)
                .with_context(|| format!("{label}: topic {topic}"))?,
        }
        let mut consumer_config = config.clone();
        if cluster.is_some() {
            // The mock cluster answers a fetch only when its wait expires.
            consumer_config.set_default("fetch.wait.max.ms", "5");
        }
        let group = format!("kmidi-compare-{}-{}", ["a", "b"][i], player::new_run_id());
        let side = SideSetup {
            label: label.clone(),
            info: transport.info(),
            topic: topic.clone(),
            group: group.clone(),
            client_properties: config.redacted(),
        };
        let session = SessionSetup {
            transport,
            producer_config: config,
            consumer_config,
            topic: topic.clone(),
            group,
            score: score.clone(),
            speed,
            run_id: player::new_run_id(),
            observer: metrics::observer(&metrics, &side.info.name, topic),
            playout_delay: args.output.playout_delay,
        };
        // Both sides connect before either plays, so a refusal stops the comparison
        // before any music: a one-sided "comparison" would mislead.
        let ready = session
            .connect(&stop)
            .map_err(|e| anyhow!("{label} cannot play on {where_}: {e:#}"))?;
        sides.push((side, ready));
    }
    let (mut sinks_a, mut sinks_b, shared) = open_sinks(&args)?;
    eprintln!(
        "kmidi compare: {} on {where_}: A = {} (left), B = {} (right), output: {}",
        score.name,
        names[0],
        names[1],
        shared
            .as_ref()
            .map(|s| s.describe())
            .unwrap_or_else(|| format!(
                "{} | {}",
                instrument::describe(&sinks_a),
                instrument::describe(&sinks_b)
            ))
    );
    let mut it = sides.into_iter();
    let ((sa, ra), (sb, rb)) = match (it.next(), it.next()) {
        (Some(x), Some(y)) => (x, y),
        _ => unreachable!("two sides were connected"),
    };
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
    let mut finished = instrument::finish(&mut sinks_a).and(instrument::finish(&mut sinks_b));
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
        player::print_summary(&o.played);
        let label = &side.label;
        failures.extend(
            verdict::of_session(o)
                .into_iter()
                .map(|f| format!("{label}: {f}")),
        );
    }
    eprint!(
        "{}",
        report::side_by_side(
            &sa.label,
            &outcome_a.listened,
            &sb.label,
            &outcome_b.listened
        )
    );
    let doc = Document {
        song: Some(score.name.clone()),
        speed_ratio: Some(speed),
        ..Document::new(
            "compare",
            where_.clone(),
            vec![sa.report(&outcome_a), sb.report(&outcome_b)],
        )
    };
    instrument::write_outputs(
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

/// Creates the side's topic if it is missing: with the side's own admin API, or with
/// librdkafka's when that library has none.
fn ensure_topic(
    transport: &dyn Transport,
    config: &ClientConfig,
    topic: &str,
    timeout: Duration,
) -> Result<()> {
    let admin = match transport.admin(config) {
        Ok(admin) => admin,
        Err(_) => registry::fallback_admin(config)?,
    };
    if admin.topic_partitions(topic, timeout)?.is_some() {
        return Ok(());
    }
    let spec = TopicSpec {
        name: topic.to_string(),
        partitions: 1,
        replication_factor: 1,
        configs: vec![("retention.ms".to_string(), "60000".to_string())],
    };
    match admin.create_topic(&spec, timeout) {
        Ok(()) => Ok(()),
        Err(_) => Ok(registry::fallback_admin(config)?.create_topic(&spec, timeout)?),
    }
}

type SideSinks = (Vec<Box<dyn Sink>>, Vec<Box<dyn Sink>>, Option<SharedSinks>);

/// Two ports (`--port-a/--port-b`), or one set of outputs shared and panned.
fn open_sinks(args: &CompareArgs) -> Result<SideSinks> {
    if let (Some(pa), Some(pb)) = (&args.port_a, &args.port_b) {
        let a: Vec<Box<dyn Sink>> = vec![Box::new(PortSink::open(pa)?)];
        let b: Vec<Box<dyn Sink>> = vec![Box::new(PortSink::open(pb)?)];
        return Ok((a, b, None));
    }
    let shared = SharedSinks::new(outputs::open_or_fallback(
        &args.output,
        Path::new("."),
        "kmidi-compare",
    )?);
    let a: Vec<Box<dyn Sink>> = vec![Box::new(SideSink::new(shared.clone(), Side::Left, "A")?)];
    let b: Vec<Box<dyn Sink>> = vec![Box::new(SideSink::new(shared.clone(), Side::Right, "B")?)];
    Ok((a, b, Some(shared)))
}

/// What a side's report says about its set-up, kept while its session runs.
struct SideSetup {
    label: String,
    info: TransportInfo,
    topic: String,
    group: String,
    client_properties: Vec<String>,
}

impl SideSetup {
    fn report<'a>(&self, o: &'a Outcome) -> SideReport<'a> {
        SideReport {
            client_properties: self.client_properties.clone(),
            player: Some(PlayerFigures::of(&o.played, &o.flushed)),
            ..SideReport::new(
                self.label.clone(),
                &self.info,
                &self.topic,
                &self.group,
                &o.listened,
            )
        }
    }
}
