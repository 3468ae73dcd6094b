//! One side of a compare before it plays: its label, topic, group and client config,
//! and what its report says about its set-up.

use std::time::Duration;

use anyhow::{anyhow, Result};
use kmidi_engine::session::Outcome;
use kmidi_registry as registry;
use kmidi_transport::{Admin, ClientConfig, TopicSpec, Transport, TransportInfo};

use crate::cli::CompareArgs;
use crate::report::{EffectiveSettings, PlayerFigures, Rebalance, SideReport};

pub const NAMES: [&str; 2] = ["A", "B"];

/// `A (rdkafka)`, or the user's `--label-a`; two sides on one library are told apart
/// by the settings only one of them has (`A (rdkafka group.protocol=classic)`).
pub fn labels(args: &CompareArgs, names: [&str; 2]) -> [String; 2] {
    let given = [&args.label_a, &args.label_b];
    let props = args.side_props();
    std::array::from_fn(|i| {
        if let Some(l) = given[i] {
            return l.clone();
        }
        let mut label = format!("{} ({}", NAMES[i], names[i]);
        if names[0] == names[1] {
            let other = props[1 - i];
            for p in props[i].iter().filter(|p| !other.contains(p)) {
                label.push(' ');
                label.push_str(p);
            }
        }
        label.push(')');
        label
    })
}

/// The side's topic: PREFIX_a, or PREFIX_a_pN for N partitions, so a lab run never
/// lands on a topic made for another partition count.
pub fn topic(prefix: &str, i: usize, partitions: i32) -> String {
    let side = ["a", "b"][i];
    if partitions == 1 {
        format!("{prefix}_{side}")
    } else {
        format!("{prefix}_{side}_p{partitions}")
    }
}

/// The keys the user set for this side (`-X`, then `--xa`/`--xb`).
pub fn user_keys(args: &CompareArgs, i: usize) -> Vec<String> {
    let extra = args.side_props()[i];
    args.client
        .props
        .iter()
        .chain(extra.iter())
        .filter_map(|p| p.split_once('=').map(|(k, _)| k.trim().to_string()))
        .collect()
}

/// Creates the side's topic if it is missing: with the side's own admin API, or with
/// librdkafka's when that library has none, replicated min(3, brokers) times as an
/// operator's topics are (one broker: 1), so a broker fault on a cluster costs what it
/// costs a real topic. An existing topic with another partition count is refused: the
/// lab's figures assume the count asked for.
pub fn ensure_topic(
    transport: &dyn Transport,
    config: &ClientConfig,
    topic: &str,
    partitions: i32,
    timeout: Duration,
) -> Result<()> {
    let admin = match transport.admin(config) {
        Ok(admin) => admin,
        Err(_) => registry::fallback_admin(config)?,
    };
    match admin.topic_partitions(topic, timeout)? {
        Some(n) if n == partitions => return Ok(()),
        Some(n) => {
            return Err(anyhow!(
                "topic {topic} has {n} partition(s), {partitions} wanted: delete it or \
                 pick another --topic-prefix"
            ))
        }
        None => {}
    }
    let spec = TopicSpec {
        name: topic.to_string(),
        partitions,
        replication_factor: replication(admin.as_ref(), config, topic, timeout),
        configs: vec![("retention.ms".to_string(), "60000".to_string())],
    };
    match admin.create_topic(&spec, timeout) {
        Ok(()) => Ok(()),
        Err(_) => Ok(registry::fallback_admin(config)?.create_topic(&spec, timeout)?),
    }
}

/// min(3, the brokers the cluster's metadata lists), from the side's admin or, when it
/// cannot tell, librdkafka's; 1 when neither can.
fn replication(admin: &dyn Admin, config: &ClientConfig, topic: &str, timeout: Duration) -> i32 {
    let brokers = |a: &dyn Admin| {
        a.partition_leaders(topic, timeout)
            .ok()
            .filter(|l| l.known && !l.brokers.is_empty())
            .map(|l| l.brokers.len())
    };
    let n = brokers(admin).or_else(|| {
        registry::fallback_admin(config)
            .ok()
            .and_then(|a| brokers(a.as_ref()))
    });
    n.map_or(1, |n| n.min(3) as i32)
}

/// What a side's report says about its set-up, kept while its session runs.
pub struct SideSetup {
    pub label: String,
    pub info: TransportInfo,
    pub topic: String,
    pub partitions: i32,
    pub group: String,
    pub client_properties: Vec<String>,
    pub settings: EffectiveSettings,
}

impl SideSetup {
    pub fn report<'a>(&self, o: &'a Outcome, rebalance: Option<Rebalance>) -> SideReport<'a> {
        SideReport {
            client_properties: self.client_properties.clone(),
            topic_partitions: Some(self.partitions),
            settings: Some(self.settings.clone()),
            player: Some(PlayerFigures::of(&o.played, &o.flushed)),
            rebalance,
            ..SideReport::new(
                self.label.clone(),
                &self.info,
                &self.topic,
                &self.group,
                &o.listened,
            )
        }
    }
}
