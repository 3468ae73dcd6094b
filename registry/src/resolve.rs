//! Resolves a transport name (`--transport`) to a client library: the built-ins linked
//! in, plugins by path or by name. Everything past this point only sees `dyn Transport`.
//!
//! Order: a built-in name; else a path (anything with a `/` or ending in `.so`) loaded
//! as a plugin; else a plugin found by name in the `--plugin-dir` directories and
//! `KMIDI_PLUGIN_PATH` (file `libkmidi_<name>.so`, `kmidi_<name>.so`, `<name>.so`, or
//! any plugin whose table says that name).

use std::path::{Path, PathBuf};

use kmidi_transport::plugin::{discover, load_plugin, plugin_dirs, PluginError};
use kmidi_transport::{Admin, ClientConfig, Transport, TransportError};

/// Why a name could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("--transport {name}: cannot use this plugin")]
    Plugin {
        name: String,
        #[source]
        source: PluginError,
    },
    #[error(
        "unknown transport {name:?}; built-in transports: {built_in}; plugins: {plugins}\n  \
         ({searched}; a path to a .so also works; `kmidi transports` lists them with their versions)"
    )]
    Unknown {
        name: String,
        built_in: String,
        plugins: String,
        searched: String,
    },
}

type Result<T> = std::result::Result<T, ResolveError>;

fn load(name: &str, path: &Path) -> Result<Box<dyn Transport>> {
    match load_plugin(path) {
        Ok(t) => Ok(Box::new(t)),
        Err(source) => Err(ResolveError::Plugin {
            name: name.to_string(),
            source,
        }),
    }
}

/// The names users can pass to `--transport` without a plugin, in this build.
pub const BUILT_IN: &[&str] = &[
    #[cfg(feature = "rdkafka")]
    "rdkafka",
    #[cfg(feature = "kafka-rust")]
    "kafka-rust",
    #[cfg(feature = "confluent")]
    "confluent",
];

/// The built-in transport of that name, if this build has it.
pub fn built_in(name: &str) -> Option<Box<dyn Transport>> {
    match name {
        #[cfg(feature = "rdkafka")]
        "rdkafka" => Some(Box::new(kmidi_rdkafka::RdKafkaTransport)),
        #[cfg(feature = "kafka-rust")]
        "kafka-rust" => Some(Box::new(kmidi_kafka_rust::KafkaRustTransport)),
        #[cfg(feature = "confluent")]
        "confluent" => Some(Box::new(kmidi_confluent::ConfluentTransport)),
        _ => None,
    }
}

/// Resolves `name`, searching `dirs` (then `KMIDI_PLUGIN_PATH`) for plugins.
pub fn resolve(name: &str, dirs: &[PathBuf]) -> Result<Box<dyn Transport>> {
    match built_in(name) {
        Some(t) => Ok(t),
        None => plugin(name, dirs),
    }
}

/// An admin client for a side whose own library has none (or cannot create topics):
/// librdkafka's, which speaks every admin API kmidi needs.
pub fn fallback_admin(
    config: &ClientConfig,
) -> std::result::Result<Box<dyn Admin>, TransportError> {
    match built_in("rdkafka") {
        Some(t) => t.admin(config),
        None => Err(TransportError::Unsupported {
            transport: "built-in".to_string(),
            what: "an admin client without the rdkafka feature (create the topic with \
                   kafka-topics.sh)"
                .to_string(),
        }),
    }
}

fn looks_like_path(name: &str) -> bool {
    name.contains('/') || name.ends_with(".so")
}

fn plugin(name: &str, dirs: &[PathBuf]) -> Result<Box<dyn Transport>> {
    if looks_like_path(name) {
        return load(name, Path::new(name));
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
                return load(name, &path);
            }
        }
    }
    let found = discover(dirs);
    if let Some((path, _)) = found
        .iter()
        .find(|(_, info)| info.as_ref().is_ok_and(|i| i.name == name))
    {
        return load(name, path);
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
    Err(ResolveError::Unknown {
        name: name.to_string(),
        built_in: BUILT_IN.join(", "),
        plugins: if plugins.is_empty() {
            "none found".to_string()
        } else {
            plugins.join(", ")
        },
        searched: where_,
    })
}

/// All built-in transports, for `kmidi transports`.
pub fn all() -> Vec<Box<dyn Transport>> {
    BUILT_IN.iter().filter_map(|n| built_in(n)).collect()
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
        assert!(
            !BUILT_IN.is_empty(),
            "the default features link both built-ins"
        );
        for name in BUILT_IN {
            assert_eq!(resolve(name, &[]).unwrap().info().name, *name);
        }
    }

    #[test]
    fn a_path_is_loaded_as_a_plugin_with_a_clear_error() {
        let err = resolve("/nonexistent/x.so", &[]).err().unwrap();
        let err = format!("{err}: {}", std::error::Error::source(&err).unwrap());
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
