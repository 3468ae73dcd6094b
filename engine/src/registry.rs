//! Resolves `--transport` to a client library. The rest of the CLI only ever sees
//! `dyn Transport`.
//!
//! Order: a built-in name; else a path (anything with a `/` or ending in `.so`) loaded
//! as a plugin; else a plugin found by name in the `--plugin-dir` directories and
//! `KMIDI_PLUGIN_PATH` (file `libkmidi_<name>.so`, `kmidi_<name>.so`, `<name>.so`, or
//! any plugin whose table says that name).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use kmidi_kafka_rust::KafkaRustTransport;
use kmidi_rdkafka::RdKafkaTransport;
use kmidi_transport::plugin::{discover, load_plugin, plugin_dirs};
use kmidi_transport::Transport;

/// The names users can pass to `--transport` without a plugin.
pub const BUILT_IN: &[&str] = &["rdkafka", "kafka-rust"];

/// Resolves `name`, searching `dirs` (then `KMIDI_PLUGIN_PATH`) for plugins.
pub fn resolve(name: &str, dirs: &[PathBuf]) -> Result<Box<dyn Transport>> {
    match name {
        "rdkafka" => Ok(Box::new(RdKafkaTransport)),
        "kafka-rust" => Ok(Box::new(KafkaRustTransport)),
        other => plugin(other, dirs),
    }
}

fn looks_like_path(name: &str) -> bool {
    name.contains('/') || name.ends_with(".so")
}

fn plugin(name: &str, dirs: &[PathBuf]) -> Result<Box<dyn Transport>> {
    if looks_like_path(name) {
        let t = load_plugin(Path::new(name))
            .with_context(|| format!("--transport {name}: cannot use this plugin"))?;
        return Ok(Box::new(t));
    }
    let search = plugin_dirs(dirs);
    let files = [
        format!("libkmidi_{name}.so"),
        format!("kmidi_{name}.so"),
        format!("{name}.so"),
    ];
    for dir in &search {
        for file in &files {
            let path = dir.join(file);
            if path.is_file() {
                let t = load_plugin(&path)
                    .with_context(|| format!("--transport {name}: cannot use this plugin"))?;
                return Ok(Box::new(t));
            }
        }
    }
    let found = discover(dirs);
    if let Some((path, _)) = found
        .iter()
        .find(|(_, info)| info.as_ref().is_ok_and(|i| i.name == name))
    {
        return Ok(Box::new(load_plugin(path)?));
    }
    let plugins: Vec<String> = found
        .iter()
        .filter_map(|(p, info)| {
            info.as_ref()
                .ok()
                .map(|i| format!("{} ({})", i.name, p.display()))
        })
        .collect();
    let where_ = if search.is_empty() {
        "no plugin directories given (--plugin-dir DIR or KMIDI_PLUGIN_PATH)".to_string()
    } else {
        let shown: Vec<String> = search.iter().map(|d| d.display().to_string()).collect();
        format!("searched {}", shown.join(", "))
    };
    bail!(
        "unknown transport {name:?}; built-in transports: {}; plugins: {}\n  \
         ({where_}; a path to a .so also works; `kmidi transports` lists them with their versions)",
        BUILT_IN.join(", "),
        if plugins.is_empty() {
            "none found".to_string()
        } else {
            plugins.join(", ")
        }
    )
}

/// All built-in transports, for `kmidi transports`.
pub fn all() -> Vec<Box<dyn Transport>> {
    BUILT_IN
        .iter()
        .filter_map(|n| resolve(n, &[]).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_transport_names_the_built_ins() {
        let err = resolve("nope", &[]).err().unwrap().to_string();
        assert!(err.contains("rdkafka"), "{err}");
    }

    #[test]
    fn every_built_in_resolves_and_reports_its_own_name() {
        for name in BUILT_IN {
            assert_eq!(resolve(name, &[]).unwrap().info().name, *name);
        }
    }

    #[test]
    fn a_path_is_loaded_as_a_plugin_with_a_clear_error() {
        let err = format!("{:#}", resolve("/nonexistent/x.so", &[]).err().unwrap());
        assert!(
            err.contains("/nonexistent/x.so") && err.contains("no such file"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_name_lists_the_directories_searched() {
        let dir = std::env::temp_dir();
        let err = resolve("nope", std::slice::from_ref(&dir))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(&dir.display().to_string()), "{err}");
    }
}
