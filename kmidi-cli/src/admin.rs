//! The small commands: `topic create`, `ports` and `transports`.

use anyhow::Result;
use kmidi_midi::sink::list_output_ports;
use kmidi_transport::TopicSpec;

use crate::cli::TopicCreateArgs;
use crate::{connect, registry};

pub fn topic_create(args: TopicCreateArgs) -> Result<i32> {
    let transport = registry::resolve(&args.kafka.transport)?;
    let config = connect::client_config(&args.kafka.bootstrap, &args.kafka.props)?;
    let timeout = connect::timeout(&args.kafka)?;
    let spec = TopicSpec {
        name: args.kafka.topic.clone(),
        partitions: args.partitions,
        replication_factor: args.replication_factor,
        configs: vec![("retention.ms".to_string(), args.retention_ms.to_string())],
    };
    transport.admin(&config)?.create_topic(&spec, timeout)?;
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

pub fn transports() -> Result<i32> {
    println!(
        "{:<10} {:<28} {:<10} capabilities",
        "NAME", "LIBRARY", "VERSION"
    );
    for t in registry::all() {
        let info = t.info();
        let c = info.capabilities;
        let caps: Vec<&str> = [
            (c.consumer_groups, "groups"),
            (c.timestamps, "timestamps"),
            (c.headers, "headers"),
            (c.tls, "tls"),
            (c.sasl, "sasl"),
            (c.idempotence, "idempotence"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        println!(
            "{:<10} {:<28} {:<10} {}",
            info.name,
            info.library,
            info.library_version,
            caps.join(",")
        );
    }
    Ok(0)
}
