//! From command-line options to a ready transport: client properties (from `-b`, a
//! `--config` file and `-X`), and the bounded-time check that the cluster answers and
//! the topic exists, so a wrong address or topic is an error in seconds instead of a
//! silent hang.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use kmidi_registry::embedded::{self, EmbeddedCluster};
use kmidi_transport::{
    ClientConfig, TopicSpec, Transport, TransportError, CONSUMER_SETTINGS, PRODUCER_SETTINGS,
};

use crate::cli::{KafkaArgs, TransportArgs};

/// `-b`'s default; a `bootstrap.servers` in a `--config` file replaces only this.
pub const DEFAULT_BOOTSTRAP: &str = "localhost:9092";

/// The client properties, lowest precedence first: the default bootstrap, the
/// `--config` file, `-X`. A given `-b` also wins over the file's `bootstrap.servers`,
/// so "the file, but against that other cluster" works.
pub fn client_config(
    bootstrap: Option<&str>,
    file: Option<&Path>,
    props: &[String],
) -> Result<ClientConfig> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap.unwrap_or(DEFAULT_BOOTSTRAP));
    if let Some(path) = file {
        for (k, v) in read_config_file(path)? {
            if k == "bootstrap.servers" && bootstrap.is_some() {
                continue;
            }
            config.set(k, v);
        }
    }
    for arg in props {
        let (k, v) = ClientConfig::parse_pair(arg).context("in -X")?;
        config.set(k, v);
    }
    Ok(config)
}

/// The client properties of a command that talks to Kafka: `-b`, `--config`, `-X`.
pub fn kafka_config(args: &KafkaArgs) -> Result<ClientConfig> {
    client_config(
        args.bootstrap.bootstrap.as_deref(),
        args.client.config.as_deref(),
        &args.client.props,
    )
}

/// Keys only a consumer has beyond the reported [`CONSUMER_SETTINGS`], by librdkafka's
/// names: a session that gives one set of properties to both its clients keeps all of
/// them from the producer (librdkafka warns about each, and a strict plugin may refuse
/// them).
const MORE_CONSUMER_ONLY: &[&str] = &[
    "group.remote.assignor",
    "group.instance.id",
    "max.poll.interval.ms",
    "enable.auto.commit",
    "auto.commit.interval.ms",
    "auto.offset.reset",
];
/// Keys only a producer has beyond [`PRODUCER_SETTINGS`], kept from the consumer likewise.
const MORE_PRODUCER_ONLY: &[&str] = &["queue.buffering.max.ms"];

/// One set of properties as a producer's and a consumer's.
pub fn split_roles(config: &ClientConfig) -> (ClientConfig, ClientConfig) {
    let (mut producer, mut consumer) = (config.clone(), config.clone());
    for key in CONSUMER_SETTINGS.iter().chain(MORE_CONSUMER_ONLY) {
        producer.remove(key);
    }
    for key in PRODUCER_SETTINGS.iter().chain(MORE_PRODUCER_ONLY) {
        consumer.remove(key);
    }
    (producer, consumer)
}

/// The transport `--transport` names, searching `--plugin-dir` for plugins.
pub fn transport(args: &TransportArgs) -> Result<Box<dyn Transport>> {
    Ok(kmidi_registry::resolve(
        &args.transport,
        &args.plugins.plugin_dirs,
    )?)
}

/// The cluster a command plays on: the one `-b` names, or (without `-b`) the embedded
/// mock cluster, started here and kept alive as long as the returned value.
pub struct Cluster {
    pub bootstrap: String,
    pub embedded: Option<EmbeddedCluster>,
}

impl Cluster {
    pub fn given_or_embedded(bootstrap: Option<&str>) -> Result<Self> {
        match bootstrap {
            Some(b) => Ok(Self {
                bootstrap: b.to_string(),
                embedded: None,
            }),
            None => {
                let c = EmbeddedCluster::start(1)?;
                Ok(Self {
                    bootstrap: c.bootstrap(),
                    embedded: Some(c),
                })
            }
        }
    }

