//! Telling the user that the cluster has no KIP-848 group protocol. librdkafka 2.12,
//! asked for `group.protocol=consumer` by a broker without it (Kafka 3.9), reports
//! nothing to the application: polls just come back empty while it retries the
//! coordinator, and its only trace is a `cgrp` debug line. This context turns that
//! debug context on for such consumers, keeps its lines out of the log (unless the
//! user asked for `debug` too), and remembers the refusal so `poll` can fail with it.

use std::sync::Mutex;

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::ClientContext;

/// The line librdkafka logs, repeatedly, when the broker lacks the protocol.
const UNSUPPORTED: &str = "ConsumerGroupHeartbeatRequest not supported by broker";

/// The consumer's context: librdkafka's log, watched.
#[derive(Default)]
pub struct GroupWatch {
    /// Forward `cgrp` debug lines too: the user asked for them with `-X debug=...`.
    pub user_debug: bool,
    refused: Mutex<Option<String>>,
}

impl GroupWatch {
    pub fn new(user_debug: bool) -> Self {
        Self {
            user_debug,
            refused: Mutex::new(None),
        }
    }

    /// The broker's refusal of the consumer protocol, once librdkafka has seen it.
    pub fn refusal(&self) -> Option<String> {
        let seen = self.refused.lock().ok()?.clone()?;
        Some(format!(
            "group.protocol=consumer needs a broker with the KIP-848 consumer group \
             protocol (Apache Kafka 4.0 or newer), which this cluster does not offer: use \
             group.protocol=classic (librdkafka: {seen})"
        ))
    }
}

// Lines read as rust-rdkafka's own context writes them (`librdkafka: FAC message`),
// so a consumer's log looks like every other client's.
impl ClientContext for GroupWatch {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        if let Some(at) = log_message.find(UNSUPPORTED) {
            if let Ok(mut r) = self.refused.lock() {
                // From "Local: Required feature ..." on: the cause, without the group.
                let cause = log_message[..at]
                    .rfind("Local:")
                    .map_or(UNSUPPORTED, |from| {
                        &log_message[from..at + UNSUPPORTED.len()]
                    });
                r.get_or_insert_with(|| cause.to_string());
            }
        }
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", "librdkafka: {fac} {log_message}")
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(target: "librdkafka", "librdkafka: {fac} {log_message}")
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", "librdkafka: {fac} {log_message}")
            }
            RDKafkaLogLevel::Debug if self.user_debug => {
                tracing::debug!(target: "librdkafka", "librdkafka: {fac} {log_message}")
            }
            RDKafkaLogLevel::Debug => {}
        }
    }
}

impl ConsumerContext for GroupWatch {}

/// `debug` for a consumer: `cgrp` added when it asks for the consumer protocol, so
/// the refusal can be seen. Returns the value and whether the user asked for debug.
pub fn debug_for(group_protocol: Option<&str>, user: Option<&str>) -> (Option<String>, bool) {
    let user_debug = user.is_some_and(|d| !d.trim().is_empty());
    if group_protocol != Some("consumer") {
        return (user.map(str::to_string), user_debug);
    }
    let value = match user {
        Some(d) if d.split(',').any(|c| matches!(c.trim(), "cgrp" | "all")) => d.to_string(),
        Some(d) if user_debug => format!("{d},cgrp"),
        _ => "cgrp".to_string(),
    };
    (Some(value), user_debug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_read_from_librdkafkas_debug_line() {
        let watch = GroupWatch::default();
        assert_eq!(watch.refusal(), None);
        watch.log(
            RDKafkaLogLevel::Debug,
            "COORD",
            "Group \"g\": marking the coordinator (1) dead: Local: Required feature not \
             supported by broker: ConsumerGroupHeartbeatRequest not supported by broker",
        );
        let r = watch.refusal().unwrap_or_default();
        assert!(
            r.starts_with("group.protocol=consumer needs a broker"),
            "{r}"
        );
        assert!(
            r.ends_with(
                "(librdkafka: Local: Required feature not supported by broker: \
                         ConsumerGroupHeartbeatRequest not supported by broker)"
            ),
            "{r}"
        );
    }

    #[test]
    fn cgrp_debugging_is_added_only_for_the_consumer_protocol() {
        assert_eq!(debug_for(Some("classic"), None), (None, false));
        assert_eq!(debug_for(None, Some("fetch")), (Some("fetch".into()), true));
        assert_eq!(
            debug_for(Some("consumer"), None),
            (Some("cgrp".into()), false)
        );
        assert_eq!(
            debug_for(Some("consumer"), Some("fetch")),
            (Some("fetch,cgrp".into()), true)
        );
        assert_eq!(
            debug_for(Some("consumer"), Some("all")),
            (Some("all".into()), true)
        );
    }
}
