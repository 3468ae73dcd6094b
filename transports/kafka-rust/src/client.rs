//! One kafka-rust `KafkaClient` and the policy that rebuilds it.
//!
//! kafka-rust pools one connection per broker and never drops a broken one: once the
//! broker closes it, every later call fails with BrokenPipe forever. A [`Session`]
//! therefore throws the client away on connection errors and builds a new one (probe
//! first, so a broker replaced by a Kafka 4 one is refused, not retried), a bounded
//! number of times per call. It also turns kafka-rust's errors into words: nobody
//! should ever read a bare "UnexpectedEof".

use std::io::ErrorKind;
use std::time::Duration;

use kafka::client::{GroupOffsetStorage, KafkaClient, SecurityConfig};
use kafka::error::KafkaCode;
use kmidi_transport::TransportError;

use crate::probe;
use crate::props::Settings;
use crate::tls::tls_connector;

/// Rebuilds tried within one call before reporting a transient error.
pub(crate) const MAX_REBUILDS: u32 = 3;
const REBUILD_BACKOFF: Duration = Duration::from_millis(200);

/// A fresh client with kmidi's settings and the cluster's metadata loaded.
pub(crate) fn build(settings: &Settings, group_offsets: bool) -> Result<KafkaClient, kafka::Error> {
    let mut client = match &settings.tls {
        None => KafkaClient::new(settings.hosts.clone()),
        Some(tls) => {
            // Already validated by the probe; a failure here is reported as I/O.
            let connector = tls_connector(tls).map_err(|e| {
                kafka::Error::Io(std::io::Error::new(ErrorKind::InvalidInput, e.to_string()))
            })?;
            KafkaClient::new_secure(
                settings.hosts.clone(),
                SecurityConfig::new(connector).with_hostname_verification(tls.verify_hostname),
            )
        }
    };
    client.set_client_id(settings.client_id.clone());
    client.set_fetch_min_bytes(settings.fetch_min_bytes);
    client.set_fetch_max_wait_time(settings.fetch_max_wait)?;
    client.set_fetch_max_bytes_per_partition(settings.max_partition_fetch_bytes);
    // kafka-rust retries a missing group coordinator 1200 times (2 minutes); a fresh
    // broker creates __consumer_offsets in seconds, so 10 s is plenty.
    client.set_retry_max_attempts(100);
    if group_offsets {
        client.set_group_offset_storage(Some(GroupOffsetStorage::Kafka));
    }
    // Metadata v0 for named topics auto-creates them on brokers that allow it; asking
    // for all topics creates nothing, so a typo in `-t` stays a typo.
    client.load_metadata_all()?;
    Ok(client)
}

/// True for errors after which kafka-rust's pooled connection is unusable.
pub(crate) fn is_connection_error(err: &kafka::Error) -> bool {
    matches!(
        err,
        kafka::Error::Io(_) | kafka::Error::NoHostReachable | kafka::Error::UnexpectedEOF
    ) || matches!(err, kafka::Error::Ssl(_))
}

/// True for broker answers that fresh metadata may cure (a leader moved).
pub(crate) fn is_stale_metadata(code: KafkaCode) -> bool {
    matches!(
        code,
        KafkaCode::NotLeaderForPartition
            | KafkaCode::LeaderNotAvailable
            | KafkaCode::UnknownTopicOrPartition
            | KafkaCode::NotCoordinatorForGroup
            | KafkaCode::GroupCoordinatorNotAvailable
            | KafkaCode::RequestTimedOut
            | KafkaCode::NetworkException
    )
}

/// kafka-rust's error in words, with the cause a user can act on.
pub(crate) fn describe(err: &kafka::Error) -> String {
    match err {
        kafka::Error::Io(e) => match e.kind() {
            ErrorKind::BrokenPipe
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::UnexpectedEof => format!("the broker closed the connection ({e})"),
            ErrorKind::TimedOut | ErrorKind::WouldBlock => {
                "no answer from the broker within kafka-rust's 120 s socket timeout".to_string()
            }
            ErrorKind::ConnectionRefused => format!("connection refused ({e})"),
            _ => format!("I/O error talking to the broker: {e}"),
        },
        kafka::Error::UnexpectedEOF => {
            "the broker's answer was cut short (a broker that does not speak the v0 protocol?)"
                .to_string()
        }
        kafka::Error::NoHostReachable => "no bootstrap server reachable".to_string(),
        kafka::Error::Kafka(code) => format!("the broker answered {code:?}"),
        kafka::Error::TopicPartitionError {
            topic_name,
            partition_id,
            error_code,
        } => format!("the broker answered {error_code:?} for {topic_name}[{partition_id}]"),
        other => other.to_string(),
    }
}

/// A kafka-rust client that is rebuilt after the broker drops its connection.
pub(crate) struct Session {
    pub settings: Settings,
    group_offsets: bool,
    client: Option<KafkaClient>,
}

impl Session {
    /// A session around an already built client.
    pub fn new(settings: Settings, group_offsets: bool, client: KafkaClient) -> Self {
        Self {
            settings,
            group_offsets,
            client: Some(client),
        }
    }

    pub fn client(&mut self) -> Option<&mut KafkaClient> {
        self.client.as_mut()
    }

