//! Resolves `--transport` to a client library. The rest of the CLI only ever sees
//! `dyn Transport`.

use anyhow::{bail, Result};
use kmidi_rdkafka::RdKafkaTransport;
use kmidi_transport::Transport;

/// The names users can pass to `--transport` today.
pub const BUILT_IN: &[&str] = &["rdkafka"];

pub fn resolve(name: &str) -> Result<Box<dyn Transport>> {
    match name {
        "rdkafka" => Ok(Box::new(RdKafkaTransport)),
        other => bail!(
            "unknown transport {other:?}; built-in transports: {}\n  \
             (`kmidi transports` lists them with their versions)",
            BUILT_IN.join(", ")
        ),
    }
}

/// All transports this build can offer, for `kmidi transports`.
pub fn all() -> Vec<Box<dyn Transport>> {
    BUILT_IN.iter().filter_map(|n| resolve(n).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_transport_names_the_built_ins() {
        let err = resolve("nope").err().unwrap().to_string();
        assert!(err.contains("rdkafka"), "{err}");
    }

    #[test]
    fn every_built_in_resolves_and_reports_its_own_name() {
        for name in BUILT_IN {
            assert_eq!(resolve(name).unwrap().info().name, *name);
        }
    }
}
