//! `compare --equalize`: the settings the ear hears (a producer's linger, a fetch's
//! wait) set alike on both sides where each library allows it, and an honest list of
//! what could not be. Each setting is tried on a throw-away client of the side's own
//! library first, so a library that refuses one refuses only that one, and the
//! effective values the connected clients report are compared afterwards: a library
//! that accepts a key and applies something else is caught there.

use kmidi_transport::{
    ClientConfig, OffsetReset, Subscription, Transport, CONSUMER_SETTINGS, PRODUCER_SETTINGS,
};

/// The equalized values: no linger (each note is sent at its time), every replica's
/// acknowledgement, and a fetch answered as soon as one note is there.
pub const TARGETS: &[(&str, &str)] = &[
    ("linger.ms", "0"),
    ("acks", "all"),
    ("fetch.min.bytes", "1"),
    ("fetch.wait.max.ms", "10"),
];

/// What `--equalize` does to one side.
#[derive(Debug, Default)]
pub struct Equalized {
    /// Set on this side.
    pub set: Vec<(String, String)>,
    /// Not set, with the reason.
    pub refused: Vec<String>,
}

/// Tries each target on throw-away clients of `transport`. A key the user set
/// explicitly (`-X`, `--xa`/`--xb`) is left as the user set it.
pub fn probe(
    transport: &dyn Transport,
    config: &ClientConfig,
    topic: &str,
    user_keys: &[String],
) -> Equalized {
    let mut out = Equalized::default();
    let subscription = Subscription {
        topics: vec![topic.to_string()],
        group: format!("kmidi-equalize-probe-{}", crate::ids::new_run_id()),
        offset_reset: OffsetReset::Latest,
    };
    for (key, value) in TARGETS {
        if user_keys.iter().any(|k| k == key) {
            out.refused
                .push(format!("{key}: set by -X/--xa/--xb, left as given"));
            continue;
        }
        let mut trial = config.clone();
        trial.set(*key, *value);
        let tried = if PRODUCER_SETTINGS.contains(key) {
            transport.producer(&trial).map(drop)
        } else {
            transport.consumer(&trial, &subscription).map(drop)
        };
        match tried {
            Ok(()) => out.set.push((key.to_string(), value.to_string())),
            Err(e) => out.refused.push(format!("{key}={value}: refused ({e})")),
        }
    }
    out
}

/// After connecting: the targets whose effective values still differ between the
/// sides, or that a side does not report, as `fetch.wait.max.ms: A 10, B not reported`.
/// A side's (producer, consumer) settings.
pub type Settings<'a> = (&'a [(String, String)], &'a [(String, String)]);

pub fn differences(labels: [&str; 2], sides: [Settings<'_>; 2]) -> Vec<String> {
    let value = |i: usize, key: &str| {
        let (producer, consumer) = sides[i];
        let list = if PRODUCER_SETTINGS.contains(&key) {
            producer
        } else {
            debug_assert!(CONSUMER_SETTINGS.contains(&key));
            consumer
        };
        list.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| normal(key, v))
    };
    let mut out = Vec::new();
    for (key, _) in TARGETS {
        let (a, b) = (value(0, key), value(1, key));
        if a.is_none() || b.is_none() || a != b {
            let show = |v: Option<String>| v.unwrap_or_else(|| "not reported".to_string());
            out.push(format!(
                "{key}: {} {}, {} {}",
                labels[0],
                show(a),
                labels[1],
                show(b)
            ));
        }
    }
    out
}

/// One spelling per value: librdkafka reports `acks=all` as `-1`.
fn normal(key: &str, value: &str) -> String {
    match (key, value) {
        ("acks" | "request.required.acks", "-1") => "all".to_string(),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sides_that_differ_or_do_not_report_are_named() {
        let pa = kv(&[("linger.ms", "0"), ("acks", "all")]);
        let ca = kv(&[("fetch.min.bytes", "1"), ("fetch.wait.max.ms", "10")]);
        let pb = kv(&[("linger.ms", "5"), ("acks", "-1")]);
        let cb = kv(&[("fetch.min.bytes", "1")]);
        let d = differences(["A", "B"], [(&pa, &ca), (&pb, &cb)]);
        assert_eq!(
            d,
            vec![
                "linger.ms: A 0, B 5".to_string(),
                "fetch.wait.max.ms: A 10, B not reported".to_string()
            ]
        );
    }
}
