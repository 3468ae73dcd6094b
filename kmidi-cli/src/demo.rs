//! `kmidi demo`: a player and an instrument in one process, on librdkafka's in-process
//! mock cluster, so a first run needs no Kafka. Plays to FluidSynth if a port is there,
//! else records a `.mid` and, with a soundfont, renders a `.wav`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use kmidi_midi::sink::{find_soundfont, wav_summary, MidRecorder, Sink, WavRenderer};
use kmidi_rdkafka::mock::EmbeddedCluster;
use kmidi_transport::{OffsetReset, Subscription};

use crate::cli::DemoArgs;
use crate::listen::{self, ListenOptions, Live};
use crate::perform::{self, PlayOptions, Progress};
use crate::signals::Stop;
use crate::{connect, instrument, outputs, player, registry, songs};

const TOPIC: &str = "midi_notes";

pub fn run(args: DemoArgs, stop: Stop) -> Result<i32> {
    let speed = args.speed.ratio();
    let score = songs::bundled_or_file(&args.song)?;
    let mut sinks = open_sinks(&args)?;
    let transport = registry::resolve(&args.transport)?;
    let cluster = EmbeddedCluster::start(1)?;
    cluster.create_topic(TOPIC, 1)?;
    let config = connect::client_config(&cluster.bootstrap(), &args.props)?;
    // The mock cluster answers a fetch only when its wait expires, unlike a real
    // broker that answers as soon as a record arrives; keep that wait short.
    let mut consumer_config = config.clone();
    consumer_config.set_default("fetch.wait.max.ms", "5");
    eprintln!(
        "kmidi demo: {} on librdkafka's in-process mock cluster ({}) via {}, playing to {}",
        score.name,
        cluster.bootstrap(),
        transport.info().name,
        instrument::describe(&sinks)
    );
    let subscription = Subscription {
        topics: vec![TOPIC.to_string()],
        group: "kmidi-demo".to_string(),
        offset_reset: OffsetReset::Earliest,
    };
    let mut consumer = transport.consumer(&consumer_config, &subscription)?;
    // The topic is new and empty, so nothing polled while joining is lost.
    let _ = listen::wait_for_assignment(consumer.as_mut(), Duration::from_secs(15), &stop);
    let producer = transport.producer(&config)?;
    let progress = Arc::new(Progress::default());
    let opts = PlayOptions {
        topic: TOPIC.to_string(),
        speed,
        record_size: 0,
        repeat: false,
        run_id: player::new_run_id(),
    };
    let target = Arc::new(AtomicU64::new(u64::MAX));
    let play = perform::spawn(
        producer,
        vec![score],
        opts,
        stop.clone(),
        Arc::clone(&progress),
        Duration::from_secs(10),
    )
    .context("starting the scheduler thread")?;
    // The demo ends once the instrument has handled everything the player sent.
    let watcher = {
        let target = Arc::clone(&target);
        let progress = Arc::clone(&progress);
        let quiet = args.quiet;
        std::thread::spawn(move || {
            let bar = player::progress_bar(quiet);
            while !play.is_finished() {
                player::update_bar(&bar, &progress);
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
            let joined = play.join();
            let sent = joined.as_ref().map(|(r, _)| r.sent).unwrap_or(0);
            target.store(sent, Ordering::Relaxed);
            joined
        })
    };
    let listen_opts = ListenOptions {
        idle_exit: Some(Duration::from_secs(5)),
        max_messages: None,
        target,
    };
    let live = Live::default();
    let report = listen::listen(consumer.as_mut(), &mut sinks, &listen_opts, &stop, &live);
    let (play_report, flushed) = watcher
        .join()
        .ok()
        .and_then(|r| r.ok())
        .context("the player thread panicked")?;
    player::print_summary(&play_report, &flushed);
    let finished = instrument::finish(&mut sinks);
    instrument::print_report(&report);
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
    Ok(stop.exit_code().unwrap_or(0))
}

fn default_wav(args: &DemoArgs) -> Option<PathBuf> {
    let p = args.out_dir.join("kmidi-demo.wav");
    p.exists().then_some(p)
}

/// The user's outputs if they named any; else FluidSynth if it is there; else files.
fn open_sinks(args: &DemoArgs) -> Result<Vec<Box<dyn Sink>>> {
    let out = &args.output;
    if out.port.is_some() || out.record.is_some() || out.render.is_some() || out.no_port {
        return outputs::open_all(out);
    }
    match outputs::open_port(outputs::DEFAULT_PORT) {
        Ok(port) => return Ok(vec![port]),
        Err(err) => eprintln!(
            "no FluidSynth port ({}); writing files instead",
            first_line(&err.to_string())
        ),
    }
    let mid = args.out_dir.join("kmidi-demo.mid");
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(MidRecorder::open(mid)?)];
    match out.soundfont.clone().or_else(find_soundfont) {
        Some(font) => {
            let wav = args.out_dir.join("kmidi-demo.wav");
            sinks.push(Box::new(WavRenderer::new(wav, &font)?));
        }
        None => eprintln!(
            "no SoundFont found, so no .wav: install one (`apt install timgm6mb-soundfont`) or pass --soundfont FILE.sf2"
        ),
    }
    Ok(sinks)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}
