//! `kmidi-plugin-testkit`: a transport plugin for kmidi's own tests.
//!
//! In its default mode it is a real in-memory transport: one process-global map of
//! topics, so what a producer sends a consumer in the same process polls back, with no
//! Kafka. The client property `testkit.mode` makes it misbehave on purpose, to test the
//! host's handling of bad plugins:
//!
//! | `testkit.mode` | behaviour |
//! |---|---|
//! | `ok` (default) | in-memory topics |
//! | `fail` | every constructor and admin call fails with an error text |
//! | `panic-new` | every constructor and admin call panics |
//! | `panic` | handles are created, then every call on them panics |
//! | `transient` | consumers report a transient error on every poll |
//! | `poll-error` | consumers fail (not transiently) on every poll |
//! | `undelivered` | producers take every record, then report each as not delivered |
//! | `block` | every call sleeps `testkit.block_ms` (default 3000), ignoring its timeout |
//!
//! Whatever the mode, `testkit.fail_after=N` makes a producer's sends fail after its
//! first N (the player's warm-up record counts), `testkit.topics=any` makes every
//! topic exist (for a player or instrument in a process of its own), and
//! `testkit.leaders=one|many|unknown` chooses its partition leaders (`leaders.rs`).
//!
//! Topics exist once produced to or created; consumers ignore groups (each consumer
//! reads every partition of its topics). A consumer reports its assignment (partition 0
//! of each subscribed topic, its only one) unless `testkit.assignment=unreported`; both
//! clients report a couple of settings (what an in-memory log really does: no linger,
//! no fetch wait). `kmidi.group.type=share` is refused: there are no share groups. The table-level failures (bad magic, version,
//! size, missing symbol) are C files in kmidi-transport's tests: they are about the
//! table itself, which `export_transport!` always gets right.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kmidi_transport::{
    Admin, Capabilities, ClientConfig, Consumer, DeliveryFailure, GroupType, Leadership,
    OffsetReset, Producer, ProducerStats, Record, Subscription, TopicSpec, Transport,
    TransportError, TransportInfo,
};

mod leaders;
mod mode;
use leaders::Leaders;
use mode::Mode;

/// The testkit transport; behaviour is chosen per client by `testkit.mode`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TestkitTransport;

kmidi_transport::export_transport!(TestkitTransport);

/// The in-memory cluster: topic name -> records (one partition per topic).
struct Store {
    topics: Mutex<HashMap<String, Vec<Record>>>,
    arrived: Condvar,
}

fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| Store {
        topics: Mutex::new(HashMap::new()),
        arrived: Condvar::new(),
    })
}

fn topics() -> MutexGuard<'static, HashMap<String, Vec<Record>>> {
    // A panicking test thread must not make every later test fail.
    store().topics.lock().unwrap_or_else(|p| p.into_inner())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Transport for TestkitTransport {
    fn info(&self) -> TransportInfo {
        TransportInfo {
            name: "testkit".to_string(),
            library: "kmidi in-memory test transport".to_string(),
            library_version: env!("CARGO_PKG_VERSION").to_string(),
            capabilities: Capabilities {
                timestamps: true,
                ..Capabilities::default()
            },
        }
    }

    fn producer(&self, config: &ClientConfig) -> Result<Box<dyn Producer>, TransportError> {
        let mode = Mode::of(config)?;
        mode.on_new("producer_new")?;
        let fail_after = match config.get("testkit.fail_after") {
            None => None,
            Some(n) => Some(n.parse().map_err(|_| TransportError::Config {
                key: "testkit.fail_after".into(),
                reason: format!("{n:?} is not a number of records"),
            })?),
        };
        Ok(Box::new(MemProducer {
            mode,
            fail_after,
            failures: Vec::new(),
            stats: ProducerStats::default(),
        }))
    }

    fn consumer(
        &self,
        config: &ClientConfig,
        subscription: &Subscription,
    ) -> Result<Box<dyn Consumer>, TransportError> {
        let mode = Mode::of(config)?;
        mode.on_new("consumer_new")?;
        GroupType::require_consumer_group(config, "testkit")?;
        let reports_assignment = match config.get("testkit.assignment") {
            None | Some("reported") => true,
            Some("unreported") => false,
            Some(other) => {
                return Err(TransportError::Config {
                    key: "testkit.assignment".into(),
                    reason: format!("unknown value {other:?}; use reported|unreported"),
                })
            }
        };
        let map = topics();
        let positions = subscription
            .topics
            .iter()
            .map(|t| {
                let start = match subscription.offset_reset {
                    OffsetReset::Earliest => 0,
                    OffsetReset::Latest => map.get(t).map_or(0, Vec::len),
                };
                (t.clone(), start)
            })
            .collect();
        Ok(Box::new(MemConsumer {
            mode,
            positions,
            reports_assignment,
        }))
    }

    fn admin(&self, config: &ClientConfig) -> Result<Box<dyn Admin>, TransportError> {
        let mode = Mode::of(config)?;
        let any_topic = config.get("testkit.topics") == Some("any");
        let leaders = Leaders::of(config)?;
        Ok(Box::new(MemAdmin {
            mode,
            any_topic,
            leaders,
        }))
    }
}

