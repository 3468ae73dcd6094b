//! Whether every broker still leads a partition of the probe topic: after a failover
//! one broker can lead nothing, and its notes stop being heard apart (`kmidi topic
//! create --per-broker` spreads the leaders; Kafka moves them back only at its next
//! leader-imbalance check, 300 s by default, or when an operator asks).
//!
//! [`check_spread`] words the warning and how to restore the spread; [`LeaderWatch`]
//! re-reads leadership every few seconds for a caller that polls it, says what moved
//! and warns once per change. Reading is the caller's (an [`kmidi_transport::Admin`]
//! call waits on the network, so keep it off the instrument's poll thread).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use kmidi_transport::{Leadership, TransportError};

/// The warning when a broker of `expected` (those that led a partition of `topic`
/// before, or that the cluster lists now) leads none of its partitions, or when a
/// partition has no leader, with how to restore the spread; `None` when all is well
/// or the transport cannot tell leaders.
pub fn check_spread(
    leadership: &Leadership,
    expected: &BTreeSet<i32>,
    topic: &str,
    bootstrap: &str,
) -> Option<String> {
    if !leadership.known || !leadership.topic_exists() {
        return None;
    }
    let listed: BTreeSet<i32> = leadership.brokers.iter().copied().collect();
    let mut lines = Vec::new();
    for &broker in expected.union(&listed) {
        if !leadership.led_by(broker).is_empty() {
            continue;
        }
        lines.push(idle_broker(
            leadership,
            broker,
            listed.contains(&broker),
            topic,
            bootstrap,
        ));
    }
    let leaderless: Vec<i32> = leadership
        .partitions
        .iter()
        .filter(|p| p.leader.is_none())
        .map(|p| p.partition)
        .collect();
    if !leaderless.is_empty() {
        lines.push(format!(
            "partition(s) {} of {topic} have no leader: their notes wait until one is elected",
            list(&leaderless)
        ));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// One broker's line: where its partitions went and what brings them back.
fn idle_broker(
    leadership: &Leadership,
    broker: i32,
    listed: bool,
    topic: &str,
    bootstrap: &str,
) -> String {
    // The partitions that prefer this broker: a preferred-leader election hands them
    // back once it is in their ISR again.
    let preferred: Vec<&kmidi_transport::PartitionLeader> = leadership
        .partitions
        .iter()
        .filter(|p| p.replicas.first() == Some(&broker))
        .collect();
    let now: Vec<String> = preferred
        .iter()
        .map(|p| match p.leader {
            Some(l) => format!("{} -> broker {l}", p.partition),
            None => format!("{} -> no leader", p.partition),
        })
        .collect();
    let state = if listed {
        "is up but leads no partition"
    } else {
        "is gone from the cluster's metadata (down?) and leads no partition"
    };
    let mut line = format!("broker {broker} {state} of {topic}");
    if !now.is_empty() {
        line.push_str(&format!(" (now: {})", now.join(", ")));
    }
    line.push_str(": its notes are no longer heard apart.\n  ");
    if preferred.is_empty() {
        line.push_str(&format!(
            "no partition of {topic} prefers it: delete the topic (kafka-topics.sh \
             --bootstrap-server {bootstrap} --delete --topic {topic}) and re-create it \
             with `kmidi topic create -b {bootstrap} -t {topic} --per-broker`"
        ));
        return line;
    }
    let partitions: Vec<i32> = preferred.iter().map(|p| p.partition).collect();
    let in_sync = preferred.iter().all(|p| p.isr.contains(&broker));
    let when = if !listed {
        "once it is back and in sync, "
    } else if !in_sync {
        "once it is back in the ISR, "
    } else {
        ""
    };
    let target = match partitions.as_slice() {
        [one] => format!("--topic {topic} --partition {one}"),
        _ => "--all-topic-partitions".to_string(),
    };
    line.push_str(&format!(
        "{when}restore it with a preferred-leader election: kafka-leader-election.sh \
         --bootstrap-server {bootstrap} --election-type PREFERRED {target} (Kafka also \
         does it by itself at its next leader-imbalance check, if \
         auto.leader.rebalance.enable is on), or re-create the topic with `kmidi topic \
         create --per-broker`"
    ));
    line
}

fn list(numbers: &[i32]) -> String {
    let shown: Vec<String> = numbers.iter().map(i32::to_string).collect();
    shown.join(", ")
}

/// Something [`LeaderWatch`] has to say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Leadership moved: which partition went from which broker to which.
    Moved(String),
    /// From [`check_spread`]: a broker leads nothing, or a partition has no leader.
    Warning(String),
    /// The warning no longer holds.
    Restored(String),
    /// Leadership could not be read (said once until a read succeeds again).
    Unreadable(String),
}

impl Notice {
    pub fn text(&self) -> &str {
        match self {
            Notice::Moved(t) | Notice::Warning(t) | Notice::Restored(t) | Notice::Unreadable(t) => {
                t
            }
        }
    }
}

/// Re-reads leadership of one topic every `every`, for a caller that polls
/// [`LeaderWatch::tick`] (or [`LeaderWatch::due`] then [`LeaderWatch::observe`]), and
/// says what changed. The brokers it expects to lead are every broker that led a
/// partition or was listed since the first reading, so a killed broker that drops out
/// of the metadata is still missed.
pub struct LeaderWatch {
    topic: String,
    bootstrap: String,
    every: Duration,
    next: Option<Instant>,
    expected: BTreeSet<i32>,
    current: Option<Leadership>,
    warning: Option<String>,
    unreadable: bool,
}

impl LeaderWatch {
    pub fn new(topic: &str, bootstrap: &str, every: Duration) -> Self {
        LeaderWatch {
            topic: topic.to_string(),
            bootstrap: bootstrap.to_string(),
            every,
            next: None,
            expected: BTreeSet::new(),
            current: None,
            warning: None,
            unreadable: false,
        }
    }

    /// Whether a reading is due at `now` (at once the first time).
    pub fn due(&self, now: Instant) -> bool {
        self.next.is_none_or(|next| now >= next)
    }

    /// The latest leadership read, for mapping a partition to its broker.
    #[cfg(test)]
    pub fn current(&self) -> Option<&Leadership> {
        self.current.as_ref()
    }

    /// Reads with `read` if a reading is due, and says what changed.
    pub fn tick(
        &mut self,
        now: Instant,
        read: impl FnOnce() -> Result<Leadership, TransportError>,
    ) -> Vec<Notice> {
        if self.due(now) {
            self.observe(now, read())
        } else {
            Vec::new()
        }
    }

    /// Takes one reading made at `now`; the next is due `every` later.
    pub fn observe(
        &mut self,
        now: Instant,
        reading: Result<Leadership, TransportError>,
    ) -> Vec<Notice> {
        self.next = Some(now + self.every);
        let leadership = match reading {
            Ok(l) => l,
            Err(_) if self.unreadable => return Vec::new(),
            Err(err) => {
                self.unreadable = true;
                return vec![Notice::Unreadable(format!(
                    "cannot read the leaders of {}: {err}",
                    self.topic
                ))];
            }
        };
        self.unreadable = false;
        if !leadership.known {
            self.current = Some(leadership);
            return Vec::new();
        }
        let mut notices = Vec::new();
        if let Some(moved) = self
            .current
            .as_ref()
            .and_then(|old| moves(old, &leadership))
        {
            notices.push(Notice::Moved(format!(
                "leaders of {} moved: {moved}",
                self.topic
            )));
        }
        self.expected.extend(leadership.brokers.iter().copied());
        self.expected
            .extend(leadership.partitions.iter().filter_map(|p| p.leader));
        let warning = check_spread(&leadership, &self.expected, &self.topic, &self.bootstrap);
        match (&self.warning, &warning) {
            (old, Some(new)) if old.as_ref() != Some(new) => {
                notices.push(Notice::Warning(new.clone()))
            }
            (Some(_), None) => notices.push(Notice::Restored(format!(
                "every broker leads a partition of {} again",
                self.topic
            ))),
            _ => {}
        }
        self.warning = warning;
        self.current = Some(leadership);
        notices
    }
}

/// "partition 1: broker 2 -> 3, ..." for the partitions whose leader changed.
fn moves(old: &Leadership, new: &Leadership) -> Option<String> {
    let show = |l: Option<i32>| l.map_or("none".to_string(), |b| format!("broker {b}"));
    let changed: Vec<String> = new
        .partitions
        .iter()
        .filter_map(|p| {
            let before = old.partitions.iter().find(|o| o.partition == p.partition)?;
            (before.leader != p.leader).then(|| {
                format!(
                    "partition {}: {} -> {}",
                    p.partition,
                    show(before.leader),
                    show(p.leader)
                )
            })
        })
        .collect();
    (!changed.is_empty()).then(|| changed.join(", "))
}

mod brokers;
mod follow;
mod live;
mod voiced;
pub use brokers::PerBroker;
pub use follow::{follow, Following, READ_TIMEOUT};
pub use live::LiveLeaders;
pub use voiced::Voiced;

#[cfg(test)]
mod tests;
