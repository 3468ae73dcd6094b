//! Shared harness: what the rskafka transport owes the workspace's transport
//! round-trip suite (`kmidi_test_support::scenarios`), the tests it runs beyond it, and
//! where cargo put this crate's plugin.
#![allow(dead_code)]

use std::path::PathBuf;

use kmidi_rskafka::RsKafkaTransport;
use kmidi_test_support::scenarios::{self, Expect};
use kmidi_test_support::Broker;

/// rskafka creates topics but sets no topic configs, and has no consumer groups:
/// `commit` stores nothing.
pub const EXPECT: Expect = Expect {
    creates_topics: true,
    topic_configs: false,
    commits_offsets: false,
};

/// The round trip again, through the C ABI: same transport, the other way in.
pub fn the_loaded_plugin_round_trips_too(broker: &Broker) {
    let plugin = kmidi_transport::load_plugin(&plugin_path()).expect("plugin loads");
    scenarios::notes_round_trip_in_order_over_all_partitions(&plugin, broker, &EXPECT);
}

/// One record's produce -> poll time, beside the built-in librdkafka transport's on
/// the same broker.
pub fn one_record_latency_is_measured_against_rdkafka(broker: &Broker) {
    scenarios::one_record_latency(&RsKafkaTransport, broker);
    scenarios::one_record_latency(&kmidi_rdkafka::RdKafkaTransport, broker);
}

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
