//! `kmidi topic create`: the notes topic, through the transport's admin API; with
//! `--per-broker`, a probe topic whose partitions are led by every broker (as kminion
//! spreads its probe partitions), so each broker can be heard apart.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use kmidi_transport::{
    spread_assignment, Admin, ClientConfig, Leadership, TopicSpec, Transport, TransportError,
};

use crate::cli::TopicCreateArgs;
use crate::connect;

pub fn create(args: TopicCreateArgs) -> Result<i32> {
    let transport = connect::transport(&args.kafka.transport)?;
    let config = connect::kafka_config(&args.kafka)?;
    let timeout = args.kafka.connect_timeout();
    let configs = vec![("retention.ms".to_string(), args.retention_ms.to_string())];
    if let Some(per_broker) = args.per_broker {
        let probe = Probe {
            topic: args.kafka.topic(),
            per_broker,
            replication_factor: args.replication_factor,
            configs,
        };
        return create_per_broker(transport.as_ref(), &config, &probe, timeout);
    }
    let spec = TopicSpec {
        name: args.kafka.topic().to_string(),
        partitions: args.partitions.partitions.unwrap_or(1),
        replication_factor: args.replication_factor.unwrap_or(1),
        configs,
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

/// What `--per-broker` asks for.
struct Probe<'a> {
    topic: &'a str,
    per_broker: i32,
    replication_factor: Option<i32>,
    configs: Vec<(String, String)>,
}

/// Reads the brokers, creates `per_broker` partitions preferring each (an explicit
/// replica assignment where the transport can, else the cluster's own placement,
/// which also goes round the brokers), then checks from metadata who leads what.
fn create_per_broker(
    transport: &dyn Transport,
    config: &ClientConfig,
    probe: &Probe<'_>,
    timeout: Duration,
) -> Result<i32> {
    let bootstrap = config.bootstrap();
    let redacted = |err: TransportError| anyhow::anyhow!(config.redact(&err.to_string()));
    let admin = transport.admin(config).map_err(redacted)?;
    let before = admin
        .partition_leaders(probe.topic, timeout)
        .map_err(redacted)?;
    if !before.known || before.brokers.is_empty() {
        bail!(
            "the {} transport cannot tell the cluster's brokers, which --per-broker needs: \
             create the probe topic with --transport rdkafka (every transport can play to it)",
            transport.info().name
        );
    }
    if before.topic_exists() {
        bail!(
            "topic {} already exists on {bootstrap}; delete it first (kafka-topics.sh \
             --bootstrap-server {bootstrap} --delete --topic {}) or pick another -t",
            probe.topic,
            probe.topic
        );
    }
    let brokers = before.brokers;
    let count = i32::try_from(brokers.len()).unwrap_or(i32::MAX);
    let replication = probe.replication_factor.unwrap_or(count.min(3));
    if replication > count {
        bail!(
            "replication factor {replication} needs {replication} brokers; the cluster at \
             {bootstrap} lists {count} ({})",
            list(&brokers)
        );
    }
    let assignment = spread_assignment(&brokers, probe.per_broker, replication);
    let spec = TopicSpec {
        name: probe.topic.to_string(),
        partitions: i32::try_from(assignment.len()).unwrap_or(i32::MAX),
        replication_factor: replication,
        configs: probe.configs.clone(),
    };
    let placed = match admin.create_topic_assigned(&spec, &assignment, timeout) {
        Ok(()) => "replicas assigned",
        Err(TransportError::Unsupported { .. }) => {
            admin.create_topic(&spec, timeout).map_err(redacted)?;
            "replicas placed by the cluster"
        }
        Err(err) => return Err(redacted(err)),
    };
    println!(
        "created topic {} on {bootstrap}: {} partition(s), {} per broker over {count} \
         broker(s), replication factor {replication}, {placed}",
        spec.name, spec.partitions, probe.per_broker
    );
    let leadership = wait_for_leaders(admin.as_ref(), &spec, timeout);
    for &broker in &brokers {
        let led = leadership.led_by(broker);
        if !led.is_empty() {
            println!("  broker {broker} leads partition(s) {}", list(&led));
        }
    }
    let idle: Vec<i32> = brokers
        .iter()
        .copied()
        .filter(|&b| leadership.led_by(b).is_empty())
        .collect();
    if !idle.is_empty() {
        eprintln!(
            "warning: broker(s) {} lead no partition of {} yet, so their notes cannot be \
             heard apart; once every broker is in sync, run kafka-leader-election.sh \
             --bootstrap-server {bootstrap} --election-type PREFERRED --all-topic-partitions",
            list(&idle),
            spec.name
        );
    }
    Ok(0)
}

/// The first reading in which every partition of `spec` has a leader (the controller
/// answers CreateTopics before the brokers' metadata shows them), or the last one
/// read within `timeout`.
fn wait_for_leaders(admin: &dyn Admin, spec: &TopicSpec, timeout: Duration) -> Leadership {
    let started = Instant::now();
    let mut last = Leadership::default();
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        if let Ok(reading) = admin.partition_leaders(&spec.name, left) {
            let complete = reading.partitions.len() == spec.partitions as usize
                && reading.partitions.iter().all(|p| p.leader.is_some());
            last = reading;
            if complete {
                return last;
            }
        }
        if started.elapsed() >= timeout {
            eprintln!(
                "warning: after {} s the cluster's metadata does not show a leader for \
                 every partition of {} yet",
                timeout.as_secs(),
                spec.name
            );
            return last;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn list(numbers: &[i32]) -> String {
    let shown: Vec<String> = numbers.iter().map(i32::to_string).collect();
    shown.join(", ")
}
