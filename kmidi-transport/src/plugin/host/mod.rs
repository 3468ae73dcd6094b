//! The host side of the plugin ABI: open a `.so`, validate its table, and wrap it as a
//! [`PluginTransport`] whose producers, consumers and admin calls go through the table.
//!
//! - `loader`: `dlopen`, the table's checks, discovery in plugin directories.
//! - `transport`: [`PluginTransport`], the constructors and their deadlines.
//! - `handles`: the producer handle (the hot path: produce) and the health rule both
//!   handles share.
//! - `consumer`: the consumer handle (the hot path: poll).
//! - `queries`: the optional assignment and settings entries, for both handles.
//! - `admin`: topic creation and lookup.
//! - `leaders`: the buffers of the optional `partition_leaders` entry, and their checks.
//! - `entries`: which table entries the host needs, and what it does without each.
//! - `conformance`: `kmidi transports --check`, a pass/fail pass over one plugin.
//! - `call`: what every call shares (status codes to errors, timeouts).
//! - `watchdog`: bounding calls that a plugin might never return from.

mod admin;
mod call;
mod conformance;
mod consumer;
mod entries;
mod handles;
mod leaders;
mod loader;
mod queries;
mod transport;
mod watchdog;

use std::path::Path;
use std::sync::Arc;

pub use conformance::{check, CheckSetup, Outcome, Point};
pub use entries::Entry;
pub use loader::{discover, plugin_dirs, probe, PluginError};
pub use transport::{Deadlines, PluginTransport};

/// Loads the plugin at `path` and checks its table.
pub fn load_plugin(path: &Path) -> Result<PluginTransport, PluginError> {
    Ok(PluginTransport::new(Arc::new(loader::open(path)?)))
}