    /// Refuses, before connecting, a transport the embedded cluster cannot serve.
    pub fn check_transport(&self, transport: &str) -> Result<()> {
        match (&self.embedded, embedded::refusal(transport)) {
            (Some(_), Some(why)) => anyhow::bail!(why),
            _ => Ok(()),
        }
    }

    /// For a command's header line.
    pub fn describe(&self) -> String {
        match &self.embedded {
            Some(_) => format!("{} ({})", embedded::DESCRIPTION, self.bootstrap),
            None => self.bootstrap.clone(),
        }
    }
}

/// Reads a librdkafka/kcat-style properties file, warning when others can read it:
/// it usually holds `sasl.password`.
pub fn read_config_file(path: &Path) -> Result<Vec<(String, String)>> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the --config file {shown}"))?;
    if let Some(mode) = loose_mode(path) {
        eprintln!(
            "warning: {shown} is readable by other users (mode {mode:03o}) and may hold \
             credentials; run `chmod 600 {shown}`"
        );
    }
    parse_config_text(&text, &shown.to_string())
}

/// The permission bits, if group or others have any access.
#[cfg(unix)]
fn loose_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn loose_mode(_path: &Path) -> Option<u32> {
    None
}

/// One `key=value` per line; `#` starts a comment line; blank lines are skipped; a
/// value may contain `=`. A bad line is reported as `origin:line` without its text,
/// which may be a mistyped password.
pub fn parse_config_text(text: &str, origin: &str) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{origin}:{}", i + 1);
        let Some((key, value)) = line.split_once('=') else {
            anyhow::bail!(
                "{}: expected key=value (e.g. sasl.mechanism=SCRAM-SHA-256), found a line without '='",
                at()
            );
        };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            anyhow::bail!(
                "{}: expected a property name before '=' (e.g. security.protocol=SASL_SSL)",
                at()
            );
        }
        pairs.push((key.to_string(), value.trim().to_string()));
    }
    Ok(pairs)
}

/// Checks reachability and the topic; returns its partition count.
pub fn check_topic(
    transport: &dyn Transport,
    config: &ClientConfig,
    topic: &str,
    timeout: Duration,
) -> Result<i32> {
    let admin = transport
        .admin(config)
        .map_err(|e| with_security_hint(config, e))?;
    match admin.topic_partitions(topic, timeout) {
        Ok(Some(n)) => Ok(n),
        Ok(None) => Err(TransportError::TopicMissing {
            topic: topic.to_string(),
            bootstrap: config.bootstrap().to_string(),
        }
        .into()),
        Err(err) => Err(with_security_hint(config, err)),
    }
}

/// `topic create`, with the same hint as [`check_topic`] on an unreachable cluster.
/// The controller has the topic once CreateTopics returns, but a broker's metadata can
/// trail it by a moment: this waits (within `timeout`) until the same admin client
/// sees it, so a `kmidi player` run right after finds it. A topic that stays invisible
/// is a warning: the creation itself succeeded.
pub fn create_topic(
    transport: &dyn Transport,
    config: &ClientConfig,
    spec: &TopicSpec,
    timeout: Duration,
) -> Result<()> {
    let started = std::time::Instant::now();
    let admin = transport
        .admin(config)
        .map_err(|e| with_security_hint(config, e))?;
    admin
        .create_topic(spec, timeout)
        .map_err(|err| with_security_hint(config, err))?;
    while started.elapsed() < timeout {
        let left = timeout.saturating_sub(started.elapsed());
        if let Ok(Some(_)) = admin.topic_partitions(&spec.name, left) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "warning: topic {} was created but is not in the cluster's metadata yet after {} s; \
         a player started now may not find it",
        spec.name,
        timeout.as_secs()
    );
    Ok(())
}

/// Also redacts: a client library's error text may quote a secret it was given.
fn with_security_hint(config: &ClientConfig, err: TransportError) -> anyhow::Error {
    let text = config.redact(&err.to_string());
    match (&err, security_hint(config)) {
        (TransportError::Unreachable { .. }, Some(hint)) => anyhow::anyhow!("{text}\n  {hint}"),
        _ => anyhow::anyhow!(text),
    }
}

