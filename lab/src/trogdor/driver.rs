//! [`TrogdorDriver`]: each load step becomes Trogdor tasks on a coordinator's agents,
//! created when the step starts, followed until they are done, stopped and destroyed
//! when kmidi stops (`stop_all`, or drop).

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::driver::{check_start, DriverError, LoadDriver, LoadReport, StepHandle};
use crate::scenario::{LoadStep, Rate};

use super::client::{TrogdorClient, TrogdorError};
use super::plan::{consumer_shares, producer_shares};
use super::report::{step_report, Kind, Task};
use super::spec::{ConsumeBench, PartitionsSpec, ProduceBench};
use super::state::TaskState;

/// Added to each task's duration for its setup (the agent's admin client, topic
/// creation: about a second on loopback). The load itself ends after the step's records
/// at the asked rate; the grace only bounds a step the cluster cannot keep up with.
pub const SETUP_GRACE: Duration = Duration::from_secs(5);
/// How long `stop_all` waits for stopped tasks to be done before destroying them anyway
/// (destroying stops a running task too).
pub const STOP_WAIT: Duration = Duration::from_secs(20);

struct Step {
    handle: StepHandle,
    asked: Rate,
    record_size: u64,
    duration: Duration,
    tasks: Vec<Task>,
    report: Option<LoadReport>,
}

/// Makes each load step with Trogdor: one `ProduceBenchSpec` task per agent it spreads
/// the step over (`kmidi-RUN-STEP-produce-N`) and, when the step has consumers, one
/// `ConsumeBenchSpec` task per agent its group members run on
/// (`kmidi-RUN-STEP-consume-N`, group `kmidi-RUN-STEP`). Every task it created is
/// stopped and destroyed by [`LoadDriver::stop_all`] and on drop.
pub struct TrogdorDriver {
    client: TrogdorClient,
    agents: Vec<String>,
    run_id: String,
    allow_remote: bool,
    steps: Vec<Step>,
    /// Each step's first task goes to the next agent: one-agent steps take turns.
    next_agent: usize,
    /// Tasks created (or maybe created: their request failed) and not destroyed yet.
    live: Vec<String>,
}

impl TrogdorDriver {
    /// A driver for the coordinator at `url` whose agents are named `agents` (the
    /// coordinator's REST API does not list them; `scripts/kafka.sh trogdor-start`
    /// names them `agent-1` ...). Nothing is sent yet.
    pub fn new<S: AsRef<str>>(url: &str, agents: &[S]) -> Result<Self, DriverError> {
        let client = TrogdorClient::new(url).map_err(remote("Trogdor coordinator"))?;
        let agents: Vec<String> = agents
            .iter()
            .map(|a| a.as_ref().trim().to_string())
            .collect();
        if agents.is_empty()
            || agents
                .iter()
                .any(|a| a.is_empty() || a.contains(char::is_whitespace))
        {
            return Err(DriverError::Remote {
                what: "Trogdor agents".to_string(),
                reason: format!("want one or more node names, got {agents:?}"),
            });
        }
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Ok(TrogdorDriver {
            client,
            agents,
            run_id: format!("{}-{}", since_epoch.as_secs(), std::process::id()),
            allow_remote: false,
            steps: Vec::new(),
            next_agent: 0,
            live: Vec::new(),
        })
    }

    /// Task ids are `kmidi-RUN-...`: unique per coordinator as long as `run_id` is.
    pub fn with_run_id(mut self, run_id: &str) -> Self {
        self.run_id = run_id.to_string();
        self
    }

    /// Loads a cluster that is not on loopback: only with the user's explicit flag.
    pub fn allow_remote_cluster(mut self, allow: bool) -> Self {
        self.allow_remote = allow;
        self
    }

    /// Checks that the coordinator answers.
    pub fn check(&self) -> Result<(), DriverError> {
        self.client
            .status()
            .map(drop)
            .map_err(remote("Trogdor coordinator"))
    }

