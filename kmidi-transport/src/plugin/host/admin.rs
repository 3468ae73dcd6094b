//! A plugin's admin calls (`create_topic`, `topic_partitions`, `partition_leaders`):
//! each takes the client config and its own timeout, and runs on a helper thread
//! bounded by that timeout plus a grace period, since a plugin that ignores its timeout
//! cannot be interrupted.

use std::sync::Arc;
use std::time::Duration;

use super::call::{abandoned, millis, status_error};
use super::leaders::{self, Fetched};
use super::loader::Plugin;
use super::watchdog;
use crate::plugin::abi::{KMIDI_OK, KMIDI_TIMEOUT, KMIDI_UNSUPPORTED};
use crate::plugin::ffi::{c_string, errbuf_text, KvList, ERRBUF_LEN};
use crate::transport::unknown_leaders;
use crate::{Admin, Leadership, TopicSpec, TransportError};

/// Admin calls: the table's admin entries take the client config on every call.
pub(crate) struct PluginAdmin {
    plugin: Arc<Plugin>,
    kv: Arc<KvList>,
    bootstrap: String,
    grace: Duration,
}

impl PluginAdmin {
    pub(crate) fn new(plugin: Arc<Plugin>, kv: KvList, bootstrap: String, grace: Duration) -> Self {
        Self {
            plugin,
            kv: Arc::new(kv),
            bootstrap,
            grace,
        }
    }

    fn unreachable(&self, timeout: Duration, detail: String) -> TransportError {
        TransportError::Unreachable {
            bootstrap: self.bootstrap.clone(),
            timeout,
            detail: if detail.is_empty() {
                format!("no answer through the {} plugin", self.plugin.info.name)
            } else {
                detail
            },
        }
    }

    fn unsupported(&self, what: &str) -> TransportError {
        TransportError::Unsupported {
            transport: self.plugin.info.name.clone(),
            what: what.to_string(),
        }
    }
}

impl Admin for PluginAdmin {
    fn create_topic(&self, spec: &TopicSpec, timeout: Duration) -> Result<(), TransportError> {
        let Some(create) = self.plugin.table.0.create_topic else {
            return Err(self.unsupported("creating topics"));
        };
        let kv = Arc::clone(&self.kv);
        let topic = c_string("topic", &spec.name)?;
        let topic_config = KvList::new(spec.configs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let (partitions, replication) = (spec.partitions, spec.replication_factor);
        let deadline = timeout + self.grace;
        let outcome = watchdog::bounded(
            "create_topic",
            deadline,
            move || {
                let mut errbuf = vec![0u8; ERRBUF_LEN];
                // SAFETY: all pointers point into values this closure owns for the call.
                let rc = unsafe {
                    create(
                        kv.as_ptr(),
                        kv.len(),
                        topic.as_ptr(),
                        partitions,
                        replication,
                        topic_config.as_ptr(),
                        topic_config.len(),
                        millis(timeout),
                        errbuf.as_mut_ptr().cast(),
                        errbuf.len(),
                    )
                };
                (rc, errbuf_text(&errbuf))
            },
            |_| (),
        );
        match outcome {
            None => Err(abandoned(&self.plugin, "create_topic", deadline)),
            Some((KMIDI_OK, _)) => Ok(()),
            Some((KMIDI_TIMEOUT, detail)) => Err(TransportError::Unreachable {
                bootstrap: self.bootstrap.clone(),
                timeout,
                detail,
            }),
            Some((rc, detail)) => Err(status_error(
                &self.plugin,
                &format!("creating topic {:?}", spec.name),
                rc,
                detail,
            )),
        }
    }

    fn topic_partitions(
        &self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Option<i32>, TransportError> {
        let Some(partitions_fn) = self.plugin.table.0.topic_partitions else {
            return Err(self.unsupported("looking up topics (topic_partitions)"));
        };
        let kv = Arc::clone(&self.kv);
        let topic_c = c_string("topic", topic)?;
        let deadline = timeout + self.grace;
        let outcome = watchdog::bounded(
            "topic_partitions",
            deadline,
            move || {
                let mut errbuf = vec![0u8; ERRBUF_LEN];
                let mut partitions: i32 = -1;
                // SAFETY: all pointers point into values this closure owns for the call.
                let rc = unsafe {
                    partitions_fn(
                        kv.as_ptr(),
                        kv.len(),
                        topic_c.as_ptr(),
                        millis(timeout),
                        &mut partitions,
                        errbuf.as_mut_ptr().cast(),
                        errbuf.len(),
                    )
                };
                (rc, partitions, errbuf_text(&errbuf))
            },
            |_| (),
        );
        match outcome {
            None => Err(abandoned(&self.plugin, "topic_partitions", deadline)),
            Some((KMIDI_OK, n, _)) => Ok((n >= 0).then_some(n)),
            Some((KMIDI_TIMEOUT, _, detail)) => Err(self.unreachable(timeout, detail)),
            Some((rc, _, detail)) => Err(status_error(
                &self.plugin,
                &format!("looking up topic {topic:?}"),
                rc,
                detail,
            )),
        }
    }

    /// Through the appended `partition_leaders` entry; a plugin without it (NULL, or
    /// built against an older table) or answering KMIDI_UNSUPPORTED gets the trait's
    /// default, "unknown" with the partition count from `topic_partitions`.
    fn partition_leaders(
        &self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Leadership, TransportError> {
        let Some(entry) = self.plugin.table.0.partition_leaders else {
            return unknown_leaders(self, topic, timeout);
        };
        let kv = Arc::clone(&self.kv);
        let topic_c = c_string("topic", topic)?;
        let deadline = timeout + self.grace;
        let outcome = watchdog::bounded(
            "partition_leaders",
            deadline,
            // SAFETY: `entry` comes from a loaded plugin's table, and its library is
            // never unloaded.
            move || unsafe { leaders::fetch(entry, &kv, &topic_c, timeout) },
            |_| (),
        );
        match outcome {
            None => Err(abandoned(&self.plugin, "partition_leaders", deadline)),
            Some(Fetched::Known(leadership)) => Ok(leadership),
            Some(Fetched::Status(KMIDI_UNSUPPORTED, _)) => unknown_leaders(self, topic, timeout),
            Some(Fetched::Status(KMIDI_TIMEOUT, detail)) => Err(self.unreachable(timeout, detail)),
            Some(Fetched::Status(rc, detail)) => Err(status_error(
                &self.plugin,
                &format!("reading the partition leaders of topic {topic:?}"),
                rc,
                detail,
            )),
            Some(Fetched::Bogus(nonsense)) => Err(TransportError::Client(format!(
                "{} plugin: partition_leaders returned OK with {nonsense}",
                self.plugin.info.name
            ))),
        }
    }
}
