//! The host side of a loaded plugin: [`PluginTransport`] implements [`Transport`] by
//! calling through the plugin's table (its admin calls are in `admin`).
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

use super::admin::PluginAdmin;
use super::call::{abandoned, status_error, SendPtr};
use super::consumer::PluginConsumer;
use super::handles::PluginProducer;
use super::loader::Plugin;
use super::watchdog;
use crate::plugin::abi::{KMIDI_OFFSET_EARLIEST, KMIDI_OFFSET_LATEST, KMIDI_OK};
use crate::plugin::ffi::{c_string, errbuf_text, KvList, ERRBUF_LEN};
use crate::{
    Admin, ClientConfig, Consumer, OffsetReset, Producer, Subscription, Transport, TransportError,
    TransportInfo,
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

    /// The table's entries: which are there, which the host needs.
    pub fn entries(&self) -> Vec<super::Entry> {
        super::entries::entries(&self.plugin.table.0)
    }

    /// The required entries the table leaves NULL.
    pub fn missing_required(&self) -> Vec<&'static str> {
        self.entries()
            .into_iter()
            .filter(|e| e.required && !e.present)
            .map(|e| e.name)
            .collect()
    }

    /// Replaces the default deadlines (tests use short ones).
    pub fn with_deadlines(mut self, deadlines: Deadlines) -> Self {
        self.deadlines = deadlines;
        self
    }
}

impl PluginTransport {
    fn unsupported(&self, what: &str) -> TransportError {
        TransportError::Unsupported {
            transport: self.plugin.info.name.clone(),
            what: what.to_string(),
        }
    }

    /// Runs a constructor entry (`call`, creating `what`) under the constructor
    /// deadline. `new(out, errbuf)` makes the native call; a handle it returns after
    /// the host gave up is freed with `free`, never used.
    fn construct<T: 'static>(
        &self,
        call: &'static str,
        what: &str,
        free: Option<unsafe extern "C" fn(*mut T)>,
        new: impl FnOnce(&mut *mut T, &mut [u8]) -> i32 + Send + 'static,
    ) -> Result<SendPtr<T>, TransportError> {
        let deadline = self.deadlines.constructor;
        let outcome = watchdog::bounded(
            call,
            deadline,
            move || {
                let mut out = SendPtr(std::ptr::null_mut::<T>());
                let mut errbuf = vec![0u8; ERRBUF_LEN];
                let rc = new(&mut out.0, &mut errbuf);
                (rc, out, errbuf_text(&errbuf))
            },
            move |(rc, out, _)| {
                if rc == KMIDI_OK && !out.0.is_null() {
                    if let Some(free) = free {
                        // SAFETY: a handle nobody else holds: the caller gave up on it.
                        unsafe { free(out.0) }
                    }
                }
            },
        );
        match outcome {
            None => Err(abandoned(&self.plugin, call, deadline)),
            Some((KMIDI_OK, out, _)) if !out.0.is_null() => Ok(out),
            Some((KMIDI_OK, _, _)) => Err(TransportError::Client(format!(
                "{} plugin: {call} returned OK but no {}",
                self.plugin.info.name,
                what.trim_start_matches("a ")
            ))),
            Some((rc, _, detail)) => Err(status_error(
                &self.plugin,
                &format!("creating {what}"),
                rc,
                detail,
            )),
        }
    }
}

impl Transport for PluginTransport {
    fn info(&self) -> TransportInfo {
        self.plugin.info.clone()
    }

    fn producer(&self, config: &ClientConfig) -> Result<Box<dyn Producer>, TransportError> {
        Ok(Box::new(self.plugin_producer(config)?))
    }

    fn consumer(
        &self,
        config: &ClientConfig,
        subscription: &Subscription,
    ) -> Result<Box<dyn Consumer>, TransportError> {
        Ok(Box::new(self.plugin_consumer(config, subscription)?))
    }

    fn admin(&self, config: &ClientConfig) -> Result<Box<dyn Admin>, TransportError> {
        let t = self.plugin.table.0;
        if t.topic_partitions.is_none() && t.create_topic.is_none() && t.partition_leaders.is_none()
        {
            return Err(self.unsupported("the admin API"));
        }
        Ok(Box::new(PluginAdmin::new(
            Arc::clone(&self.plugin),
            KvList::from_config(config)?,
            config.bootstrap().to_string(),
            self.deadlines.grace,
        )))
    }
}

impl PluginTransport {
    /// A producer as its concrete type, for the conformance pass's raw probes.
    pub(super) fn plugin_producer(
        &self,
        config: &ClientConfig,
    ) -> Result<PluginProducer, TransportError> {
        let t = self.plugin.table.0;
        let (Some(new), Some(_), Some(_)) = (t.producer_new, t.produce, t.producer_free) else {
            return Err(self.unsupported("producing"));
        };
        let kv = KvList::from_config(config)?;
        let handle = self.construct(
            "producer_new",
            "a producer",
            t.producer_free,
            move |out, errbuf| {
                // SAFETY: kv's array and strings live until the call returns (kv is owned by
                // this closure); `out` and `errbuf` are valid for writes of their sizes;
                // `new` is the plugin's producer_new per the ABI.
                unsafe {
                    new(
                        kv.as_ptr(),
                        kv.len(),
                        out,
                        errbuf.as_mut_ptr().cast(),
                        errbuf.len(),
                    )
                }
            },
        )?;
        Ok(PluginProducer::new(
            Arc::clone(&self.plugin),
            handle,
            self.deadlines.grace,
        ))
    }

    /// A consumer as its concrete type, for the conformance pass's raw probes.
    pub(super) fn plugin_consumer(
        &self,
        config: &ClientConfig,
        subscription: &Subscription,
    ) -> Result<PluginConsumer, TransportError> {
        let t = self.plugin.table.0;
        let (Some(new), Some(_), Some(_)) = (t.consumer_new, t.poll, t.consumer_free) else {
            return Err(self.unsupported("consuming"));
        };
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
        let handle = self.construct(
            "consumer_new",
            "a consumer",
            t.consumer_free,
            move |out, errbuf| {
                let topic_ptrs: Vec<*const std::ffi::c_char> =
                    topics.iter().map(|t| t.as_ptr()).collect();
                // SAFETY: every pointer passed points into values owned by this closure (kv,
                // group, topics, topic_ptrs) or lent by `construct` (out, errbuf), all alive
                // for the call.
                unsafe {
                    new(
                        kv.as_ptr(),
                        kv.len(),
                        group.as_ptr(),
                        topic_ptrs.as_ptr(),
                        topic_ptrs.len(),
                        reset,
                        out,
                        errbuf.as_mut_ptr().cast(),
                        errbuf.len(),
                    )
                }
            },
        )?;
        Ok(PluginConsumer::new(Arc::clone(&self.plugin), handle))
    }
}
