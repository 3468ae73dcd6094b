//! `kmidi topic create`: the notes topic, through the transport's admin API.

use anyhow::Result;
use kmidi_transport::TopicSpec;

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
