//! `kmidi transports`: the client libraries kmidi can use (built in and discovered
//! plugins) with their versions and capabilities; `--check PATH` runs the conformance
//! pass on one plugin (`check`).

mod check;

use anyhow::Result;
use kmidi_registry as registry;
use kmidi_transport::{discover, load_plugin, Capabilities, TransportInfo};

use crate::cli::TransportsArgs;

pub fn run(args: TransportsArgs) -> Result<i32> {
    if let Some(path) = &args.check {
        return check::run(path, &args);
    }
    // Rows first, so the CAPABILITIES column fits its widest entry; a plugin's warnings
    // follow its row, and a broken plugin is a warning line, not a failed listing.
    let mut rows: Vec<(Option<TransportInfo>, String, Vec<String>)> = registry::all()
        .iter()
        .map(|t| (Some(t.info()), "(built in)".to_string(), Vec::new()))
        .collect();
    for (path, info) in discover(&args.plugins.plugin_dirs) {
        match info {
            Ok(info) => {
                let mut warnings = Vec::new();
                // Loading again is cheap (never unloaded); it says what the table lacks
                // before a user tries to play and is refused.
                let missing = load_plugin(&path).map(|p| p.missing_required());
                if let Ok(missing) = missing.as_deref() {
                    if !missing.is_empty() {
                        warnings.push(format!(
                            "warning: {}: required entries are NULL: {} (it cannot play or \
                             listen; `kmidi transports --check {}` says more)",
                            path.display(),
                            missing.join(", "),
                            path.display()
                        ));
                    }
                }
                rows.push((Some(info), path.display().to_string(), warnings));
            }
            Err(err) => rows.push((None, String::new(), vec![format!("warning: {err}")])),
        }
    }
    let widest = |f: &dyn Fn(&TransportInfo) -> usize, title: &str| {
        rows.iter()
            .filter_map(|(info, _, _)| info.as_ref())
            .map(f)
            .max()
            .unwrap_or(0)
            .max(title.len())
    };
    let width = widest(&|i| capabilities(i.capabilities).len(), "CAPABILITIES");
    let lib = widest(&|i| i.library.chars().count(), "LIBRARY");
    println!(
        "{:<10} {:<lib$} {:<10} {:<width$} PATH",
        "NAME", "LIBRARY", "VERSION", "CAPABILITIES"
    );
    for (info, path, warnings) in rows {
        if let Some(info) = info {
            println!(
                "{:<10} {:<lib$} {:<10} {:<width$} {path}",
                info.name,
                info.library,
                info.library_version,
                capabilities(info.capabilities)
            );
        }
        for warning in warnings {
            eprintln!("{warning}");
        }
    }
    Ok(0)
}

fn capabilities(c: Capabilities) -> String {
    let caps: Vec<&str> = [
        (c.consumer_groups, "groups"),
        (c.timestamps, "timestamps"),
        (c.headers, "headers"),
        (c.tls, "tls"),
        (c.sasl, "sasl"),
        (c.idempotence, "idempotence"),
        (c.consumer_protocol, "KIP-848 consumer protocol"),
        (c.share_groups, "share groups (KIP-932)"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if caps.is_empty() {
        "-".to_string()
    } else {
        caps.join(",")
    }
}
