//! Where a kafka-rust consumer starts reading each partition: the group's committed
//! offset when there is one, else the reset policy (`--from`, or `auto.offset.reset`).

use std::collections::HashMap;

use kafka::client::{FetchOffset, KafkaClient};
use kmidi_transport::OffsetReset;

/// A topic and partition.
type Tp = (String, i32);

/// Where each partition starts: the group's committed offset, else the reset policy.
pub(crate) fn start_positions(
    client: &mut KafkaClient,
    topics: &[String],
    group: &str,
    reset: OffsetReset,
) -> Result<HashMap<Tp, i64>, kafka::Error> {
    let fallback = match reset {
        OffsetReset::Earliest => FetchOffset::Earliest,
        OffsetReset::Latest => FetchOffset::Latest,
    };
    let mut positions = HashMap::new();
    for (topic, offsets) in client.fetch_offsets(topics, fallback)? {
        for po in offsets {
            positions.insert((topic.clone(), po.partition), po.offset);
        }
    }
    if !group.is_empty() {
        for topic in topics {
            for po in client.fetch_group_topic_offset(group, topic)? {
                if po.offset >= 0 {
                    positions.insert((topic.clone(), po.partition), po.offset);
                }
            }
        }
    }
    Ok(positions)
}