struct MemProducer {
    mode: Mode,
    /// Sends after this many fail.
    fail_after: Option<u64>,
    failures: Vec<DeliveryFailure>,
    stats: ProducerStats,
}

impl Producer for MemProducer {
    fn send(&mut self, topic: &str, key: &[u8], value: &[u8]) -> Result<(), TransportError> {
        self.mode.on_call("produce");
        if self.fail_after.is_some_and(|n| self.stats.sent >= n) {
            return Err(TransportError::Client(format!(
                "testkit: produce failed on request after {} record(s) (testkit.fail_after)",
                self.stats.sent
            )));
        }
        if self.mode == Mode::Undelivered {
            self.stats.sent += 1;
            self.failures.push(DeliveryFailure {
                topic: topic.to_string(),
                key: Some(key.to_vec()),
                error: "testkit: not delivered on request (testkit.mode=undelivered)".into(),
            });
            return Ok(());
        }
        let mut map = topics();
        let records = map.entry(topic.to_string()).or_default();
        records.push(Record {
            topic: topic.to_string(),
            partition: 0,
            offset: i64::try_from(records.len()).unwrap_or(i64::MAX),
            key: Some(key.to_vec()),
            value: Some(value.to_vec()),
            timestamp_ms: Some(now_ms()),
        });
        drop(map);
        store().arrived.notify_all();
        self.stats.sent += 1;
        self.stats.delivered += 1;
        Ok(())
    }

    fn flush(&mut self, _timeout: Duration) -> Result<(), TransportError> {
        self.mode.on_call("flush");
        Ok(())
    }

    fn take_failures(&mut self) -> Vec<DeliveryFailure> {
        std::mem::take(&mut self.failures)
    }

    fn stats(&self) -> ProducerStats {
        self.stats
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.mode.on_call("producer_settings");
        // A send is in the log before it returns: no linger, acknowledged by all (-1, in
        // librdkafka's unit).
        vec![
            ("linger.ms".into(), "0".into()),
            ("acks".into(), "-1".into()),
        ]
    }
}

struct MemConsumer {
    mode: Mode,
    /// Next offset to read, per subscribed topic.
    positions: Vec<(String, usize)>,
    /// False with `testkit.assignment=unreported`.
    reports_assignment: bool,
}

