//! Which table entries the host needs and what it does without each: the table may
//! leave any function pointer NULL (the loader accepts that), but a plugin without a
//! required entry cannot play or listen, and `kmidi transports` says so up front.

use crate::plugin::abi::kmidi_transport_table;

/// One entry of the table as the host sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: &'static str,
    pub present: bool,
    pub required: bool,
    /// What the host does when it is NULL.
    pub without: &'static str,
}

/// The table's entries, in table order (an entry past an older plugin's struct_size
/// reads as NULL, so it is listed as not present).
pub(crate) fn entries(t: &kmidi_transport_table) -> Vec<Entry> {
    let e = |name, present: bool, required, without| Entry {
        name,
        present,
        required,
        without,
    };
    vec![
        e(
            "producer_new",
            t.producer_new.is_some(),
            true,
            "nothing can be played",
        ),
        e(
            "produce",
            t.produce.is_some(),
            true,
            "nothing can be played",
        ),
        e(
            "flush",
            t.flush.is_some(),
            false,
            "the player's final flush returns at once, without waiting for the last notes",
        ),
        e(
            "producer_stats",
            t.producer_stats.is_some(),
            false,
            "the player's delivery counts are unknown",
        ),
        e(
            "producer_take_failure",
            t.producer_take_failure.is_some(),
            false,
            "a note the cluster refused cannot be reported; it shows only as a gap",
        ),
        e(
            "producer_last_error",
            t.producer_last_error.is_some(),
            false,
            "producer errors carry no detail",
        ),
        e(
            "producer_free",
            t.producer_free.is_some(),
            true,
            "producers cannot be released",
        ),
        e(
            "consumer_new",
            t.consumer_new.is_some(),
            true,
            "nothing can be heard",
        ),
        e("poll", t.poll.is_some(), true, "nothing can be heard"),
        e(
            "commit",
            t.commit.is_some(),
            false,
            "no offsets are committed: an instrument restarted in the same group starts \
             from --from",
        ),
        e(
            "consumer_last_error",
            t.consumer_last_error.is_some(),
            false,
            "consumer errors carry no detail",
        ),
        e(
            "consumer_free",
            t.consumer_free.is_some(),
            true,
            "consumers cannot be released",
        ),
        e(
            "topic_partitions",
            t.topic_partitions.is_some(),
            true,
            "`kmidi player` and `instrument` cannot check the topic and refuse to start",
        ),
        e(
            "create_topic",
            t.create_topic.is_some(),
            false,
            "`kmidi topic create` refuses; `kmidi compare` creates its topics with librdkafka",
        ),
        e(
            "consumer_assignment",
            t.consumer_assignment.is_some(),
            false,
            "the assignment is not seen: `demo` and `compare` do not wait for one, and \
             `compare --churn` reports no \"stable again\" time",
        ),
        e(
            "producer_settings",
            t.producer_settings.is_some(),
            false,
            "the producer's effective settings are \"not reported\"",
        ),
        e(
            "consumer_settings",
            t.consumer_settings.is_some(),
            false,
            "the consumer's effective settings are \"not reported\"",
        ),
        e(
            "partition_leaders",
            t.partition_leaders.is_some(),
            false,
            "partition leaders are unknown: `kmidi leaders` cannot tell which broker \
             leads what, nor see a failover",
        ),
    ]
}
