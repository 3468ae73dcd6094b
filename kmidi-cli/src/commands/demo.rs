//! `kmidi demo`: a player and an instrument in one process, on librdkafka's in-process
//! mock cluster, so a first run needs no Kafka. Plays to FluidSynth if a port is there,
//! else records a `.mid` and, with a soundfont, renders a `.wav`.

use std::path::PathBuf;

use anyhow::Result;
use kmidi_engine::session::Outcome;
use kmidi_midi::sink::wav_summary;
use kmidi_registry::embedded::{self, EmbeddedCluster};

use crate::cli::DemoArgs;
use crate::report::{self, Document, PlayerFigures, SideReport};
use crate::session::SessionSetup;
use crate::signals::SignalStop;
use crate::term::summary;
use crate::{connect, ids, metrics, outputs, songs, verdict, web};

const TOPIC: &str = "midi_notes";
const GROUP: &str = "kmidi-demo";

pub fn run(args: DemoArgs, stop: SignalStop) -> Result<i32> {
    // Bound first: a port in use is an error before anything plays.
    let served = web::start(
        &args.web,
        &Default::default(),
        metrics::Role::Both,
        "demo",
        &["demo"],
    )?;
    let web = served.web;
    let speed = args.speed.ratio();
    let song = args.song.one().map_err(anyhow::Error::msg)?;
    let score = songs::bundled_or_file(song)?;
    let song_name = score.name.clone();
    let mut sinks = outputs::open_or_fallback(&args.output, &args.out_dir, "kmidi-demo")?;
    web::add_sink(&web, &mut sinks);
    // The cluster first: a kmidi built without librdkafka has none, which says more
    // than the default transport it also lacks.
    let cluster = EmbeddedCluster::start(1)?;
    let transport = connect::transport(&args.transport)?;
    if let Some(why) = embedded::refusal(&transport.info().name) {
        anyhow::bail!(why);
    }
    cluster.create_topic(TOPIC, 1)?;
    let config = connect::client_config(
        Some(&cluster.bootstrap()),
        args.client.config.as_deref(),
        &args.client.props,
    )?;
    // The mock cluster answers a fetch only when its wait expires, unlike a real
    // broker that answers as soon as a record arrives; keep that wait short.
    let mut consumer_config = config.clone();
    consumer_config.set_default("fetch.wait.max.ms", "5");
    eprintln!(
        "kmidi demo: {} on {} ({}) via {}, output: {}",
        score.name,
        embedded::DESCRIPTION,
        cluster.bootstrap(),
        transport.info().name,
        outputs::describe(&sinks)
    );
    let ready = SessionSetup {
        transport,
        producer_config: config.clone(),
        consumer_config,
        topic: TOPIC.to_string(),
        group: GROUP.to_string(),
        score,
        speed,
        run_id: ids::new_run_id(),
        observer: web::observer(&web, 0, None),
        playout_delay: args.output.playout_delay,
        key_by: Default::default(),
        group_plan: None,
    }
    .connect(&stop)?;
    let info = ready.transport().info();
    let outcome = ready.run(&mut sinks, &stop, !args.quiet.quiet)?;
    let failed = verdict::report(&verdict::of_session(&outcome));
    let Outcome {
        listened: report,
        played: play_report,
        flushed,
    } = outcome;
    summary::print_played(&play_report);
    let finished = outputs::finish(&mut sinks);
    summary::print_heard(&report);
    web::end(&web, &[("demo", &report)]);
    let side = SideReport {
        client_properties: config.redacted(),
        player: Some(PlayerFigures::of(&play_report, &flushed)),
        ..SideReport::new("demo", &info, TOPIC, GROUP, &report)
    };
    let doc = Document {
        song: Some(song_name.clone()),
        speed_ratio: Some(speed),
        ..Document::new("demo", embedded::DESCRIPTION.to_string(), vec![side])
    };
    report::write_outputs(&args.output, &doc, &format!("kmidi demo: {song_name}"))?;
    finished?;
    if let Some(path) = &args.output.render.clone().or_else(|| default_wav(&args)) {
        if let Ok(s) = wav_summary(path) {
            eprintln!(
                "{}: {:.1} s of audio, peak {:.1} dBFS",
                path.display(),
                s.seconds(),
                20.0 * (s.peak.max(1e-6) as f64).log10()
            );
        }
    }
    Ok(failed.unwrap_or_else(|| stop.exit_code().unwrap_or(0)))
}

fn default_wav(args: &DemoArgs) -> Option<PathBuf> {
    let p = args.out_dir.join("kmidi-demo.wav");
    p.exists().then_some(p)
}
