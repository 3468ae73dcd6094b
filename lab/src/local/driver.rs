//! [`LocalDriver`]: each load step is a process group on this machine, started at the
//! step's time, followed until it exits, killed when kmidi stops (`stop_all`, drop)
//! or, by its watchdog, when kmidi dies or the step overstays its time.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::driver::{check_start, DriverError, LoadDriver, LoadReport, StepHandle};
use crate::scenario::LoadStep;

use super::java::{java_report, step_spawn, topic_ready, JavaTools, CONSUMER_IDLE_TIMEOUT};
use super::process::LoadProcess;
use super::transport::{worker_report, WorkerCommand};
use super::worker::FLUSH_WAIT;

/// Past its duration, how long a step may run before its watchdog kills it: the tools'
/// JVM starts (the topic, the producer: seconds each on a busy machine), the last acks
/// and the consumers' idle timeout.
pub const STEP_GRACE: Duration = Duration::from_secs(20);
/// How long `stop_all` gives a worker to write its last line once its stdin closed;
/// the java tools are killed at once (a JVM's shutdown would only flush more load).
pub const WORKER_STOP_WAIT: Duration = Duration::from_secs(2);

/// Which program makes the load.
#[derive(Clone, Debug)]
pub enum LoadClient {
    /// Kafka's ProducerPerformance/ConsumerPerformance from the project's jars.
    Java(JavaTools),
    /// A kmidi load worker producing through one of kmidi's transports.
    Transport(WorkerCommand),
}

struct Step {
    handle: StepHandle,
    load: LoadStep,
    process: LoadProcess,
    report: Option<Result<LoadReport, String>>,
}

/// Makes each load step with processes on this machine (see the module's doc).
pub struct LocalDriver {
    client: LoadClient,
    allow_remote: bool,
    grace: Duration,
    run_id: String,
    steps: Vec<Step>,
    /// Load topics a java step has created (or found) already: later steps skip that
    /// JVM. Marked once a step says so, so steps starting together each make sure.
    topics_ready: HashSet<String>,
}

impl LocalDriver {
    /// Kafka's own tools: `kafka_sh` is the repository's `scripts/kafka.sh`, `version`
    /// the Kafka version whose jars run them.
    pub fn java(kafka_sh: impl Into<PathBuf>, version: &str) -> Self {
        Self::new(LoadClient::Java(JavaTools {
            kafka_sh: kafka_sh.into(),
            version: version.to_string(),
        }))
    }

    /// kmidi's load worker through a transport.
    pub fn transport(command: WorkerCommand) -> Self {
        Self::new(LoadClient::Transport(command))
    }

    pub fn new(client: LoadClient) -> Self {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        LocalDriver {
            client,
            allow_remote: false,
            grace: STEP_GRACE,
            run_id: format!("{}-{}", since_epoch.as_secs(), std::process::id()),
            steps: Vec::new(),
            topics_ready: HashSet::new(),
        }
    }

    /// Loads a cluster that is not on loopback: only with the user's `--load-remote`.
    pub fn allow_remote(mut self, allow: bool) -> Self {
        self.allow_remote = allow;
        self
    }

    /// How long past its duration a step may run before it is killed.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The process (group leader) of a step, while the driver knows it.
    pub fn pid(&self, handle: &StepHandle) -> Option<u32> {
        self.steps
            .iter()
            .find(|s| s.handle == *handle)
            .map(|s| s.process.pid())
    }

    /// What a step's processes printed so far (the java tools' lines marked with who
    /// wrote them, the worker's JSON lines): for diagnostics.
    pub fn output(&self, handle: &StepHandle) -> Vec<String> {
        self.steps
            .iter()
            .find(|s| s.handle == *handle)
            .map(|s| s.process.lines())
            .unwrap_or_default()
    }

    fn step_index(&self, handle: &StepHandle) -> Result<usize, DriverError> {
        self.steps
            .iter()
            .position(|s| s.handle == *handle)
            .ok_or_else(|| DriverError::UnknownHandle(handle.id.clone()))
    }
}

