//! Shared harness: real Apache Kafka brokers from `kmidi-test-support` (one per test
//! binary), and where cargo put this crate's plugin.
#![allow(dead_code)]

pub mod scenarios;
pub mod suite;

use std::path::PathBuf;

pub use kmidi_test_support::Broker;

/// libkmidi_rskafka.so as built with this test's library.
pub fn plugin_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe path");
    // target/<profile>/deps/plugin-HASH -> target/<profile>/
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in target/<profile>/deps");
    let name = format!(
        "{}kmidi_rskafka{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    // Cargo refreshes deps/ for a test build but uplifts to target/<profile>/ only on
    // `cargo build`, so the newer of the two is the one built from this source.
    [
        profile_dir.join(&name),
        profile_dir.join("deps").join(&name),
    ]
    .into_iter()
    .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
    .max()
    .map(|(_, p)| p)
    .unwrap_or_else(|| panic!("{name} was not built next to {}", exe.display()))
}
