//! The small commands: `topic create`, `ports` and `transports`.

use anyhow::Result;
use kmidi_midi::sink::list_output_ports;
use kmidi_registry as registry;
use kmidi_transport::{discover, load_plugin, Capabilities, TopicSpec, TransportInfo};

use crate::cli::{TopicCreateArgs, TransportsArgs};
use crate::connect;

pub fn topic_create(args: TopicCreateArgs) -> Result<i32> {
    let transport = connect::transport(&args.kafka.transport)?;
    let config = connect::kafka_config(&args.kafka)?;
    let timeout = args.kafka.connect_timeout;
    let spec = TopicSpec {
        name: args.kafka.topic.clone(),
        partitions: args.partitions,
        replication_factor: args.replication_factor,
        configs: vec![("retention.ms".to_string(), args.retention_ms.to_string())],
    };
    connect::create_topic(transport.as_ref(), &config, &spec, timeout)?;
    println!(
        "created topic {} on {}: {} partition(s), replication factor {}, retention.ms={}",
        spec.name,
        config.bootstrap(),
        spec.partitions,
        spec.replication_factor,
        args.retention_ms
    );
    Ok(0)
}

pub fn ports() -> Result<i32> {
    let ports = list_output_ports()?;
    if ports.is_empty() {
        println!("no MIDI output ports; start a synthesizer (e.g. `fluidsynth -s -i FONT.sf2`)");
    }
    for p in ports {
        println!("{p}");
    }
    Ok(0)
}

pub fn transports(args: TransportsArgs) -> Result<i32> {
    if let Some(path) = &args.check {
        return crate::check::run(path, &args);
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
