//! Client properties in librdkafka's `key=value` style, as users pass them with `-X`.
//!
//! Values of secret-looking keys never leave this module in clear text through
//! `Debug` or [`ClientConfig::redacted`], so they cannot end up in logs or errors.

use std::fmt;

use crate::TransportError;

/// An ordered list of client properties; a later `set` of the same key wins.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientConfig {
    entries: Vec<(String, String)>,
}

/// Property keys whose values are credentials.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("password") || k.contains("secret") || k.ends_with(".key.pem") || k.contains("token")
}

impl ClientConfig {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses one `key=value` argument (the value may itself contain `=`).
    pub fn parse_pair(arg: &str) -> Result<(String, String), TransportError> {
        match arg.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => {
                let key = arg.split('=').next().unwrap_or_default();
                // `-X "sasl.password hunter2"` has no `=`: echoing the "key" would print
                // the password.
                let key = if is_secret_key(key) {
                    "(a secret property; text not shown)"
                } else {
                    key
                };
                Err(TransportError::Config {
                    key: key.to_string(),
                    reason: "expected key=value, e.g. -X linger.ms=0".to_string(),
                })
            }
        }
    }

    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let key = key.into();
        let value = value.into();
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.entries.push((key, value));
        }
        self
    }

    /// Sets `key` only if the user did not set it: kmidi's defaults never override `-X`.
    pub fn set_default(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        if self.get(key).is_none() {
            self.entries.push((key.to_string(), value.into()));
        }
        self
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        let pos = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(pos).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `bootstrap.servers`, or the original kmidi's default.
    pub fn bootstrap(&self) -> &str {
        self.get("bootstrap.servers").unwrap_or("localhost:9092")
    }

    /// `text` with the value of every secret property replaced by `***`: for error
    /// texts from client libraries that may quote what they were given.
    pub fn redact(&self, text: &str) -> String {
        self.iter()
            .filter(|(k, v)| is_secret_key(k) && !v.is_empty())
            .fold(text.to_string(), |t, (_, v)| t.replace(v, "***"))
    }

    /// The properties as `key=value` text with every secret replaced by `***`.
    pub fn redacted(&self) -> Vec<String> {
        self.iter()
            .map(|(k, v)| {
                if is_secret_key(k) {
                    format!("{k}=***")
                } else {
                    format!("{k}={v}")
                }
            })
            .collect()
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.redacted()).finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for ClientConfig {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut c = ClientConfig::new();
        for (k, v) in iter {
            c.set(k, v);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_keeps_equals_signs_in_the_value() {
        let (k, v) = ClientConfig::parse_pair("sasl.jaas.config=a=b").unwrap();
        assert_eq!((k.as_str(), v.as_str()), ("sasl.jaas.config", "a=b"));
    }

    #[test]
    fn pair_without_equals_is_refused_with_an_example() {
        let err = ClientConfig::parse_pair("linger.ms")
            .unwrap_err()
            .to_string();
        assert!(err.contains("key=value"), "{err}");
    }

    #[test]
    fn later_set_wins_and_defaults_never_override_the_user() {
        let mut c = ClientConfig::new();
        c.set("linger.ms", "5").set("linger.ms", "7");
        c.set_default("linger.ms", "0");
        assert_eq!(c.get("linger.ms"), Some("7"));
        assert_eq!(c.iter().count(), 1);
    }

    #[test]
    fn a_secret_pair_without_equals_is_refused_without_echoing_it() {
        let err = ClientConfig::parse_pair("sasl.password hunter2")
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("hunter2") && err.contains("key=value"),
            "{err}"
        );
    }

    #[test]
    fn redact_hides_every_secret_value_in_a_text() {
        let c: ClientConfig = [("sasl.password", "hunter2"), ("sasl.username", "alice")]
            .into_iter()
            .collect();
        let text = c.redact("auth failed for alice with hunter2 (hunter2)");
        assert_eq!(text, "auth failed for alice with *** (***)");
    }

    #[test]
    fn secrets_never_show_in_debug_or_redacted_output() {
        let c: ClientConfig = [("sasl.password", "hunter2"), ("sasl.username", "alice")]
            .into_iter()
            .collect();
        let shown = format!("{c:?} {:?}", c.redacted());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("alice"), "{shown}");
    }
}
