//! The host side of a loaded plugin: [`PluginTransport`] implements [`Transport`] by
//! calling through the plugin's table, and its admin wrapper.
//!
//! Blocking policy. The host cannot preempt a native call that ignores its timeout.
//! Calls made before playback starts (producer_new, consumer_new, topic_partitions,
//! create_topic) and the one final `flush` run on a helper thread with a deadline
//! (the call's own timeout plus a grace period, or a fixed bound for constructors
//! which take none); past it the caller gets an error and the stuck call is abandoned
//! (see `watchdog`). `produce` and `poll` run directly on the caller's thread: they
//! are the hot path (a thread hop per note would cost the latency kmidi measures),
//! and a plugin that blocks there is stopped by the CLI's second Ctrl-C, which exits
//! at once.

use std::ffi::CString;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::plugin::abi::{
    kmidi_consumer, kmidi_producer, KMIDI_INVALID_ARG, KMIDI_OFFSET_EARLIEST, KMIDI_OFFSET_LATEST,
    KMIDI_OK, KMIDI_PANICKED, KMIDI_TIMEOUT, KMIDI_TRANSIENT, KMIDI_UNSUPPORTED,
};
use crate::plugin::ffi::{c_string, errbuf_text, KvList, ERRBUF_LEN};
use crate::plugin::handles::{PluginConsumer, PluginProducer};
use crate::plugin::loader::Plugin;
use crate::plugin::watchdog;
use crate::{
    Admin, ClientConfig, Consumer, OffsetReset, Producer, Subscription, TopicSpec, Transport,
    TransportError, TransportInfo,
};

/// How long the host waits for plugin calls before abandoning them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    /// Bound on `producer_new` / `consumer_new`, which take no timeout: they should
    /// only set a client up, not wait for the cluster.
    pub constructor: Duration,
    /// Added to a call's own timeout before the host stops waiting for it.
    pub grace: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            constructor: Duration::from_secs(30),
            grace: Duration::from_secs(5),
        }
    }
}

/// A raw pointer that may cross to the watchdog's helper thread.
#[derive(Debug)]
pub(crate) struct SendPtr<T>(pub *mut T);

// Manual impls: derive would require `T: Copy`, but only the pointer is copied.
impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SendPtr<T> {}

// SAFETY: the pointers sent are plugin handles; the ABI allows a handle to be used from
// any thread as long as only one thread uses it at a time, which the host guarantees by
// never touching a handle again once a helper thread was abandoned with it.
unsafe impl<T> Send for SendPtr<T> {}

/// A transport provided by a plugin. Cheap to clone; the library stays loaded forever.
#[derive(Clone, Debug)]
pub struct PluginTransport {
    plugin: Arc<Plugin>,
    deadlines: Deadlines,
}

impl PluginTransport {
    pub(crate) fn new(plugin: Arc<Plugin>) -> Self {
        Self {
            plugin,
            deadlines: Deadlines::default(),
        }
    }

    /// The file the plugin was loaded from.
    pub fn path(&self) -> &Path {
        &self.plugin.path
    }

    /// Replaces the default deadlines (tests use short ones).
    pub fn with_deadlines(mut self, deadlines: Deadlines) -> Self {
        self.deadlines = deadlines;
        self
    }
}

