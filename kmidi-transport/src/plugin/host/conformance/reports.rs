//! The conformance pass's points for the optional reporting entries appended to the
//! first v1 table: "settings" (`producer_settings` / `consumer_settings`: every line
//! `key=value`, every key one the host lists) and "assignment" (`consumer_assignment`
//! after the round trip: OK, and only partitions of the checked topic). An entry the
//! plugin does not provide is a `skip`, never a failure: all three are optional.

use super::super::consumer::PluginConsumer;
use super::super::handles::PluginProducer;
use super::super::loader::Plugin;
use super::super::queries::{fetch_assignment, Refusal};
use super::{point, Outcome, Point};
use crate::plugin::abi::{KMIDI_OK, KMIDI_PANICKED, KMIDI_UNSUPPORTED};
use crate::plugin::ffi::lossy;
use crate::{CONSUMER_SETTINGS, PRODUCER_SETTINGS};

/// What one settings entry said, or what is wrong with it.
fn settings_of(side: &str, text: Option<String>, listed: &[&str]) -> Result<String, String> {
    let text = text.unwrap_or_default();
    let mut pairs = Vec::new();
    let mut wrong = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match line.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                let key = key.trim();
                if !listed.contains(&key) {
                    wrong.push(format!("key {key:?} is not one the host lists"));
                }
                pairs.push(format!("{key}={}", value.trim()));
            }
            _ => wrong.push(format!("line {line:?} is not key=value")),
        }
    }
    if !wrong.is_empty() {
        return Err(format!(
            "{side}: {} (listed: {})",
            wrong.join("; "),
            listed.join(", ")
        ));
    }
    Ok(if pairs.is_empty() {
        format!("{side}: none reported")
    } else {
        format!("{side}: {}", pairs.join(", "))
    })
}

/// "settings": each settings entry present returns `key=value` lines with listed keys.
pub(super) fn settings(
    plugin: &Plugin,
    producer: &PluginProducer,
    consumer: &PluginConsumer,
) -> Point {
    let t = plugin.table.0;
    if t.producer_settings.is_none() && t.consumer_settings.is_none() {
        return point(
            "settings",
            Outcome::Skip,
            "optional, not provided (producer_settings and consumer_settings are NULL: \
             the effective settings are \"not reported\")",
        );
    }
    let producer_said = match t.producer_settings {
        // SAFETY: a live producer handle used by this thread only; the returned text is
        // borrowed until the next call on it and copied at once.
        Some(f) => settings_of(
            "producer",
            unsafe { lossy(f(producer.raw())) },
            PRODUCER_SETTINGS,
        ),
        None => Ok("producer: not provided".into()),
    };
    let consumer_said = match t.consumer_settings {
        // SAFETY: as above, for the consumer handle.
        Some(f) => settings_of(
            "consumer",
            unsafe { lossy(f(consumer.raw())) },
            CONSUMER_SETTINGS,
        ),
        None => Ok("consumer: not provided".into()),
    };
    let (said, wrong): (Vec<_>, Vec<_>) = [producer_said, consumer_said]
        .into_iter()
        .partition(Result::is_ok);
    let said: Vec<String> = said.into_iter().flatten().collect();
    let wrong: Vec<String> = wrong.into_iter().filter_map(Result::err).collect();
    if wrong.is_empty() {
        point("settings", Outcome::Pass, said.join("; "))
    } else {
        point("settings", Outcome::Fail, wrong.join("; "))
    }
}

/// "assignment": after the round trip, `consumer_assignment` returns OK and names only
/// partitions of `topic`.
pub(super) fn assignment(
    plugin: &Plugin,
    consumer: &PluginConsumer,
    topic: &str,
    delivered: bool,
) -> Point {
    let what = "assignment";
    let Some(entry) = plugin.table.0.consumer_assignment else {
        return point(
            what,
            Outcome::Skip,
            "optional, not provided (consumer_assignment is NULL: the host does not see \
             the assignment, so `demo` and `compare` do not wait for one)",
        );
    };
    if !delivered {
        return point(what, Outcome::Skip, "needs the round trip");
    }
    // SAFETY: a live consumer handle used by this thread only, not poisoned (every
    // earlier call on it returned); `fetch_assignment` copies what it borrows.
    match unsafe { fetch_assignment(entry, consumer.raw()) } {
        Ok(parts) if parts.is_empty() => point(
            what,
            Outcome::Pass,
            "returned OK with no partitions (after the round trip, the partition the \
             records came from was expected)",
        ),
        Ok(parts) => {
            let foreign: Vec<String> = parts
                .iter()
                .filter(|(t, _)| t != topic)
                .map(|(t, p)| format!("{t}[{p}]"))
                .collect();
            let named: Vec<String> = parts.iter().map(|(t, p)| format!("{t}[{p}]")).collect();
            if foreign.is_empty() {
                point(
                    what,
                    Outcome::Pass,
                    format!("returned OK: {}", named.join(", ")),
                )
            } else {
                point(
                    what,
                    Outcome::Fail,
                    format!(
                        "names partitions of topics the consumer did not subscribe to: {} \
                         (checked topic {topic})",
                        foreign.join(", ")
                    ),
                )
            }
        }
        Err(Refusal::Status(KMIDI_UNSUPPORTED)) => point(
            what,
            Outcome::Pass,
            "KMIDI_UNSUPPORTED: this consumer cannot tell (the host treats it as a NULL \
             entry for this consumer)",
        ),
        Err(Refusal::Status(rc)) => {
            let text = plugin
                .table
                .0
                .consumer_last_error
                // SAFETY: same handle; the text is copied before any other call.
                .and_then(|f| unsafe { lossy(f(consumer.raw())) })
                .unwrap_or_else(|| "no details from the plugin".into());
            let expected = if rc == KMIDI_PANICKED {
                " (it panicked: the consumer is poisoned)"
            } else {
                ""
            };
            point(
                what,
                Outcome::Fail,
                format!("status {rc}, expected KMIDI_OK ({KMIDI_OK}){expected}: {text}"),
            )
        }
        Err(Refusal::Bogus(nonsense)) => {
            point(what, Outcome::Fail, format!("returned OK with {nonsense}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::settings_of;

    #[test]
    fn listed_key_value_settings_pass_and_are_echoed() {
        let got = settings_of(
            "producer",
            Some("linger.ms=0\nacks=all\n".into()),
            &["linger.ms", "acks"],
        );
        assert_eq!(got, Ok("producer: linger.ms=0, acks=all".to_string()));
    }

    #[test]
    fn unlisted_keys_and_malformed_lines_fail_the_settings_point() {
        let got = settings_of(
            "consumer",
            Some("bogus=1\nnot a pair\n".into()),
            &["fetch.min.bytes"],
        )
        .expect_err("two problems");
        assert!(
            got.contains("\"bogus\"") && got.contains("not key=value"),
            "{got}"
        );
    }

    #[test]
    fn empty_settings_are_none_reported() {
        assert_eq!(
            settings_of("consumer", None, &[]),
            Ok("consumer: none reported".to_string())
        );
    }
}
