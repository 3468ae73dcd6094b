//! Admin operations through confluent-kafka's admin client (the Java client's
//! `Admin`): topic creation with configs, the bounded-time check that the cluster
//! answers and the topic exists, partition leaders, and the cluster's description.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use confluent_kafka::admin::{
    AdminClient, AdminClientConfig, CreateTopicsOptions, DescribeClusterOptions,
    DescribeTopicsOptions, NewTopic, TopicDescription,
};
use confluent_kafka::common::{Error, Node};
use kmidi_transport::{
    Admin, ClientConfig, Leadership, PartitionLeader, TopicSpec, TransportError,
};
use tokio::runtime::Runtime;

use crate::{describe, millis, props};

/// An admin client holds nothing worth waiting for on drop.
const CLOSE_PATIENCE: Duration = Duration::ZERO;

pub struct CfAdmin {
    // The library's tasks live on it; closed in Drop before it goes.
    rt: Runtime,
    admin: Box<dyn confluent_kafka::admin::Admin>,
    bootstrap: String,
    config: ClientConfig,
}

impl CfAdmin {
    pub fn new(config: &ClientConfig) -> Result<Self, TransportError> {
        let java = props::admin(config)?;
        let parsed = AdminClientConfig::new(&java).map_err(|e| props::refused(config, &e))?;
        let rt = crate::runtime("admin")?;
        let admin = {
            let _in_runtime = rt.enter();
            AdminClient::create(parsed).map_err(|e| props::refused(config, &e))?
        };
        Ok(Self {
            rt,
            admin,
            bootstrap: config.bootstrap().to_string(),
            config: config.clone(),
        })
    }

    fn unreachable(&self, timeout: Duration, detail: String) -> TransportError {
        TransportError::Unreachable {
            bootstrap: self.bootstrap.clone(),
            timeout,
            detail: self.config.redact(&detail),
        }
    }

    /// Waits for `fut` at most `timeout` (plus a little, for the library's own timeout
    /// to answer first with its reason).
    fn bounded<T>(
        &self,
        timeout: Duration,
        fut: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, TransportError> {
        let outer = timeout + Duration::from_millis(500);
        match crate::bounded(&self.rt, outer, fut) {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) if e.is_timeout_error() => Err(self.unreachable(timeout, describe(&e))),
            Some(Err(e)) => Err(TransportError::Client(self.config.redact(&describe(&e)))),
            None => Err(self.unreachable(timeout, "no answer".to_string())),
        }
    }
}

impl Admin for CfAdmin {
    fn create_topic(&self, spec: &TopicSpec, timeout: Duration) -> Result<(), TransportError> {
        let replication = i16::try_from(spec.replication_factor).map_err(|_| {
            TransportError::Client(format!(
                "replication factor {} is out of range",
                spec.replication_factor
            ))
        })?;
        let configs: BTreeMap<String, String> = spec.configs.iter().cloned().collect();
        let topic = NewTopic::with_num_partitions_replication_factor(
            spec.name.as_str(),
            Some(spec.partitions),
            Some(replication),
        )
        .set_configs((!configs.is_empty()).then_some(configs));
        let options = CreateTopicsOptions::new().set_timeout_ms(Some(millis(timeout)));
        let result = self.admin.create_topics_with_options(&[topic], options);
        let outer = timeout + Duration::from_millis(500);
        match crate::bounded(&self.rt, outer, result.all().get()) {
            Some(Err(e)) if e.is_topic_exists_error() => Err(TransportError::Client(format!(
                "topic {:?} already exists on {}",
                spec.name, self.bootstrap
            ))),
            Some(Err(e)) if e.is_timeout_error() => Err(self.unreachable(timeout, describe(&e))),
            Some(Err(e)) => Err(TransportError::Client(format!(
                "the broker refused to create topic {:?}: {}",
                spec.name,
                self.config.redact(&describe(&e))
            ))),
            None => Err(self.unreachable(timeout, "no answer".to_string())),
            Some(Ok(())) => {
                // The controller has the topic; the broker answering metadata may learn
                // of it a moment later, and whoever asked for it uses it next.
                let deadline = Instant::now() + timeout;
                while Instant::now() < deadline {
                    if self.topic_partitions(&spec.name, timeout)?.is_some() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(())
            }
        }
    }

    fn topic_partitions(
        &self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Option<i32>, TransportError> {
        // Reachability first, so a silent cluster is told apart from a missing topic.
        self.describe_cluster(timeout)?;
        Ok(self
            .describe_topic(topic, timeout)?
            .map(|d| d.partitions().len() as i32))
    }

    /// From the admin client's DescribeCluster (the brokers) and DescribeTopics (each
    /// partition's leader, replicas and ISR), both fresh requests.
    fn partition_leaders(
        &self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Leadership, TransportError> {
        let options = DescribeClusterOptions::new().set_timeout_ms(Some(millis(timeout)));
        let nodes = self.bounded(
            timeout,
            self.admin
                .describe_cluster_with_options(options)
                .nodes()
                .get(),
        )?;
        let ids = |nodes: &[Node]| nodes.iter().map(Node::id).collect::<Vec<i32>>();
        let mut partitions: Vec<PartitionLeader> = self
            .describe_topic(topic, timeout)?
            .map(|d| {
                d.partitions()
                    .iter()
                    .map(|p| PartitionLeader {
                        partition: p.partition(),
                        // The Java client's "no node" has id -1.
                        leader: p.leader().map(Node::id).filter(|id| *id >= 0),
                        replicas: ids(p.replicas()),
                        isr: ids(p.isr()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        partitions.sort_by_key(|p| p.partition);
        let mut brokers = ids(&nodes);
        brokers.sort_unstable();
        Ok(Leadership {
            known: true,
            brokers,
            partitions,
        })
    }

    fn describe_cluster(&self, timeout: Duration) -> Result<String, TransportError> {
        let options = DescribeClusterOptions::new().set_timeout_ms(Some(millis(timeout)));
        let result = self.admin.describe_cluster_with_options(options);
        let nodes = self.bounded(timeout, result.nodes().get())?;
        let id = self.bounded(timeout, result.cluster_id().get())?;
        Ok(format!("{} broker(s), cluster id {id}", nodes.len()))
    }
}

impl CfAdmin {
    /// `topic`'s description, `None` if it does not exist.
    fn describe_topic(
        &self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Option<TopicDescription>, TransportError> {
        let options = DescribeTopicsOptions::new().set_timeout_ms(Some(millis(timeout)));
        let result = self
            .admin
            .describe_topics_with_topic_names_options(&[topic.to_string()], options);
        let Some(all) = result.all_topic_names() else {
            return Ok(None);
        };
        let outer = timeout + Duration::from_millis(500);
        match crate::bounded(&self.rt, outer, all.get()) {
            Some(Ok(mut described)) => Ok(described.remove(topic)),
            Some(Err(e)) if e.is_unknown_topic_or_partition_error() => Ok(None),
            Some(Err(e)) if e.is_timeout_error() => Err(self.unreachable(timeout, describe(&e))),
            Some(Err(e)) => Err(TransportError::Client(self.config.redact(&describe(&e)))),
            None => Err(self.unreachable(timeout, "no answer".to_string())),
        }
    }
}

impl Drop for CfAdmin {
    fn drop(&mut self) {
        self.rt
            .block_on(self.admin.close_with_timeout(CLOSE_PATIENCE));
    }
}
