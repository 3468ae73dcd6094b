//! Records the rskafka version this crate was built against (from the workspace's
//! Cargo.lock), so `kmidi transports` shows the real one: cargo does not expose a
//! dependency's version to the dependent crate.

use std::path::Path;

fn main() {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let mut lines = text.lines();
    let mut version = "0.6".to_string();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"rskafka\"" {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
            {
                version = v.trim_matches('"').to_string();
            }
            break;
        }
    }
    println!("cargo:rustc-env=KMIDI_RSKAFKA_VERSION={version}");
}