    pub fn client(&self) -> &TrogdorClient {
        &self.client
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Every task id this driver created, in order.
    pub fn task_ids(&self) -> Vec<String> {
        self.steps
            .iter()
            .flat_map(|s| s.tasks.iter().map(|t| t.id.clone()))
            .collect()
    }

    /// The tasks not destroyed yet.
    pub fn live_task_ids(&self) -> &[String] {
        &self.live
    }

    /// What the step's tasks failed with, as far as polled.
    pub fn errors(&self, handle: &StepHandle) -> Vec<String> {
        self.steps
            .iter()
            .filter(|s| s.handle == *handle)
            .flat_map(|s| &s.tasks)
            .filter_map(|t| Some(format!("{}: {}", t.id, t.last.as_ref()?.failure()?)))
            .collect()
    }

    fn create<S: serde::Serialize>(&mut self, id: &str, spec: &S) -> Result<(), TrogdorError> {
        // Tracked before the request: one that timed out may still have created it.
        self.live.push(id.to_string());
        self.client.create_task(id, spec)
    }

    fn step_index(&self, handle: &StepHandle) -> Result<usize, DriverError> {
        self.steps
            .iter()
            .position(|s| s.handle == *handle)
            .ok_or_else(|| DriverError::UnknownHandle(handle.id.clone()))
    }

    /// Records what the coordinator says about these tasks; missing ones are gone.
    fn absorb(&mut self, states: &BTreeMap<String, TaskState>) {
        for task in self.steps.iter_mut().flat_map(|s| s.tasks.iter_mut()) {
            if let Some(state) = states.get(&task.id) {
                task.observe(state.clone());
            }
        }
    }

    /// Caches the report of every step whose tasks are all done.
    fn settle(&mut self) {
        for step in &mut self.steps {
            if step.report.is_none() && step.tasks.iter().all(Task::is_done) {
                step.report = Some(step_report(
                    step.handle.step,
                    step.asked,
                    step.record_size,
                    step.duration,
                    &step.tasks,
                ));
            }
        }
    }
}

impl LoadDriver for TrogdorDriver {
    fn start(
        &mut self,
        step: usize,
        load: &LoadStep,
        bootstrap: &str,
    ) -> Result<StepHandle, DriverError> {
        let fail = |reason: String| DriverError::Start { step, reason };
        let already = self.steps.iter().any(|s| s.handle.step == step);
        check_start(already, self.allow_remote, step, bootstrap)?;
        let shares = producer_shares(load.records_per_sec(), load.duration, self.agents.len());
        if shares.is_empty() {
            return Err(fail(format!("no records to send at {}", load.rate)));
        }
        let partitions = PartitionsSpec {
            num_partitions: load.topic.partitions,
            replication_factor: i16::try_from(load.topic.replication_factor)
                .map_err(|_| fail("replication factor out of range".to_string()))?,
        };
        let duration_ms = (load.duration + SETUP_GRACE).as_millis() as u64;
        let id = format!("kmidi-{}-{step}", self.run_id);
        let n = self.agents.len();
        let first = self.next_agent;
        self.next_agent = (first + 1) % n;
        let started_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros() as u64;
        let mut tasks = Vec::new();
        let mut result = Ok(());
        for (i, share) in shares.iter().enumerate() {
            let node = self.agents[(first + share.agent) % n].clone();
            let task_id = format!("{id}-produce-{}", i + 1);
            let spec = ProduceBench::new(
                &node,
                bootstrap,
                share.rate,
                share.max_messages,
                duration_ms,
                load.record_size,
                &load.topic.name,
                partitions.clone(),
            );
            tasks.push(Task::new(&task_id, Kind::Produce));
            result = self.create(&task_id, &spec);
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() && load.consumers > 0 {
            // Each member reads at most what the whole step sends: a bound, not a goal.
            let records: u64 = shares.iter().map(|s| s.max_messages).sum();
            for (i, (agent, threads)) in consumer_shares(load.consumers, n).into_iter().enumerate()
            {
                let node = self.agents[(first + agent) % n].clone();
                let task_id = format!("{id}-consume-{}", i + 1);
                let spec = ConsumeBench::new(
                    &node,
                    bootstrap,
                    &id,
                    threads,
                    records,
                    duration_ms,
                    &load.topic.name,
                );
                tasks.push(Task::new(&task_id, Kind::Consume));
                result = self.create(&task_id, &spec);
                if result.is_err() {
                    break;
                }
            }
        }
        if let Err(e) = result {
            // Half a step is no step: what was created goes now (what cannot be
            // destroyed stays live, for stop_all), and the step may be started again.
            for task in &tasks {
                let _ = self.client.stop_task(&task.id);
                if self.client.destroy_task(&task.id).is_ok() {
                    self.live.retain(|l| *l != task.id);
                }
            }
            return Err(fail(e.to_string()));
        }
        let handle = StepHandle {
            step,
            id,
            started_us,
        };
        self.steps.push(Step {
            handle: handle.clone(),
            asked: load.rate,
            record_size: load.record_size,
            duration: load.duration,
            tasks,
            report: None,
        });
        Ok(handle)
    }

    fn poll(&mut self, handle: &StepHandle) -> Result<Option<LoadReport>, DriverError> {
        let i = self.step_index(handle)?;
        if let Some(report) = &self.steps[i].report {
            return Ok(Some(report.clone()));
        }
        let ids: Vec<String> = self.steps[i].tasks.iter().map(|t| t.id.clone()).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let states = self.client.tasks(&refs).map_err(|e| DriverError::Step {
            step: handle.step,
            reason: e.to_string(),
        })?;
        if let Some(gone) = ids.iter().find(|id| !states.contains_key(*id)) {
            return Err(DriverError::Step {
                step: handle.step,
                reason: format!(
                    "task '{gone}' is gone from the coordinator {}",
                    self.client.url()
                ),
            });
        }
        self.absorb(&states);
        self.settle();
        Ok(self.steps[i].report.clone())
    }

    fn stop_all(&mut self) -> Result<(), DriverError> {
        if self.live.is_empty() {
            return Ok(());
        }
        let ids = self.live.clone();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut problems = Vec::new();
        for id in &ids {
            if let Err(e) = self.client.stop_task(id) {
                problems.push(e.to_string());
            }
        }
        // Bounded: then destroyed anyway, which stops what still runs.
        let deadline = Instant::now() + STOP_WAIT;
        loop {
            match self.client.tasks(&refs) {
                Ok(states) => {
                    self.absorb(&states);
                    if states.values().all(TaskState::is_done) {
                        break;
                    }
                }
                Err(e) => {
                    problems.push(e.to_string());
                    break;
                }
            }
            if Instant::now() >= deadline {
                problems.push(format!("tasks not done {STOP_WAIT:?} after being stopped"));
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        // Their last reports are kept: a step cut short still says what it made.
        self.settle();
        for id in &ids {
            match self.client.destroy_task(id) {
                Ok(()) => self.live.retain(|l| l != id),
                Err(e) => problems.push(e.to_string()),
            }
        }
        if self.live.is_empty() {
            Ok(())
        } else {
            problems.insert(
                0,
                format!(
                    "Trogdor tasks {:?} on {} may still run",
                    self.live,
                    self.client.url()
                ),
            );
            Err(DriverError::Stop(problems.join("; ")))
        }
    }
}

impl Drop for TrogdorDriver {
    fn drop(&mut self) {
        if let Err(e) = self.stop_all() {
            // Nobody is left to return it to, and load may still be running: say so.
            eprintln!("kmidi: {e}");
        }
    }
}

fn remote(what: &'static str) -> impl Fn(TrogdorError) -> DriverError {
    move |e| DriverError::Remote {
        what: what.to_string(),
        reason: e.to_string(),
    }
}
