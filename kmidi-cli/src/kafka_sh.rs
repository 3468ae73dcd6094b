//! Where kmidi finds the project's `scripts/kafka.sh`, which both the local load driver
//! (`local=java`, Kafka's own tools) and the script fault driver act through.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

/// The script's place in kmidi's checkout.
pub const KAFKA_SH: &str = "scripts/kafka.sh";

/// `KMIDI_KAFKA_SH`, or [`KAFKA_SH`] in this directory or one above it. `why` says what
/// needs it and `fix` how else to name it, for the error when neither is there.
pub fn find(why: &str, fix: &str) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("KMIDI_KAFKA_SH") {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!("KMIDI_KAFKA_SH={} is not a file", p.display());
        }
        return Ok(p);
    }
    let cwd = std::env::current_dir().context("reading the current directory")?;
    cwd.ancestors()
        .map(|d| d.join(KAFKA_SH))
        .find(|p| p.is_file())
        .with_context(|| {
            format!(
                "{why} through kmidi's {KAFKA_SH}, found neither in {} nor above it: run \
                 from kmidi's checkout, or {fix}",
                cwd.display()
            )
        })
}
