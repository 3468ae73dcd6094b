//! Admin operations on librdkafka: topic creation (with an explicit replica assignment
//! too, for a probe topic led by every broker), the bounded-time check that the
//! cluster answers and the topic exists, run before playing so an unreachable broker
//! is an error in seconds, not a silent hang, and who leads each partition.

use std::time::Duration;

use kmidi_transport::{
    Admin, ClientConfig, Leadership, PartitionLeader, TopicSpec, TransportError,
};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::props;

pub struct RdAdmin {
    bootstrap: String,
    admin: AdminClient<DefaultClientContext>,
    // Metadata goes through a consumer handle: a producer's metadata request may
    // auto-create the topic it asks about, which would hide a typo in `-t`.
    meta: BaseConsumer,
}

impl RdAdmin {
    pub fn new(config: &ClientConfig) -> Result<Self, TransportError> {
        let rd = props::base(config);
        Ok(Self {
            bootstrap: config.bootstrap().to_string(),
            admin: rd.create().map_err(props::creation_error)?,
            meta: rd.create().map_err(props::creation_error)?,
        })
    }

    fn create(
        &self,
        spec: &TopicSpec,
        replication: TopicReplication<'_>,
        timeout: Duration,
    ) -> Result<(), TransportError> {
        // Fail fast on an unreachable cluster rather than on the admin future's timeout.
        self.meta
            .fetch_metadata(None, timeout)
            .map_err(|e| self.unreachable(timeout, e))?;
        let mut topic = NewTopic::new(&spec.name, spec.partitions, replication);
        for (k, v) in &spec.configs {
            topic = topic.set(k, v);
        }
        let opts = AdminOptions::new()
            .operation_timeout(Some(timeout))
            .request_timeout(Some(timeout));
        let results = futures_executor::block_on(self.admin.create_topics([&topic], &opts))
            .map_err(|e| crate::client_error("create topic", e))?;
        for result in results {
            if let Err((name, code)) = result {
                return Err(match code {
                    RDKafkaErrorCode::TopicAlreadyExists => TransportError::Client(format!(
                        "topic {name:?} already exists on {}",
                        self.bootstrap
                    )),
                    other => TransportError::Client(format!(
                        "the broker refused to create topic {name:?}: {other}"
                    )),
                });
            }
        }
        Ok(())
    }

    fn unreachable(&self, timeout: Duration, err: KafkaError) -> TransportError {
        TransportError::Unreachable {
            bootstrap: self.bootstrap.clone(),
            timeout,
            detail: err.to_string(),
        }
    }
}

impl Admin for RdAdmin {
    fn create_topic(&self, spec: &TopicSpec, timeout: Duration) -> Result<(), TransportError> {
        self.create(
            spec,
            TopicReplication::Fixed(spec.replication_factor),
            timeout,
        )
    }

    fn create_topic_assigned(
        &self,
        spec: &TopicSpec,
        replicas: &[Vec<i32>],
        timeout: Duration,
    ) -> Result<(), TransportError> {
        let assignment: Vec<&[i32]> = replicas.iter().map(Vec::as_slice).collect();
        let spec = TopicSpec {
            partitions: i32::try_from(assignment.len()).unwrap_or(i32::MAX),
            ..spec.clone()
        };
        self.create(&spec, TopicReplication::Variable(&assignment), timeout)
    }

    fn partition_leaders(
        &self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Leadership, TransportError> {
        let md = self
            .meta
            .fetch_metadata(Some(topic), timeout)
            .map_err(|e| self.unreachable(timeout, e))?;
        let mut brokers: Vec<i32> = md.brokers().iter().map(|b| b.id()).collect();
        brokers.sort_unstable();
        let mut partitions: Vec<PartitionLeader> = md
            .topics()
            .iter()
            .filter(|t| t.name() == topic && t.error().is_none())
            .flat_map(|t| t.partitions())
            .map(|p| PartitionLeader {
                partition: p.id(),
                // librdkafka says -1 for a partition without a leader.
                leader: (p.leader() >= 0).then_some(p.leader()),
                replicas: p.replicas().to_vec(),
                isr: p.isr().to_vec(),
            })
            .collect();
        partitions.sort_by_key(|p| p.partition);
        Ok(Leadership {
            known: true,
            brokers,
            partitions,
        })
    }

    fn topic_partitions(
        &self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Option<i32>, TransportError> {
        let md = self
            .meta
            .fetch_metadata(None, timeout)
            .map_err(|e| self.unreachable(timeout, e))?;
        Ok(md
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map(|t| t.partitions().len() as i32))
    }

    fn describe_cluster(&self, timeout: Duration) -> Result<String, TransportError> {
        let md = self
            .meta
            .fetch_metadata(None, timeout)
            .map_err(|e| self.unreachable(timeout, e))?;
        Ok(format!(
            "{} broker(s), controller-less metadata from broker {}",
            md.brokers().len(),
            md.orig_broker_id()
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kmidi_transport::{ClientConfig, Transport};

    use crate::mock::EmbeddedCluster;
    use crate::RdKafkaTransport;

    #[test]
    fn leaders_come_from_metadata_and_a_missing_topic_has_no_partitions() {
        let cluster = EmbeddedCluster::start(3).unwrap();
        cluster.create_topic("spread", 6).unwrap();
        let config: ClientConfig = [("bootstrap.servers", cluster.bootstrap())]
            .into_iter()
            .collect();
        let admin = RdKafkaTransport.admin(&config).unwrap();
        let read = admin
            .partition_leaders("spread", Duration::from_secs(5))
            .unwrap();
        assert!(read.known, "{read:?}");
        assert_eq!(read.brokers, [1, 2, 3]);
        assert_eq!(
            read.partitions
                .iter()
                .map(|p| p.partition)
                .collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5]
        );
        for p in &read.partitions {
            let leader = p.leader.unwrap_or(-1);
            assert!(read.brokers.contains(&leader), "{read:?}");
            assert!(
                p.replicas.contains(&leader) && p.isr.contains(&leader),
                "{read:?}"
            );
        }
        let missing = admin
            .partition_leaders("nope", Duration::from_secs(5))
            .unwrap();
        assert!(missing.known && !missing.topic_exists(), "{missing:?}");
    }
}
