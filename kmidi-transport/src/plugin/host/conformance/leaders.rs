//! The conformance pass's "leaders" point, for `partition_leaders` (appended after the
//! 184-byte table): on the checked topic, the entry answers OK with every partition
//! listed once (as many as `topic_partitions` counts), each leader one of the brokers
//! the metadata lists and one of its partition's replicas, and every in-sync replica a
//! replica. `KMIDI_UNSUPPORTED` passes ("cannot tell"); a NULL entry is a skip.

use std::time::Duration;

use super::super::admin::PluginAdmin;
use super::super::leaders::{fetch, Fetched};
use super::super::loader::Plugin;
use super::super::watchdog;
use super::{point, Outcome, Point};
use crate::plugin::abi::{KMIDI_OK, KMIDI_UNSUPPORTED};
use crate::plugin::ffi::{c_string, KvList};
use crate::{Admin, ClientConfig, Leadership};

/// What the host adds to a call's own timeout before it stops waiting.
const GRACE: Duration = Duration::from_secs(5);

/// "leaders": what `partition_leaders` says about `topic`, judged.
pub(super) fn leaders(
    plugin: &std::sync::Arc<Plugin>,
    config: &ClientConfig,
    topic: &str,
    timeout: Duration,
) -> Point {
    let what = "leaders";
    let Some(entry) = plugin.table.0.partition_leaders else {
        return point(
            what,
            Outcome::Skip,
            "optional, not provided (partition_leaders is NULL: partition leaders are \
             unknown)",
        );
    };
    let (kv, topic_c) = match (KvList::from_config(config), c_string("topic", topic)) {
        (Ok(kv), Ok(t)) => (kv, t),
        (Err(e), _) | (_, Err(e)) => return point(what, Outcome::Fail, e.to_string()),
    };
    let deadline = timeout + GRACE;
    let fetched = watchdog::bounded(
        "partition_leaders",
        deadline,
        // SAFETY: the entry of a loaded plugin, whose library is never unloaded.
        move || unsafe { fetch(entry, &kv, &topic_c, timeout) },
        |_| (),
    );
    let Some(fetched) = fetched else {
        return point(
            what,
            Outcome::Fail,
            format!("did not return within {deadline:?}: it ignored its timeout"),
        );
    };
    let leadership = match fetched {
        Fetched::Known(l) => l,
        Fetched::Status(KMIDI_UNSUPPORTED, _) => {
            return point(
                what,
                Outcome::Pass,
                "KMIDI_UNSUPPORTED: this plugin cannot tell (the host treats it as a NULL \
                 entry: leaders unknown)",
            )
        }
        Fetched::Status(rc, text) => {
            return point(
                what,
                Outcome::Fail,
                format!("status {rc}, expected KMIDI_OK ({KMIDI_OK}): {text}"),
            )
        }
        Fetched::Bogus(nonsense) => {
            return point(what, Outcome::Fail, format!("returned OK with {nonsense}"))
        }
    };
    let counted = plugin.table.0.topic_partitions.and_then(|_| {
        let admin = PluginAdmin::new(
            std::sync::Arc::clone(plugin),
            KvList::from_config(config).ok()?,
            config.bootstrap().to_string(),
            GRACE,
        );
        admin.topic_partitions(topic, timeout).ok().flatten()
    });
    match judge(&leadership, counted) {
        Ok(said) => point(what, Outcome::Pass, format!("topic {topic}: {said}")),
        Err(wrong) => point(what, Outcome::Fail, format!("topic {topic}: {wrong}")),
    }
}

/// Whether `l` is a sane answer for an existing topic of `counted` partitions (when
/// `topic_partitions` could count them).
fn judge(l: &Leadership, counted: Option<i32>) -> Result<String, String> {
    if !l.topic_exists() {
        return Err("no partitions (the checked topic exists)".into());
    }
    let numbers: Vec<i32> = l.partitions.iter().map(|p| p.partition).collect();
    let expected: Vec<i32> = (0..counted.unwrap_or(numbers.len() as i32)).collect();
    if numbers != expected {
        return Err(format!(
            "partitions {numbers:?}, expected every partition once: {expected:?}"
        ));
    }
    if l.brokers.is_empty() {
        return Err("no brokers listed".into());
    }
    let mut wrong = Vec::new();
    for p in &l.partitions {
        if let Some(leader) = p.leader {
            if !l.brokers.contains(&leader) {
                wrong.push(format!(
                    "partition {}'s leader {leader} is not among the brokers {:?}",
                    p.partition, l.brokers
                ));
            }
            if !p.replicas.contains(&leader) {
                wrong.push(format!(
                    "partition {}'s leader {leader} is not among its replicas {:?}",
                    p.partition, p.replicas
                ));
            }
        }
        if let Some(stray) = p.isr.iter().find(|r| !p.replicas.contains(r)) {
            wrong.push(format!(
                "partition {}'s in-sync replica {stray} is not among its replicas {:?}",
                p.partition, p.replicas
            ));
        }
    }
    if !wrong.is_empty() {
        return Err(wrong.join("; "));
    }
    let leaders: Vec<String> = l
        .leaders()
        .iter()
        .map(|(p, leader)| match leader {
            Some(b) => format!("{p}->{b}"),
            None => format!("{p}->none"),
        })
        .collect();
    Ok(format!(
        "brokers {:?}; leaders {}",
        l.brokers,
        leaders.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::judge;
    use crate::{Leadership, PartitionLeader};

    fn part(partition: i32, leader: Option<i32>, replicas: &[i32], isr: &[i32]) -> PartitionLeader {
        PartitionLeader {
            partition,
            leader,
            replicas: replicas.to_vec(),
            isr: isr.to_vec(),
        }
    }

    fn l(brokers: &[i32], partitions: Vec<PartitionLeader>) -> Leadership {
        Leadership {
            known: true,
            brokers: brokers.to_vec(),
            partitions,
        }
    }

    #[test]
    fn leaders_among_the_brokers_and_replicas_pass() {
        let ok = l(
            &[1, 2],
            vec![
                part(0, Some(1), &[1, 2], &[1, 2]),
                part(1, None, &[2, 1], &[]),
            ],
        );
        assert_eq!(
            judge(&ok, Some(2)).as_deref(),
            Ok("brokers [1, 2]; leaders 0->1, 1->none")
        );
    }

    #[test]
    fn missing_partitions_and_stray_leaders_fail() {
        let short = l(&[1], vec![part(0, Some(1), &[1], &[1])]);
        assert!(judge(&short, Some(3))
            .expect_err("2 missing")
            .contains("[0, 1, 2]"));
        let stray = l(&[1], vec![part(0, Some(7), &[1], &[1, 9])]);
        let err = judge(&stray, None).expect_err("stray");
        assert!(err.contains("leader 7 is not among the brokers"), "{err}");
        assert!(err.contains("in-sync replica 9"), "{err}");
        assert!(judge(&l(&[1], vec![]), None).is_err());
    }
}