    /// Runs `op`, rebuilding the client on connection errors (bounded).
    pub fn run<T>(
        &mut self,
        doing: &str,
        mut op: impl FnMut(&mut KafkaClient) -> kafka::Result<T>,
    ) -> Result<T, TransportError> {
        let settings = self.settings.clone();
        let group_offsets = self.group_offsets;
        retry_with_rebuild(
            &mut self.client,
            || {
                probe::require_compatible(&settings)?;
                build(&settings, group_offsets).map_err(|e| {
                    TransportError::Transient(format!(
                        "reconnecting to {}: {}",
                        settings.bootstrap,
                        describe(&e)
                    ))
                })
            },
            &mut op,
            MAX_REBUILDS,
            REBUILD_BACKOFF,
        )
        .map_err(|e| match e {
            Failure::Op(err) if is_connection_error(&err) => TransportError::Transient(format!(
                "{doing}: {} (gave up after {MAX_REBUILDS} reconnects; will keep trying)",
                describe(&err)
            )),
            // A broker that has just restarted may not lead its partitions yet: fresh
            // metadata, a moment later, cures it.
            Failure::Op(kafka::Error::Kafka(code)) if is_stale_metadata(code) => {
                TransportError::Transient(format!(
                    "{doing}: {} (stale metadata; will retry)",
                    describe(&kafka::Error::Kafka(code))
                ))
            }
            Failure::Op(err) => TransportError::Client(format!("{doing}: {}", describe(&err))),
            Failure::Connect(err) => err,
        })
    }
}

/// Why [`retry_with_rebuild`] gave up.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The operation failed (after the allowed rebuilds, if a connection error).
    Op(kafka::Error),
    /// Building a new client failed; a refusal (Kafka 4) is not retried.
    Connect(TransportError),
}

/// The rebuild policy, generic over the client so it can be tested without a broker:
/// a connection error drops the client, and the next attempt builds a new one, at
/// most `max_rebuilds` times. Any other error is returned at once.
pub(crate) fn retry_with_rebuild<C, T>(
    slot: &mut Option<C>,
    mut connect: impl FnMut() -> Result<C, TransportError>,
    op: &mut impl FnMut(&mut C) -> kafka::Result<T>,
    max_rebuilds: u32,
    backoff: Duration,
) -> Result<T, Failure> {
    let mut rebuilds = 0;
    loop {
        if slot.is_none() {
            if rebuilds > 0 {
                std::thread::sleep(backoff * rebuilds);
            }
            match connect() {
                Ok(c) => *slot = Some(c),
                // A broker that is still away: worth another try within the bound.
                Err(TransportError::Unreachable { .. } | TransportError::Transient(_))
                    if rebuilds < max_rebuilds =>
                {
                    rebuilds += 1;
                    continue;
                }
                Err(e) => return Err(Failure::Connect(e)),
            }
        }
        let Some(client) = slot.as_mut() else {
            continue;
        };
        match op(client) {
            Ok(v) => return Ok(v),
            Err(e) if is_connection_error(&e) => {
                tracing::debug!(
                    "kafka-rust connection lost ({}); rebuilding the client",
                    describe(&e)
                );
                *slot = None;
                if rebuilds >= max_rebuilds {
                    return Err(Failure::Op(e));
                }
                rebuilds += 1;
            }
            Err(e) => return Err(Failure::Op(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn broken() -> kafka::Error {
        kafka::Error::Io(io::Error::new(ErrorKind::BrokenPipe, "Broken pipe"))
    }

    /// A fake client: a generation number, and how many calls fail before success.
    struct Fake(u32);

    #[test]
    fn a_broken_pipe_rebuilds_the_client_and_retries() {
        let mut slot = Some(Fake(0));
        let mut builds = 0;
        let mut op = |c: &mut Fake| if c.0 == 0 { Err(broken()) } else { Ok(c.0) };
        let got = retry_with_rebuild(
            &mut slot,
            || {
                builds += 1;
                Ok(Fake(builds))
            },
            &mut op,
            3,
            Duration::ZERO,
        );
        assert_eq!(got.unwrap(), 1, "the call succeeds on the rebuilt client");
        assert_eq!(builds, 1);
    }

    #[test]
    fn rebuilds_are_bounded_and_the_error_is_kept() {
        let mut slot = Some(Fake(0));
        let mut builds = 0;
        let mut op = |_: &mut Fake| -> kafka::Result<()> { Err(broken()) };
        let got = retry_with_rebuild(
            &mut slot,
            || {
                builds += 1;
                Ok(Fake(0))
            },
            &mut op,
            3,
            Duration::ZERO,
        );
        assert!(matches!(got, Err(Failure::Op(kafka::Error::Io(_)))));
        assert_eq!(builds, 3);
        assert!(slot.is_none(), "the broken client is not kept");
    }

    #[test]
    fn broker_errors_and_refusals_are_not_retried() {
        let mut slot = Some(Fake(0));
        let mut op = |_: &mut Fake| -> kafka::Result<()> {
            Err(kafka::Error::Kafka(KafkaCode::MessageSizeTooLarge))
        };
        let got = retry_with_rebuild(&mut slot, || Ok(Fake(0)), &mut op, 3, Duration::ZERO);
        assert!(matches!(got, Err(Failure::Op(kafka::Error::Kafka(_)))));

        let mut slot: Option<Fake> = None;
        let mut op = |_: &mut Fake| -> kafka::Result<()> { Ok(()) };
        let got = retry_with_rebuild(
            &mut slot,
            || Err(TransportError::Client("requires Produce ≥ v3".into())),
            &mut op,
            3,
            Duration::ZERO,
        );
        assert!(matches!(
            got,
            Err(Failure::Connect(TransportError::Client(_)))
        ));
    }

    #[test]
    fn errors_are_described_without_a_bare_eof() {
        let eof = kafka::Error::Io(io::Error::from(ErrorKind::UnexpectedEof));
        assert!(describe(&eof).contains("closed the connection"));
        assert!(describe(&kafka::Error::UnexpectedEOF).contains("cut short"));
    }
}
