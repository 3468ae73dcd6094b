//! `--scenario`'s broker and exec steps in a listening command (`compare`,
//! `instrument`): the driver the user chose (`driver`), a runner thread that starts
//! each step at its song time (`runner`), what each step does (`step`) and what became
//! of it (`record`), and what it cost each side's music once the run is over.
//!
//! Nothing outlives kmidi: [`FaultRun::finish`] (and dropping the run, on any error)
//! stops the runner, whose steps put their broker back (restarted, SIGCONT) and kill
//! their command, and whose driver puts back whatever is left.

mod driver;
mod record;
mod runner;
mod step;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use kmidi_engine::measure::Sample;
use kmidi_engine::observe::Observer;
use kmidi_lab::fault::{charge, ChargeInput};
use kmidi_lab::{FaultAction, Scenario};
use kmidi_midi::score::Score;
use kmidi_transport::{ClientConfig, Transport};

pub use record::{SideCharge, StepRecord};
use runner::{RunLog, Runner};
use step::Ctx;

use crate::cli::{CompareArgs, FaultArgs};
use crate::load::SideWatch;

/// What a command hands over to run the scenario's broker and exec steps.
pub struct FaultSetup<'a> {
    /// `--scenario`, if given: nothing is started without broker or exec steps.
    pub scenario: Option<&'a Scenario>,
    pub args: &'a FaultArgs,
    pub bootstrap: String,
    /// The cluster is librdkafka's embedded mock: broker steps are refused.
    pub embedded: bool,
    /// Its admin client reads the leaders of the music topics (`leader-of`, the ISR
    /// waits).
    pub transport: &'a dyn Transport,
    pub config: &'a ClientConfig,
    /// The music topics, one per side; `leader-of=P` is read on the first.
    pub topics: Vec<String>,
    pub speed: f64,
    /// Where the score puts each note (song time s), when this process plays it.
    pub scheduled_s: Option<Vec<f64>>,
    pub labels: Vec<String>,
    pub run_id: &'a str,
}

/// The broker and exec steps of a run while the song plays.
pub struct FaultRun {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<RunLog>>,
    sides: Vec<Arc<SideWatch>>,
    labels: Vec<String>,
    topics: Vec<String>,
    scheduled_s: Option<Vec<f64>>,
    scenario: String,
    driver: String,
}

/// What the steps did and what they cost each side: the `--report` section.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FaultOutcome {
    /// The scenario as kmidi read it.
    pub scenario: String,
    pub driver: String,
    pub steps: Vec<StepRecord>,
    /// What was put back when the run ended.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub released: Vec<String>,
}

