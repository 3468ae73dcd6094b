//! Shared harness: what the confluent transport owes the workspace's transport
//! round-trip suite (`kmidi_test_support::scenarios`), and the subscriptions its own
//! tests use.
#![allow(dead_code)]

use kmidi_test_support::scenarios::Expect;
use kmidi_transport::{OffsetReset, Subscription, TransportError};

/// confluent-kafka's admin client creates topics with their configs, and its consumer
/// groups store committed offsets.
pub const EXPECT: Expect = Expect {
    creates_topics: true,
    topic_configs: true,
    commits_offsets: true,
};

pub fn sub(topic: &str, group: &str) -> Subscription {
    Subscription {
        topics: vec![topic.to_string()],
        group: group.to_string(),
        offset_reset: OffsetReset::Earliest,
    }
}

pub fn err_text<T>(r: Result<T, TransportError>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}
