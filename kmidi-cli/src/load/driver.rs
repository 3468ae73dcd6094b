//! `--load-driver`: the load driver a run uses, built from what the user chose, and
//! the one line that says what it will do before it does it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use kmidi_lab::local::{LocalDriver, WorkerCommand};
use kmidi_lab::trogdor::TrogdorDriver;
use kmidi_lab::LoadDriver;

use crate::cli::LoadDriverSpec;

/// The Kafka version whose jars run the java tools, unless `KMIDI_LOAD_KAFKA_VERSION`
/// says: the newest the project's script fetches (its tools talk to older brokers too).
const JAVA_TOOLS_VERSION: &str = "4.3.1";

/// A driver that can be handed to the runner's thread.
pub type Driver = Box<dyn LoadDriver + Send>;

/// What the load workers of `local` need to know of the side.
pub struct WorkerSetup<'a> {
    /// The side's `--transport` (side A's in a compare).
    pub transport: &'a str,
    pub plugin_dirs: &'a [PathBuf],
    /// The side's client properties (security and the like), secrets included: the
    /// worker connects with them. `bootstrap.servers` is set per step.
    pub config: Vec<(String, String)>,
}

/// The driver of `spec`; `allow_remote` is `--load-remote`.
pub fn build(
    spec: &LoadDriverSpec,
    worker: WorkerSetup<'_>,
    allow_remote: bool,
    run_id: &str,
) -> Result<(Driver, String)> {
    let program = || std::env::current_exe().context("finding the kmidi binary for load workers");
    let worker_command = |transport: &str| -> Result<WorkerCommand> {
        let mut command = WorkerCommand::kmidi(program()?, transport);
        command.plugin_dirs = worker.plugin_dirs.to_vec();
        command.config = worker.config.clone();
        Ok(command)
    };
    Ok(match spec {
        LoadDriverSpec::Local => (
            Box::new(
                LocalDriver::transport(worker_command(worker.transport)?)
                    .allow_remote(allow_remote),
            ),
            format!(
                "kmidi load workers through {} on this machine",
                worker.transport
            ),
        ),
        LoadDriverSpec::LocalTransport(t) => (
            Box::new(LocalDriver::transport(worker_command(t)?).allow_remote(allow_remote)),
            format!("kmidi load workers through {t} on this machine"),
        ),
        LoadDriverSpec::LocalJava => {
            let kafka_sh = kafka_sh()?;
            let version = std::env::var("KMIDI_LOAD_KAFKA_VERSION")
                .unwrap_or_else(|_| JAVA_TOOLS_VERSION.to_string());
            let what = format!(
                "Kafka {version}'s ProducerPerformance/ConsumerPerformance ({}) on this machine",
                kafka_sh.display()
            );
            (
                Box::new(LocalDriver::java(kafka_sh, &version).allow_remote(allow_remote)),
                what,
            )
        }
        LoadDriverSpec::Trogdor { url, agents } => {
            let driver = TrogdorDriver::new(url, agents)
                .with_context(|| format!("the Trogdor coordinator at {url}"))?
                .with_run_id(run_id)
                .allow_remote_cluster(allow_remote);
            driver
                .check()
                .with_context(|| format!("the Trogdor coordinator at {url}"))?;
            let what = format!(
                "Trogdor tasks on {url} (agents {}), stopped and destroyed at exit",
                agents.join(", ")
            );
            (Box::new(driver), what)
        }
    })
}

/// The project's script, for `local=java`.
fn kafka_sh() -> Result<PathBuf> {
    crate::kafka_sh::find(
        "--load-driver local=java runs Kafka's tools",
        "set KMIDI_KAFKA_SH to that script",
    )
}