impl Consumer for MemConsumer {
    fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, TransportError> {
        self.mode.on_call("poll");
        match self.mode {
            Mode::Transient => {
                return Err(TransportError::Transient(
                    "testkit: broker restarting (testkit.mode=transient)".into(),
                ))
            }
            Mode::PollError => {
                return Err(TransportError::Client(
                    "testkit: poll failed on request (testkit.mode=poll-error)".into(),
                ))
            }
            _ => {}
        }
        let end = Instant::now() + timeout;
        let mut map = topics();
        loop {
            for (topic, pos) in &mut self.positions {
                if let Some(r) = map.get(topic.as_str()).and_then(|rs| rs.get(*pos)) {
                    *pos += 1;
                    return Ok(Some(r.clone()));
                }
            }
            let now = Instant::now();
            if now >= end {
                return Ok(None);
            }
            map = store()
                .arrived
                .wait_timeout(map, end - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn commit(&mut self) -> Result<(), TransportError> {
        self.mode.on_call("commit");
        Ok(())
    }

    fn reports_assignment(&self) -> bool {
        self.reports_assignment
    }

    /// Partition 0 of each subscribed topic: every testkit topic has one partition,
    /// and every consumer reads all of it from the moment it subscribed.
    fn assignment(&self) -> Vec<(String, i32)> {
        self.mode.on_call("consumer_assignment");
        if !self.reports_assignment {
            return Vec::new();
        }
        self.positions.iter().map(|(t, _)| (t.clone(), 0)).collect()
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.mode.on_call("consumer_settings");
        // poll wakes on the first record; it never waits for more bytes.
        vec![
            ("fetch.wait.max.ms".into(), "0".into()),
            ("fetch.min.bytes".into(), "1".into()),
        ]
    }
}

struct MemAdmin {
    mode: Mode,
    any_topic: bool,
    leaders: Leaders,
}

impl Admin for MemAdmin {
    fn create_topic(&self, spec: &TopicSpec, _timeout: Duration) -> Result<(), TransportError> {
        self.mode.on_new("create_topic")?;
        topics().entry(spec.name.clone()).or_default();
        Ok(())
    }

    fn topic_partitions(
        &self,
        topic: &str,
        _timeout: Duration,
    ) -> Result<Option<i32>, TransportError> {
        self.mode.on_new("topic_partitions")?;
        Ok((self.any_topic || topics().contains_key(topic)).then_some(1))
    }

    fn partition_leaders(
        &self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Leadership, TransportError> {
        let n = self.topic_partitions(topic, timeout)?;
        let unknown = || Leadership::unknown(n.unwrap_or(0));
        Ok(self.leaders.leadership(n).unwrap_or_else(unknown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmidi_transport::GROUP_TYPE_KEY;

    #[test]
    fn what_is_sent_is_polled_back_in_order() {
        let t = TestkitTransport;
        let config = ClientConfig::new();
        let sub = Subscription {
            topics: vec!["unit-roundtrip".into()],
            group: "g".into(),
            offset_reset: OffsetReset::Earliest,
        };
        let mut p = t.producer(&config).unwrap();
        p.send("unit-roundtrip", b"k", b"one").unwrap();
        p.send("unit-roundtrip", b"k", b"two").unwrap();
        let mut c = t.consumer(&config, &sub).unwrap();
        let a = c.poll(Duration::from_millis(100)).unwrap().unwrap();
        let b = c.poll(Duration::from_millis(100)).unwrap().unwrap();
        assert_eq!(
            (a.value.unwrap(), b.value.unwrap()),
            (b"one".to_vec(), b"two".to_vec())
        );
        assert_eq!(b.offset, 1);
        assert!(c.poll(Duration::from_millis(10)).unwrap().is_none());
    }

    #[test]
    fn a_consumer_reports_partition_zero_of_each_subscribed_topic() {
        let sub = Subscription {
            topics: vec!["unit-a".into(), "unit-b".into()],
            group: "g".into(),
            offset_reset: OffsetReset::Latest,
        };
        let c = TestkitTransport
            .consumer(&ClientConfig::new(), &sub)
            .unwrap();
        assert!(c.reports_assignment());
        assert_eq!(
            c.assignment(),
            [("unit-a".to_string(), 0), ("unit-b".to_string(), 0)]
        );
    }

    #[test]
    fn a_share_group_is_refused() {
        let config: ClientConfig = [(GROUP_TYPE_KEY, "share")].into_iter().collect();
        let sub = Subscription {
            topics: vec!["unit-share".into()],
            group: "g".into(),
            offset_reset: OffsetReset::Latest,
        };
        let err = TestkitTransport.consumer(&config, &sub).err().unwrap();
        assert!(err.to_string().contains(GROUP_TYPE_KEY), "{err}");
    }

    #[test]
    fn an_unknown_mode_is_a_config_error() {
        let config: ClientConfig = [("testkit.mode", "nope")].into_iter().collect();
        let err = TestkitTransport
            .producer(&config)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("testkit.mode"), "{err}");
    }
}