/// Some clients (librdkafka among them) report refused credentials or a failed TLS
/// handshake only as "cannot reach": say what else to check when security is on.
fn security_hint(config: &ClientConfig) -> Option<String> {
    let protocol = config.get("security.protocol").unwrap_or("plaintext");
    if protocol.eq_ignore_ascii_case("plaintext") {
        return None;
    }
    let mut hint = format!("security.protocol is {protocol}");
    if protocol.to_ascii_lowercase().starts_with("sasl") {
        hint.push_str(&format!(
            ": if a broker listens there, check sasl.mechanism ({}), sasl.username ({}) and \
             sasl.password (not shown)",
            config.get("sasl.mechanism").unwrap_or("unset"),
            config.get("sasl.username").unwrap_or("unset"),
        ));
    }
    if protocol.to_ascii_lowercase().ends_with("ssl") {
        hint.push_str(&format!(
            "; check that the listener speaks TLS and that ssl.ca.location ({}) signed its \
             certificate",
            config.get("ssl.ca.location").unwrap_or("unset"),
        ));
    }
    Some(hint)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn write(text: &str, mode: u32) -> tempfile::NamedTempFile {
        use std::os::unix::fs::PermissionsExt;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        f
    }

    #[test]
    fn config_text_skips_comments_and_blank_lines_and_keeps_equals_in_values() {
        let pairs = parse_config_text(
            "# kcat style\n\n  security.protocol = SASL_SSL \nsasl.jaas.config=a=b\n",
            "f",
        )
        .unwrap();
        assert_eq!(
            pairs,
            vec![
                ("security.protocol".into(), "SASL_SSL".into()),
                ("sasl.jaas.config".into(), "a=b".into())
            ]
        );
    }

    #[test]
    fn a_bad_line_names_file_and_line_but_not_its_text() {
        let err = parse_config_text("a=1\n\nsasl.password hunter2\n", "sec.conf")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("sec.conf:3: expected key=value"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let err = parse_config_text("=x\n", "f").unwrap_err().to_string();
        assert!(err.starts_with("f:1: expected a property name"), "{err}");
    }

    #[test]
    fn command_line_x_overrides_the_file_and_the_file_overrides_defaults() {
        let f = write(
            "linger.ms=7\nsasl.username=file\nclient.id=from-file\n",
            0o600,
        );
        let x = vec!["sasl.username=cli".to_string()];
        let c = client_config(None, Some(f.path()), &x).unwrap();
        assert_eq!(c.get("sasl.username"), Some("cli"));
        assert_eq!(c.get("linger.ms"), Some("7"));
        assert_eq!(c.get("client.id"), Some("from-file"));
    }

    #[test]
    fn file_bootstrap_replaces_only_a_b_not_given() {
        let f = write("bootstrap.servers=file:9093\n", 0o600);
        let c = client_config(None, Some(f.path()), &[]).unwrap();
        assert_eq!(c.bootstrap(), "file:9093");
        let c = client_config(Some("cli:9094"), Some(f.path()), &[]).unwrap();
        assert_eq!(c.bootstrap(), "cli:9094");
    }

    #[test]
    fn loose_permissions_are_detected_and_600_is_not() {
        assert_eq!(loose_mode(write("a=1\n", 0o644).path()), Some(0o644));
        assert_eq!(loose_mode(write("a=1\n", 0o640).path()), Some(0o640));
        assert_eq!(loose_mode(write("a=1\n", 0o600).path()), None);
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let err =
            client_config(Some("x:1"), Some(Path::new("/nonexistent/k.conf")), &[]).unwrap_err();
        assert!(
            format!("{err:#}").contains("--config file /nonexistent/k.conf"),
            "{err:#}"
        );
    }

    #[test]
    fn the_security_hint_names_settings_but_never_the_password() {
        let c: ClientConfig = [
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-256"),
            ("sasl.username", "alice"),
            ("sasl.password", "hunter2"),
        ]
        .into_iter()
        .collect();
        let hint = security_hint(&c).unwrap();
        assert!(
            hint.contains("SCRAM-SHA-256") && hint.contains("alice"),
            "{hint}"
        );
        assert!(hint.contains("ssl.ca.location"), "{hint}");
        assert!(!hint.contains("hunter2"), "{hint}");
        assert_eq!(security_hint(&ClientConfig::new()), None);
    }
}
