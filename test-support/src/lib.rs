//! Real Apache Kafka for the workspace's integration tests, and the only way tests
//! reach the project's `scripts/kafka.sh` (never a mock): single brokers, shared per
//! test binary and version or of a test's own ([`Broker`]), multi-node clusters
//! ([`Cluster`]), Kafka's own command-line tools ([`run_tool`]), and the faults a
//! broker can be put through (halt, kill, resume, restart), the Kafka versions under
//! test ([`kafka_version`]), and the transport round-trip scenarios every transport's
//! tests run ([`scenarios`], most through [`broker_suite!`]). Everything started here is
//! stopped by a watchdog process once the test process is gone: statics are never
//! dropped, so nothing in-process could stop them.
//!
//! These are test helpers: a broker that does not start or a tool that fails panics
//! with what the script or tool said.

mod broker;
pub mod browser;
mod cluster;
pub mod scenarios;
mod script;
mod suite;
mod tool;
mod trogdor;
mod versions;

use std::path::{Path, PathBuf};

pub use broker::Broker;
pub use cluster::Cluster;
pub use script::{
    free_port, kafka_sh, kafka_sh_when_this_process_exits, stop_when_this_process_exits,
};
pub use tool::{run_kafka_sh_bounded, run_tool, run_tool_with_input, wait_bounded, ToolError};
pub use trogdor::Trogdor;
pub use versions::{kafka_version, DEFAULT_KAFKA_VERSIONS};

/// The workspace root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support lives inside the workspace")
        .to_path_buf()
}
