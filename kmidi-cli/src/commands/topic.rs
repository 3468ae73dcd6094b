//! `kmidi topic create`: the notes topic, through the transport's admin API.

use std::time::{Duration, Instant};

use anyhow::Result;
use kmidi_transport::{ClientConfig, TopicSpec, Transport};

use crate::cli::TopicCreateArgs;
use crate::connect;

pub fn create(args: TopicCreateArgs) -> Result<i32> {
    let transport = connect::transport(&args.kafka.transport)?;
    let config = connect::kafka_config(&args.kafka)?;
    let timeout = args.kafka.connect_timeout();
    let spec = TopicSpec {
        name: args.kafka.topic().to_string(),
        partitions: args.partitions.partitions.unwrap_or(1),
        replication_factor: args.replication_factor,
        configs: vec![("retention.ms".to_string(), args.retention_ms.to_string())],
    };
    connect::create_topic(transport.as_ref(), &config, &spec, timeout)?;
    wait_until_visible(transport.as_ref(), &config, &spec.name, timeout);
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

/// The controller has the topic once CreateTopics returns, but a broker's metadata can
/// trail it by a moment: wait (bounded) until the topic is there, so a `kmidi player`
/// run right after `topic create` finds it. A topic that stays invisible is a warning:
/// the creation itself succeeded.
fn wait_until_visible(
    transport: &dyn Transport,
    config: &ClientConfig,
    topic: &str,
    bound: Duration,
) {
    let started = Instant::now();
    let admin = match transport.admin(config) {
        Ok(admin) => admin,
        Err(_) => return,
    };
    while started.elapsed() < bound {
        if let Ok(Some(_)) = admin.topic_partitions(topic, bound) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "warning: topic {topic} was created but is not in the cluster's metadata yet after \
         {} s; a player started now may not find it",
        bound.as_secs()
    );
}
