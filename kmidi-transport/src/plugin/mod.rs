//! Transport plugins: shared libraries (`.so`) that provide a [`crate::Transport`]
//! through the versioned C ABI in `include/kmidi_transport.h`.
//!
//! - [`abi`]: the `#[repr(C)]` mirror of the header.
//! - [`load_plugin`] / [`discover`] (host side): open a plugin, validate its table and
//!   wrap it as a [`PluginTransport`].
//! - [`export`] and [`export_transport!`](crate::export_transport) (plugin side): turn
//!   a Rust `Transport + Default` into a plugin in one line.
//!
//! All of kmidi-transport's `unsafe` code lives in this module.

pub mod abi;
mod admin;
pub mod export;
mod export_handles;
mod ffi;
mod handles;
mod host;
mod loader;
mod watchdog;

pub use host::{Deadlines, PluginTransport};
pub use loader::{discover, load_plugin, plugin_dirs, probe, PluginError};