pub(crate) fn millis(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

/// The error for a status code other than OK/TIMEOUT, with the plugin's own text.
pub(crate) fn status_error(plugin: &Plugin, call: &str, rc: i32, detail: String) -> TransportError {
    let name = &plugin.info.name;
    let detail = if detail.is_empty() {
        "no details from the plugin".to_string()
    } else {
        detail
    };
    match rc {
        KMIDI_TRANSIENT => TransportError::Transient(detail),
        KMIDI_UNSUPPORTED => TransportError::Unsupported {
            transport: name.clone(),
            what: call.to_string(),
        },
        KMIDI_PANICKED => TransportError::Client(format!(
            "the {name} transport plugin panicked in {call}: {detail}"
        )),
        KMIDI_INVALID_ARG => {
            TransportError::Client(format!("{name} plugin: {call}: invalid argument: {detail}"))
        }
        _ => TransportError::Client(format!("{name} plugin: {call} failed: {detail}")),
    }
}

fn abandoned(plugin: &Plugin, call: &str, waited: Duration) -> TransportError {
    TransportError::Timeout {
        doing: format!(
            "waiting for the {} transport plugin ({}) to return from {call}; it ignored its \
             timeout and was abandoned (a blocked native call cannot be interrupted)",
            plugin.info.name,
            plugin.path.display()
        ),
        timeout: waited,
    }
}

impl PluginTransport {
    fn unsupported(&self, what: &str) -> TransportError {
        TransportError::Unsupported {
            transport: self.plugin.info.name.clone(),
            what: what.to_string(),
        }
    }
}

impl Transport for PluginTransport {
    fn info(&self) -> TransportInfo {
        self.plugin.info.clone()
    }

    fn producer(&self, config: &ClientConfig) -> Result<Box<dyn Producer>, TransportError> {
        let t = self.plugin.table.0;
        let (Some(new), Some(_), Some(_)) = (t.producer_new, t.produce, t.producer_free) else {
            return Err(self.unsupported("producing"));
        };
        let free = t.producer_free;
        let kv = KvList::from_config(config)?;
        let deadline = self.deadlines.constructor;
        let outcome = watchdog::bounded(
            "producer_new",
            deadline,
            move || {
                let mut out = SendPtr(std::ptr::null_mut::<kmidi_producer>());
                let mut errbuf = vec![0u8; ERRBUF_LEN];
                // SAFETY: kv's array and strings live until the call returns (kv is
                // owned by this closure); `out` and `errbuf` are valid for writes of
                // their sizes; `new` is the plugin's producer_new per the ABI.
                let rc = unsafe {
                    new(
                        kv.as_ptr(),
                        kv.len(),
                        &mut out.0,
                        errbuf.as_mut_ptr().cast(),
                        errbuf.len(),
                    )
                };
                (rc, out, errbuf_text(&errbuf))
            },
            move |(rc, out, _)| {
                if rc == KMIDI_OK && !out.0.is_null() {
                    if let Some(free) = free {
                        // SAFETY: a producer nobody else holds: the caller gave up on it.
                        unsafe { free(out.0) }
                    }
                }
            },
        );
        match outcome {
            None => Err(abandoned(&self.plugin, "producer_new", deadline)),
            Some((KMIDI_OK, out, _)) if !out.0.is_null() => Ok(Box::new(PluginProducer::new(
                Arc::clone(&self.plugin),
                out,
                self.deadlines.grace,
            ))),
            Some((KMIDI_OK, _, _)) => Err(TransportError::Client(format!(
                "{} plugin: producer_new returned OK but no producer",
                self.plugin.info.name
            ))),
            Some((rc, _, detail)) => Err(status_error(
                &self.plugin,
                "creating a producer",
                rc,
                detail,
            )),
        }
    }

    fn consumer(
        &self,
        config: &ClientConfig,
        subscription: &Subscription,
    ) -> Result<Box<dyn Consumer>, TransportError> {
        let t = self.plugin.table.0;
        let (Some(new), Some(_), Some(_)) = (t.consumer_new, t.poll, t.consumer_free) else {
            return Err(self.unsupported("consuming"));
        };
        let free = t.consumer_free;
        let kv = KvList::from_config(config)?;
        let group = c_string("group", &subscription.group)?;
        let topics: Vec<CString> = subscription
            .topics
            .iter()
            .map(|topic| c_string("topic", topic))
            .collect::<Result<_, _>>()?;
        let reset = match subscription.offset_reset {
            OffsetReset::Latest => KMIDI_OFFSET_LATEST,
            OffsetReset::Earliest => KMIDI_OFFSET_EARLIEST,
        };
        let deadline = self.deadlines.constructor;
        let outcome = watchdog::bounded(
            "consumer_new",
            deadline,
            move || {
                let topic_ptrs: Vec<*const std::ffi::c_char> =
                    topics.iter().map(|t| t.as_ptr()).collect();
                let mut out = SendPtr(std::ptr::null_mut::<kmidi_consumer>());
                let mut errbuf = vec![0u8; ERRBUF_LEN];
                // SAFETY: every pointer passed points into values owned by this closure
                // (kv, group, topics, topic_ptrs, errbuf, out) and alive for the call.
                let rc = unsafe {
                    new(
                        kv.as_ptr(),
                        kv.len(),
                        group.as_ptr(),
                        topic_ptrs.as_ptr(),
                        topic_ptrs.len(),
                        reset,
                        &mut out.0,
                        errbuf.as_mut_ptr().cast(),
                        errbuf.len(),
                    )
                };
                (rc, out, errbuf_text(&errbuf))
            },
            move |(rc, out, _)| {
                if rc == KMIDI_OK && !out.0.is_null() {
                    if let Some(free) = free {
                        // SAFETY: a consumer nobody else holds: the caller gave up on it.
                        unsafe { free(out.0) }
                    }
                }
            },
        );
        match outcome {
            None => Err(abandoned(&self.plugin, "consumer_new", deadline)),
            Some((KMIDI_OK, out, _)) if !out.0.is_null() => {
                Ok(Box::new(PluginConsumer::new(Arc::clone(&self.plugin), out)))
            }
            Some((KMIDI_OK, _, _)) => Err(TransportError::Client(format!(
                "{} plugin: consumer_new returned OK but no consumer",
                self.plugin.info.name
            ))),
            Some((rc, _, detail)) => Err(status_error(
                &self.plugin,
                "creating a consumer",
                rc,
                detail,
            )),
        }
    }

    fn admin(&self, config: &ClientConfig) -> Result<Box<dyn Admin>, TransportError> {
        let t = self.plugin.table.0;
        if t.topic_partitions.is_none() && t.create_topic.is_none() {
            return Err(self.unsupported("the admin API"));
        }
        Ok(Box::new(PluginAdmin {
            plugin: Arc::clone(&self.plugin),
            kv: Arc::new(KvList::from_config(config)?),
            bootstrap: config.bootstrap().to_string(),
            grace: self.deadlines.grace,
        }))
    }
}

/// Admin calls: the table's admin entries take the client config on every call.
struct PluginAdmin {
    plugin: Arc<Plugin>,
    kv: Arc<KvList>,
    bootstrap: String,
    grace: Duration,
}

impl PluginAdmin {
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
            Some((KMIDI_TIMEOUT, _, detail)) => Err(TransportError::Unreachable {
                bootstrap: self.bootstrap.clone(),
                timeout,
                detail: if detail.is_empty() {
                    format!("no answer through the {} plugin", self.plugin.info.name)
                } else {
                    detail
                },
            }),
            Some((rc, _, detail)) => Err(status_error(
                &self.plugin,
                &format!("looking up topic {topic:?}"),
                rc,
                detail,
            )),
        }
    }
}
