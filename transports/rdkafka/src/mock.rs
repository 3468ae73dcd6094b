//! librdkafka's in-process mock cluster: the embedded default for `kmidi demo` and for
//! fast unit-level tests. It is not Apache Kafka; tests that claim Kafka behaviour run
//! against a real broker started by `scripts/kafka.sh`.

use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

use kmidi_transport::TransportError;

pub struct EmbeddedCluster {
    cluster: MockCluster<'static, DefaultProducerContext>,
}

impl EmbeddedCluster {
    pub fn start(brokers: i32) -> Result<Self, TransportError> {
        let cluster = MockCluster::new(brokers).map_err(|e| {
            TransportError::Client(format!("cannot start librdkafka's mock cluster: {e}"))
        })?;
        Ok(Self { cluster })
    }

    pub fn bootstrap(&self) -> String {
        self.cluster.bootstrap_servers()
    }

    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<(), TransportError> {
        self.cluster
            .create_topic(name, partitions, 1)
            .map_err(|e| TransportError::Client(format!("mock cluster: create {name:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use kmidi_transport::{ClientConfig, OffsetReset, Subscription, Transport};

    use super::*;
    use crate::RdKafkaTransport;

    #[test]
    fn mock_cluster_round_trips_records_in_order() {
        let cluster = EmbeddedCluster::start(1).unwrap();
        cluster.create_topic("t", 1).unwrap();
        let config: ClientConfig = [("bootstrap.servers", cluster.bootstrap())]
            .into_iter()
            .collect();
        let t = RdKafkaTransport;
        let admin = t.admin(&config).unwrap();
        assert_eq!(
            admin.topic_partitions("t", Duration::from_secs(5)).unwrap(),
            Some(1)
        );
        assert_eq!(
            admin
                .topic_partitions("nope", Duration::from_secs(5))
                .unwrap(),
            None
        );

        let mut p = t.producer(&config).unwrap();
        for i in 0..20u8 {
            p.send("t", b"k", &[i]).unwrap();
        }
        p.flush(Duration::from_secs(10)).unwrap();
        assert_eq!(p.stats().delivered, 20);

        let sub = Subscription {
            topics: vec!["t".into()],
            group: "g".into(),
            offset_reset: OffsetReset::Earliest,
        };
        let mut c = t.consumer(&config, &sub).unwrap();
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while got.len() < 20 && Instant::now() < deadline {
            if let Ok(Some(r)) = c.poll(Duration::from_millis(200)) {
                got.push(r.value.unwrap()[0]);
            }
        }
        assert_eq!(got, (0..20).collect::<Vec<u8>>());
    }

    #[test]
    fn unreachable_broker_is_reported_within_the_timeout() {
        let config: ClientConfig = [("bootstrap.servers", "127.0.0.1:1")].into_iter().collect();
        let admin = RdKafkaTransport.admin(&config).unwrap();
        let started = Instant::now();
        let err = admin
            .topic_partitions("t", Duration::from_secs(2))
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(6));
        assert!(
            err.to_string()
                .contains("cannot reach Kafka at 127.0.0.1:1"),
            "{err}"
        );
    }
}
