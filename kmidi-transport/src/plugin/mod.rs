//! Transport plugins: shared libraries (`.so`) that provide a [`crate::Transport`]
//! through the versioned C ABI in `include/kmidi_transport.h`.
//!
//! - [`abi`]: the `#[repr(C)]` mirror of the header, shared by both sides.
//! - `ffi`: C strings, key/value lists and error buffers, shared by both sides.
//! - [`host`] (kmidi's side): [`load_plugin`] / [`discover`] open a plugin, validate
//!   its table and wrap it as a [`PluginTransport`].
//! - [`export`] (the plugin author's side): [`export_transport!`](crate::export_transport)
//!   turns a Rust `Transport + Default` into a plugin in one line.
//!
//! All of kmidi's `unsafe` code lives in this module.

pub mod abi;
pub mod export;
mod ffi;
pub mod host;

pub use host::{
    discover, load_plugin, plugin_dirs, probe, Deadlines, PluginError, PluginTransport,
};