/// What a step's process wrote, as a report.
fn report_of(client: &LoadClient, step: &Step) -> Result<LoadReport, String> {
    let lines = step.process.lines();
    let result = match client {
        LoadClient::Java(_) => java_report(step.handle.step, &step.load, &lines),
        LoadClient::Transport(_) => worker_report(step.handle.step, &step.load, &lines),
    };
    result.map_err(|e| {
        let err = step.process.stderr_tail();
        if err.is_empty() {
            e
        } else {
            format!("{e}\n{err}")
        }
    })
}

impl LoadDriver for LocalDriver {
    fn start(
        &mut self,
        step: usize,
        load: &LoadStep,
        bootstrap: &str,
    ) -> Result<StepHandle, DriverError> {
        let fail = |reason: String| DriverError::Start { step, reason };
        let already = self.steps.iter().any(|s| s.handle.step == step);
        check_start(already, self.allow_remote, step, bootstrap)?;
        if !(load.records_per_sec().is_finite() && load.records_per_sec() > 0.0) {
            return Err(fail(format!("no records to send at {}", load.rate)));
        }
        let limit = load.duration + self.grace;
        let spawn = match &self.client {
            LoadClient::Java(tools) => {
                if !tools.kafka_sh.is_file() {
                    return Err(fail(format!(
                        "no Kafka tools script at {}",
                        tools.kafka_sh.display()
                    )));
                }
                let group = format!("kmidi-load-{}-{step}", self.run_id);
                let create = !self.topics_ready.contains(&load.topic.name);
                let limit = limit
                    + if load.consumers > 0 {
                        CONSUMER_IDLE_TIMEOUT
                    } else {
                        Duration::ZERO
                    };
                step_spawn(tools, load, bootstrap, &group, create, limit)
            }
            LoadClient::Transport(command) => {
                if load.consumers > 0 {
                    return Err(fail(
                        "the transport load client has no load consumers yet: \
                         use the java client for consumers=N"
                            .to_string(),
                    ));
                }
                let job = command.job(load, bootstrap);
                command.spawn(&job, limit + FLUSH_WAIT).map_err(fail)?
            }
        };
        let process = LoadProcess::spawn(&spawn)
            .map_err(|e| fail(format!("starting {}: {e}", spawn.program.display())))?;
        let handle = StepHandle {
            step,
            id: format!("pid-{}", process.pid()),
            started_us: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_micros() as u64,
        };
        self.steps.push(Step {
            handle: handle.clone(),
            load: load.clone(),
            process,
            report: None,
        });
        Ok(handle)
    }

    fn poll(&mut self, handle: &StepHandle) -> Result<Option<LoadReport>, DriverError> {
        let i = self.step_index(handle)?;
        let step = &mut self.steps[i];
        if matches!(self.client, LoadClient::Java(_))
            && !self.topics_ready.contains(&step.load.topic.name)
            && topic_ready(&step.process.lines())
        {
            self.topics_ready.insert(step.load.topic.name.clone());
        }
        if step.report.is_none() && step.process.try_finish().is_some() {
            step.report = Some(report_of(&self.client, step));
        }
        match &step.report {
            None => Ok(None),
            Some(Ok(report)) => Ok(Some(report.clone())),
            Some(Err(reason)) => Err(DriverError::Step {
                step: handle.step,
                reason: reason.clone(),
            }),
        }
    }

    fn stop_all(&mut self) -> Result<(), DriverError> {
        let wait = match self.client {
            LoadClient::Java(_) => Duration::ZERO,
            LoadClient::Transport(_) => WORKER_STOP_WAIT,
        };
        let mut alive = Vec::new();
        for i in 0..self.steps.len() {
            if self.steps[i].report.is_some() {
                continue;
            }
            self.steps[i].process.stop(wait);
            // A step cut short still says what it made.
            let report = report_of(&self.client, &self.steps[i]);
            let step = &mut self.steps[i];
            step.report = Some(report);
            if step.process.try_finish().is_none() {
                alive.push(step.process.pid());
            }
        }
        if alive.is_empty() {
            Ok(())
        } else {
            Err(DriverError::Stop(format!(
                "load processes {alive:?} did not end"
            )))
        }
    }
}

impl Drop for LocalDriver {
    fn drop(&mut self) {
        if let Err(e) = self.stop_all() {
            // Nobody is left to return it to, and load may still be running: say so.
            eprintln!("kmidi: {e}");
        }
    }
}
