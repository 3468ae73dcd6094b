//! The `transport` load client's worker: a process of its own (`kmidi load-worker`,
//! hidden) that produces a load step through one of kmidi's transports, so the music's
//! own producer and consumer keep their threads. It reads its job as the first line of
//! stdin (the client config, secrets included, stays out of `ps`), produces
//! `record_size`-byte records at the asked rate until the step's records are sent or
//! its duration has passed, writes what it achieved as a JSON line every
//! [`REPORT_EVERY`], and quits when stdin closes (its driver stopped it, or died).

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kmidi_engine::churn::member::quit_on_stdin_eof;
use kmidi_transport::{ClientConfig, Transport, TransportError};

mod job;
mod meter;

pub use job::{WorkerError, WorkerJob, WorkerLine, WorkerProgress};
use meter::Meter;

pub const REPORT_EVERY: Duration = Duration::from_millis(500);
/// How long the worker waits, after its last record, for the broker's acks.
pub const FLUSH_WAIT: Duration = Duration::from_secs(5);
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the pacing loop wakes: records due are sent in a burst each time.
const TICK: Duration = Duration::from_millis(2);

/// The whole worker process: its job from `stdin`'s first line, its transport from
/// `resolve` (the binary's registry: lab knows no transport by name), the load to
/// `out` as [`WorkerLine`]s; quits when stdin closes. Returns the exit code.
pub fn serve(
    mut stdin: impl BufRead + Send + 'static,
    out: &mut impl Write,
    resolve: impl FnOnce(&WorkerJob) -> Result<Box<dyn Transport>, String>,
) -> i32 {
    let mut first = String::new();
    let job = match stdin.read_line(&mut first) {
        Ok(0) => Err("no job on stdin".to_string()),
        Ok(_) => {
            serde_json::from_str::<WorkerJob>(&first).map_err(|e| format!("bad load job: {e}"))
        }
        Err(e) => Err(format!("reading the load job from stdin: {e}")),
    };
    let transport = job.and_then(|job| resolve(&job).map(|t| (job, t)));
    let (job, transport) = match transport {
        Ok(ok) => ok,
        Err(message) => {
            emit(out, &WorkerLine::Fatal { message });
            return 1;
        }
    };
    let quit = quit_on_stdin_eof(stdin);
    match run(&job, transport.as_ref(), out, &quit) {
        Ok(_) => 0,
        Err(_) => 1,
    }
}

pub(super) fn emit(out: &mut impl Write, line: &WorkerLine) -> bool {
    serde_json::to_string(line)
        .map_err(std::io::Error::other)
        .and_then(|text| {
            writeln!(out, "{text}")?;
            out.flush()
        })
        .is_ok()
}

/// Produces the job's load through `transport`, writing [`WorkerLine`]s to `out`, until
/// its records are sent (or its duration has passed, or `quit`), then waits at most
/// [`FLUSH_WAIT`] for their acks (not when told to quit). A fatal error is written as
/// a `Fatal` line and returned; an unwritable `out` (the driver is gone) ends it.
pub fn run(
    job: &WorkerJob,
    transport: &dyn Transport,
    out: &mut impl Write,
    quit: &AtomicBool,
) -> Result<WorkerProgress, WorkerError> {
    let result = produce(job, transport, out, quit);
    match &result {
        Ok(done) => {
            emit(out, &WorkerLine::Done(*done));
        }
        Err(e) => {
            emit(
                out,
                &WorkerLine::Fatal {
                    message: e.to_string(),
                },
            );
        }
    }
    result
}

fn produce(
    job: &WorkerJob,
    transport: &dyn Transport,
    out: &mut impl Write,
    quit: &AtomicBool,
) -> Result<WorkerProgress, WorkerError> {
    job.check()?;
    let config = job.client_config();
    if let Some(warning) = ensure_topic(job, transport, &config)? {
        emit(out, &WorkerLine::Warning { message: warning });
    }
    let mut producer = transport
        .producer(&config)
        .map_err(|source| WorkerError::Transport {
            doing: format!("{}: creating the load producer", transport.info().name),
            source,
        })?;
    if let Err(e) = producer.warm_up(&job.topic, SETUP_TIMEOUT) {
        emit(
            out,
            &WorkerLine::Warning {
                message: format!("warming up: {e}"),
            },
        );
    }
    let mut meter = Meter::new();
    let value = vec![b'k'; job.record_size as usize];
    let total = job.records();
    let mut refused = 0u64;
    let mut attempts = 0u64;
    while !quit.load(Ordering::Relaxed) && attempts < total {
        let elapsed = meter.start.elapsed();
        if elapsed >= job.duration() {
            break;
        }
        // Records due by now: the pace is kept over the whole step, not per tick.
        let due = ((job.records_per_sec * elapsed.as_secs_f64()) as u64 + 1).min(total);
        while attempts < due && !quit.load(Ordering::Relaxed) {
            // Keys spread the load over the topic's partitions.
            let key = (attempts % 1024).to_string();
            if let Err(e) = producer.send(&job.topic, key.as_bytes(), &value) {
                refused += 1;
                if refused == 1 {
                    emit(
                        out,
                        &WorkerLine::Warning {
                            message: e.to_string(),
                        },
                    );
                }
            }
            attempts += 1;
        }
        if !meter.tick(producer.as_mut(), refused, out) {
            return Ok(meter.last);
        }
        std::thread::sleep(TICK);
    }
    let flush_until = Instant::now() + FLUSH_WAIT;
    while !quit.load(Ordering::Relaxed) && Instant::now() < flush_until {
        let s = producer.stats();
        if s.delivered + s.failed >= s.sent {
            break;
        }
        let _ = producer.flush(REPORT_EVERY.min(flush_until - Instant::now()));
        if !meter.tick(producer.as_mut(), refused, out) {
            break;
        }
    }
    Ok(meter.read(producer.as_mut(), refused))
}

/// Creates the load topic if it is missing, through the transport's admin API; a
/// transport without one leaves it to the broker's auto-creation (said as a warning).
fn ensure_topic(
    job: &WorkerJob,
    transport: &dyn Transport,
    config: &ClientConfig,
) -> Result<Option<String>, WorkerError> {
    let name = transport.info().name;
    let admin = match transport.admin(config) {
        Ok(a) => a,
        Err(TransportError::Unsupported { .. }) => {
            return Ok(Some(format!(
                "{name} has no admin API: the load topic '{}' is left to the broker to create",
                job.topic
            )))
        }
        Err(source) => {
            return Err(WorkerError::Transport {
                doing: format!("{name}: an admin client"),
                source,
            })
        }
    };
    let exists = |doing: &str| {
        admin
            .topic_partitions(&job.topic, SETUP_TIMEOUT)
            .map_err(|source| WorkerError::Transport {
                doing: format!("{name}: {doing} the load topic '{}'", job.topic),
                source,
            })
    };
    if exists("looking up")?.is_some() {
        return Ok(None);
    }
    let spec = kmidi_transport::TopicSpec {
        name: job.topic.clone(),
        partitions: job.partitions,
        replication_factor: job.replication_factor,
        configs: Vec::new(),
    };
    if let Err(source) = admin.create_topic(&spec, SETUP_TIMEOUT) {
        // Another worker may have created it meanwhile: only then is all well.
        if exists("checking")?.is_none() {
            return Err(WorkerError::Transport {
                doing: format!("{name}: creating the load topic '{}'", job.topic),
                source,
            });
        }
    }
    Ok(None)
}
