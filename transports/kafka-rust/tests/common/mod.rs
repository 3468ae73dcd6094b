//! Shared harness: what the kafka-rust transport owes the workspace's transport
//! round-trip suite (`kmidi_test_support::scenarios`).

use kmidi_test_support::scenarios::Expect;

/// kafka-rust has no admin API to create topics with (Kafka's own tool does), and
/// stores committed offsets under the group name, though the broker assigns nothing.
pub const EXPECT: Expect = Expect {
    creates_topics: false,
    topic_configs: false,
    commits_offsets: true,
};
