//! The only crate that names kmidi's built-in transports. A new built-in client library
//! goes here, behind a cargo feature of its own (as vector gates its components), so the
//! engine and the binary never compile a client library they do not use; everything
//! past [`resolve`] sees only `dyn Transport`.
//!
//! - [`resolve`]: a `--transport` name to a transport (built-in, plugin path or name).
//! - [`embedded`]: librdkafka's in-process mock cluster, the embedded default of
//!   `kmidi demo` and `kmidi compare` (a test double, not Apache Kafka).

pub mod embedded;
mod resolve;

pub use resolve::{all, built_in, fallback_admin, resolve, ResolveError, BUILT_IN};