/// Checks the steps can be done (a driver for broker steps, a command for each exec
/// step), says what will be done, and starts the runner, which waits for the song;
/// `None` without broker or exec steps.
pub fn start(setup: FaultSetup<'_>) -> Result<Option<FaultRun>> {
    let Some(scenario) = setup.scenario.filter(|s| s.has_faults()) else {
        return Ok(None);
    };
    let steps = &scenario.faults;
    let broker_steps: Vec<_> = steps.iter().filter(|s| s.is_broker_step()).collect();
    if let (true, Some(s)) = (setup.embedded, broker_steps.first()) {
        bail!(
            "{s}: broker steps need a real cluster, not the embedded mock: give -b a \
             cluster scripts/kafka.sh started (scripts/kafka.sh start-cluster 4.3.1 3 kmidi)"
        );
    }
    let commands = setup.args.commands();
    for s in steps {
        if let FaultAction::Exec { name, .. } = &s.action {
            if !commands.contains_key(name) {
                bail!(
                    "{s}: no command named '{name}': exec steps run only commands given \
                     with --exec {name}=CMD (e.g. --exec {name}='systemctl restart kafka')"
                );
            }
        }
    }
    let driver = match (&setup.args.fault_driver, broker_steps.first()) {
        (_, None) => None,
        (None, Some(s)) => bail!(
            "{s}: broker steps act on your cluster, so they need --fault-driver: `script` \
             for a cluster scripts/kafka.sh started (SIGKILL/SIGSTOP/restart of its \
             nodes), or trogdor=URL,agents=ID:NODE+... (broker-pause through Trogdor \
             agents on the brokers' hosts)"
        ),
        (Some(spec), Some(_)) => Some(driver::build(
            spec,
            &setup.bootstrap,
            &broker_steps,
            setup.run_id,
        )?),
    };
    let mut by = Vec::new();
    if let Some(d) = &driver {
        by.push(d.describe());
    }
    for (name, cmd) in &commands {
        by.push(format!("exec {name}: sh -c '{cmd}'"));
    }
    let scenario: String = steps
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let driver_line = by.join("; ");
    eprintln!(
        "faults: {} step(s) on {} ({scenario}) by {driver_line}; a paused broker is \
         resumed, a killed one started again and a command killed when kmidi exits",
        steps.len(),
        setup.bootstrap
    );
    let sides: Vec<Arc<SideWatch>> = (0..setup.labels.len().max(1))
        .map(|_| Arc::new(SideWatch::default()))
        .collect();
    let runner = Runner {
        ctx: Arc::new(Ctx {
            steps: steps.clone(),
            driver,
            commands,
            admin: setup.transport.admin(setup.config).ok().map(Mutex::new),
            topics: setup.topics.clone(),
            speed: setup.speed,
            cluster: Mutex::new(()),
        }),
        sides: sides.clone(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("kmidi-faults".into())
            .spawn(move || runner.run(stop))
            .context("starting the fault runner's thread")?
    };
    Ok(Some(FaultRun {
        stop,
        thread: Some(thread),
        sides,
        labels: setup.labels,
        topics: setup.topics,
        scheduled_s: setup.scheduled_s,
        scenario,
        driver: driver_line,
    }))
}

/// `compare`'s steps: side A's transport reads the leaders of both sides' topics
/// (`leader-of` on side A's); song times from the score, stretched by `--speed-ratio`.
pub fn for_compare(
    args: &CompareArgs,
    bootstrap: &str,
    embedded: bool,
    transport: &dyn Transport,
    topics: impl Iterator<Item = String>,
    labels: &[String],
    score: &Score,
) -> Result<Option<FaultRun>> {
    let speed = args.speed.ratio();
    let config = crate::connect::client_config(
        Some(bootstrap),
        args.client.config.as_deref(),
        &args.client.props,
    )?;
    start(FaultSetup {
        scenario: args.lab.scenario.as_ref(),
        args: &args.faults,
        bootstrap: bootstrap.to_string(),
        embedded,
        transport,
        config: &config,
        topics: topics.collect(),
        speed,
        scheduled_s: Some(
            crate::lab::scheduled_us(score, speed)
                .iter()
                .map(|us| *us as f64 / 1e6)
                .collect(),
        ),
        labels: labels.to_vec(),
        run_id: &crate::ids::new_run_id(),
    })
}

impl FaultRun {
    /// Side `i`'s observer: how the runner learns the song's start.
    pub fn observer(&self, i: usize) -> Option<Arc<dyn Observer>> {
        self.sides
            .get(i)
            .map(|w| Arc::clone(w) as Arc<dyn Observer>)
    }

    /// Stops the runner (every broker put back), and charges each step to each side's
    /// `samples` (the notes it heard, in side order).
    pub fn finish(mut self, samples: &[&[Sample]]) -> FaultOutcome {
        let log = self.stop_and_join().unwrap_or_default();
        let mut steps = log.steps;
        if let Some(start) = log.song_start_us {
            for r in &mut steps {
                let (Some(from), Some(to)) = (r.started_s, r.ended_s) else {
                    continue;
                };
                r.sides = samples
                    .iter()
                    .enumerate()
                    .map(|(i, samples)| {
                        // On this side's own song axis (`SideWatch::lag_s`).
                        let lag = self.sides.get(i).map_or(0.0, |w| w.lag_s(start));
                        let own_start = start + (lag * 1e6) as u64;
                        let empty = Default::default();
                        let leaders = self
                            .topics
                            .get(i)
                            .and_then(|t| r.leaders.get(t))
                            .unwrap_or(&empty);
                        SideCharge {
                            side: self.labels.get(i).cloned().unwrap_or_default(),
                            charge: charge(&ChargeInput {
                                samples,
                                scheduled_s: self.scheduled_s.as_deref(),
                                song_start_us: own_start,
                                started_s: from - lag,
                                ended_s: to - lag,
                                leaders,
                            }),
                        }
                    })
                    .collect();
            }
        }
        FaultOutcome {
            scenario: self.scenario.clone(),
            driver: self.driver.clone(),
            steps,
            released: log.released,
        }
    }

    fn stop_and_join(&mut self) -> Option<RunLog> {
        self.stop.store(true, Ordering::Relaxed);
        let joined = self.thread.take()?.join();
        if joined.is_err() {
            eprintln!("kmidi: the fault runner's thread panicked; its driver puts the brokers back as it is dropped");
        }
        joined.ok()
    }
}

impl Drop for FaultRun {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::FaultDriverSpec;

    fn refusal(scenario: &str, args: &FaultArgs, embedded: bool) -> String {
        let scenario: Scenario = scenario.parse().unwrap();
        let transport = kmidi_registry::built_in("rdkafka").unwrap();
        let config: ClientConfig = [("bootstrap.servers", "127.0.0.1:9")].into_iter().collect();
        let started = start(FaultSetup {
            scenario: Some(&scenario),
            args,
            bootstrap: "127.0.0.1:9".into(),
            embedded,
            transport: transport.as_ref(),
            config: &config,
            topics: vec!["t".into()],
            speed: 1.0,
            scheduled_s: None,
            labels: vec!["instrument".into()],
            run_id: "test",
        });
        match started {
            Ok(_) => panic!("{scenario} was not refused"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn steps_that_touch_the_cluster_are_off_unless_asked_for() {
        let none = FaultArgs::default();
        let e = refusal("broker-kill@1s:broker=1", &none, false);
        assert!(e.contains("need --fault-driver"), "{e}");
        let e = refusal("exec@1s:run=bounce", &none, false);
        assert!(e.contains("--exec bounce=CMD"), "{e}");
        let script = FaultArgs {
            fault_driver: Some(FaultDriverSpec::Script(None)),
            ..FaultArgs::default()
        };
        let e = refusal("broker-pause@1s:broker=1:for=1s", &script, true);
        assert!(e.contains("embedded mock"), "{e}");
        // A cluster the script did not start (nothing of its listens on port 9).
        let e = refusal("broker-restart@1s:broker=1", &script, false);
        assert!(e.contains("was started by scripts/kafka.sh"), "{e}");
    }

    #[test]
    fn a_scenario_without_broker_or_exec_steps_starts_nothing() {
        let scenario: Scenario = "join@1s,load@2s:rate=1MB/s:for=1s".parse().unwrap();
        let transport = kmidi_registry::built_in("rdkafka").unwrap();
        let config = ClientConfig::default();
        let run = start(FaultSetup {
            scenario: Some(&scenario),
            args: &FaultArgs::default(),
            bootstrap: "127.0.0.1:9".into(),
            embedded: true,
            transport: transport.as_ref(),
            config: &config,
            topics: Vec::new(),
            speed: 1.0,
            scheduled_s: None,
            labels: Vec::new(),
            run_id: "test",
        })
        .unwrap();
        assert!(run.is_none());
    }
}
