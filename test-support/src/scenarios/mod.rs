//! The transport round-trip scenarios, written once for every transport: each drives a
//! [`Transport`] (built in, linked as an rlib or loaded as a plugin) only through the
//! trait, as the CLI does, against a real broker or none. Where transports differ on
//! purpose (kafka-rust creates no topics; rskafka stores no offsets) the caller says
//! what its transport owes in an [`Expect`]; what the transport reports about itself
//! ([`kmidi_transport::Capabilities`]) is checked against what it does.
//!
//! Each transport's tests call them: the broker ones through [`crate::broker_suite!`],
//! the ones needing no broker or a broker of their own directly.

mod admin;
mod faults;
mod offline;
mod round_trip;

use std::time::{Duration, Instant};

use kmidi_transport::{
    Consumer, OffsetReset, Record, Subscription, TopicSpec, Transport, TransportError,
};

use crate::Broker;

pub use admin::{admin_creates_and_finds_topics, missing_topics_are_reported};
pub use faults::producer_and_consumer_survive_a_broker_restart;
pub use offline::{
    a_silent_listener_is_reported_within_the_timeout,
    unreachable_broker_is_reported_within_the_timeout,
};
pub use round_trip::{
    json_note_payloads_round_trip_unchanged, large_records_sent_back_to_back_are_all_delivered,
    notes_round_trip_in_order_over_all_partitions, one_record_latency,
    poll_honours_its_timeout_on_an_idle_topic,
};

/// What a transport owes the scenarios where transports differ on purpose.
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    /// Its admin API creates topics; else `create_topic` is `Unsupported` and the
    /// scenarios create their topics with Kafka's own tool.
    pub creates_topics: bool,
    /// Topic configs (`retention.ms`, ...) are honoured on create; else creating with
    /// one is `Unsupported`, naming it.
    pub topic_configs: bool,
    /// `commit` stores offsets under the group, so the group's next consumer starts
    /// after them; else `commit` succeeds and stores nothing.
    pub commits_offsets: bool,
}

/// The bound on every wait the scenarios do for a broker.
pub(crate) const T: Duration = Duration::from_secs(30);

/// Creates `topic` through the transport's admin API, or with Kafka's own tool where
/// the transport has none: setting up a scenario must not depend on what the scenario
/// does not test ([`admin_creates_and_finds_topics`] does).
pub(crate) fn create_topic(t: &dyn Transport, broker: &Broker, topic: &str, partitions: i32) {
    let spec = TopicSpec {
        name: topic.to_string(),
        partitions,
        replication_factor: 1,
        configs: Vec::new(),
    };
    match t
        .admin(&broker.config())
        .and_then(|a| a.create_topic(&spec, T))
    {
        Ok(()) => {}
        Err(TransportError::Unsupported { .. }) => {
            broker.create_topic_with_tool(topic, partitions.unsigned_abs())
        }
        Err(e) => panic!("creating {topic}: {e}"),
    }
}

/// A consumer of `topic` in `group` from `reset`.
pub(crate) fn subscribe(
    t: &dyn Transport,
    broker: &Broker,
    topic: &str,
    group: &str,
    reset: OffsetReset,
) -> Box<dyn Consumer> {
    let sub = Subscription {
        topics: vec![topic.to_string()],
        group: group.to_string(),
        offset_reset: reset,
    };
    t.consumer(&broker.config(), &sub).expect("consumer")
}

/// Polls until `want` records arrived or [`T`] passed; transient errors are waited
/// out, any other fails the test.
pub(crate) fn drain(c: &mut dyn Consumer, want: usize) -> Vec<Record> {
    let mut got = Vec::new();
    let deadline = Instant::now() + T;
    while got.len() < want && Instant::now() < deadline {
        match c.poll(Duration::from_millis(200)) {
            Ok(Some(r)) => got.push(r),
            Ok(None) => {}
            Err(e) if e.is_transient() => eprintln!("transient: {e}"),
            Err(e) => panic!("poll: {e}"),
        }
    }
    got
}

/// Polls until `n` records arrived or `limit` passed, any error only shown: for
/// clients that report errors while the broker is away and recover by themselves.
pub(crate) fn poll_through_errors(c: &mut dyn Consumer, n: usize, limit: Duration) -> Vec<Record> {
    let started = Instant::now();
    let mut got = Vec::new();
    while got.len() < n && started.elapsed() < limit {
        match c.poll(Duration::from_millis(200)) {
            Ok(Some(r)) => got.push(r),
            Ok(None) => {}
            Err(e) => eprintln!("poll: {e}"),
        }
    }
    got
}

/// Asserts every one of `partitions` partitions is assigned, where the consumer can
/// tell (through the plugin ABI a host may not carry the assignment: empty then).
pub(crate) fn assert_assigned_all(c: &dyn Consumer, partitions: usize) {
    let assigned = c.assignment();
    assert!(
        assigned.len() == partitions || (assigned.is_empty() && !c.reports_assignment()),
        "every partition is assigned: {assigned:?}"
    );
}
