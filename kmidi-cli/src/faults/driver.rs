//! `--fault-driver`: the broker driver a run uses, built from what the user chose and
//! checked against the scenario before anything plays.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use kmidi_lab::fault::script::ScriptCluster;
use kmidi_lab::fault::trogdor::TrogdorPause;
use kmidi_lab::fault::BrokerDriver;
use kmidi_lab::{FaultAction, FaultStep, Target};

use crate::cli::FaultDriverSpec;

pub type Driver = Arc<dyn BrokerDriver>;

/// The driver of `spec` for the cluster at `bootstrap`, refusing steps it cannot do.
pub fn build(
    spec: &FaultDriverSpec,
    bootstrap: &str,
    steps: &[&FaultStep],
    run_id: &str,
) -> Result<Driver> {
    let driver: Driver = match spec {
        FaultDriverSpec::Script(path) => {
            let kafka_sh = match path {
                Some(p) if p.is_file() => p.clone(),
                Some(p) => bail!("--fault-driver script={}: no such file", p.display()),
                None => kafka_sh()?,
            };
            let root = run_root(&kafka_sh)?;
            Arc::new(ScriptCluster::find(&kafka_sh, &root, bootstrap)?)
        }
        FaultDriverSpec::Trogdor {
            url,
            agents,
            process,
        } => {
            if let Some(s) = steps
                .iter()
                .find(|s| !matches!(s.action, FaultAction::Pause { .. }))
            {
                bail!(
                    "{s}: --fault-driver trogdor only pauses brokers (Trogdor's \
                     ProcessStopFaultSpec); kill and restart steps need --fault-driver \
                     script on a cluster scripts/kafka.sh started, or an exec step running \
                     your own command (--exec)"
                );
            }
            Arc::new(
                TrogdorPause::new(url, agents.clone(), process.as_deref(), run_id)
                    .with_context(|| format!("--fault-driver trogdor={url}"))?,
            )
        }
    };
    let known = driver.brokers();
    for s in steps {
        if let Some(Target::Broker(id)) = s.target() {
            if !known.contains(&id) {
                bail!(
                    "{s}: broker {id} is not one of the brokers {} acts on ({known:?})",
                    driver.describe()
                );
            }
        }
    }
    Ok(driver)
}

/// The project's script, for `--fault-driver script`.
fn kafka_sh() -> Result<PathBuf> {
    crate::kafka_sh::find(
        "--fault-driver script acts",
        "give its path (--fault-driver script=PATH/TO/kafka.sh)",
    )
}

/// Where the script keeps its nodes' run dirs: `${KMIDI_CACHE:-<repo>/.cache}/run`, as
/// the script itself decides (a relative KMIDI_CACHE is from the current directory).
fn run_root(kafka_sh: &Path) -> Result<PathBuf> {
    let cache = match std::env::var_os("KMIDI_CACHE") {
        Some(c) => {
            let c = PathBuf::from(c);
            if c.is_absolute() {
                c
            } else {
                std::env::current_dir()?.join(c)
            }
        }
        None => {
            let sh = kafka_sh
                .canonicalize()
                .with_context(|| format!("finding {}", kafka_sh.display()))?;
            sh.parent()
                .and_then(Path::parent)
                .map(|repo| repo.join(".cache"))
                .context("the script's checkout")?
        }
    };
    Ok(cache.join("run"))
}
