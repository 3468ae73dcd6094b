//! The ApiVersions probe run before kafka-rust touches a broker.
//!
//! kafka-rust speaks only the oldest protocol versions (Produce v0, Fetch v0, ...)
//! and never asks the broker which it supports. Kafka 4.0 removed them (KIP-896) and
//! simply closes the connection, which kafka-rust reports as a bare EOF; librdkafka's
//! mock cluster advertises v0 but rejects anything but v2 record batches. So kmidi asks
//! first, with a raw ApiVersions v0 request under a connect/read timeout, and refuses
//! with a message that says why and what to use instead.

use kmidi_transport::TransportError;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};

use crate::props::Settings;
use crate::tls::{host_name, tls_connector};

const API_VERSIONS: i16 = 18;
const SASL_HANDSHAKE: i16 = 17;
const CREATE_TOPICS: i16 = 19;

/// The requests kafka-rust 0.10 sends, with the one version it sends of each.
pub(crate) const SPOKEN: &[(i16, &str, i16)] = &[
    (0, "Produce", 0),
    (1, "Fetch", 0),
    (2, "ListOffsets", 0),
    (3, "Metadata", 0),
    (8, "OffsetCommit", 1),
    (9, "OffsetFetch", 1),
    (10, "FindCoordinator", 0),
];

/// What one broker said it supports: (api key, min version, max version).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiVersions {
    pub broker: String,
    pub apis: Vec<(i16, i16, i16)>,
}

impl ApiVersions {
    fn range(&self, key: i16) -> Option<(i16, i16)> {
        self.apis
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|&(_, min, max)| (min, max))
    }

    /// One line for reports, e.g. "Produce v0-v11, Fetch v0-v16".
    pub fn summary(&self) -> String {
        SPOKEN
            .iter()
            .map(|&(key, name, _)| match self.range(key) {
                Some((min, max)) => format!("{name} v{min}-v{max}"),
                None => format!("{name} none"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Refuses a broker kafka-rust cannot work with, saying why.
    pub fn check(&self) -> Result<(), TransportError> {
        let mut too_new = Vec::new();
        for &(key, name, spoken) in SPOKEN {
            match self.range(key) {
                Some((min, max)) if min <= spoken && spoken <= max => {}
                Some((min, _)) => too_new.push(format!("{name} ≥ v{min}")),
                None => too_new.push(format!("{name} (not offered at all)")),
            }
        }
        if !too_new.is_empty() {
            let spoken: Vec<String> = SPOKEN
                .iter()
                .map(|(_, name, v)| format!("{name} v{v}"))
                .collect();
            return Err(TransportError::Client(format!(
                "the broker at {} requires {} but the kafka crate (kafka-rust) speaks only {} \
                 (Kafka 4.0 removed the v0 protocol, KIP-896; kafka-rust works with Kafka ≤ 3.9); \
                 use --transport rdkafka or a plugin",
                self.broker,
                too_new.join(", "),
                spoken.join(", ")
            )));
        }
        // Every Apache Kafka broker since 0.10.1 offers SaslHandshake and CreateTopics;
        // librdkafka's mock cluster offers neither, and it rejects the magic-0 message
        // sets kafka-rust writes with UNSUPPORTED_VERSION at the first note.
        if self.range(SASL_HANDSHAKE).is_none() && self.range(CREATE_TOPICS).is_none() {
            return Err(TransportError::Client(mock_cluster_refusal(&self.broker)));
        }
        Ok(())
    }
}

pub(crate) fn mock_cluster_refusal(broker: &str) -> String {
    format!(
        "the broker at {broker} is librdkafka's mock cluster, not Apache Kafka (its ApiVersions \
         offers neither SaslHandshake nor CreateTopics): it accepts only v2 record batches, and \
         the kafka crate (kafka-rust) writes only magic-0 messages; use --transport rdkafka \
         (as `kmidi demo` does by default) or a real Kafka ≤ 3.9 broker"
    )
}

fn request(correlation_id: i32, client_id: &str) -> Vec<u8> {
    let id = client_id.as_bytes();
    let id = &id[..id.len().min(i16::MAX as usize)];
    let mut body = Vec::with_capacity(10 + id.len());
    body.extend_from_slice(&API_VERSIONS.to_be_bytes());
    body.extend_from_slice(&0i16.to_be_bytes()); // api_version
    body.extend_from_slice(&correlation_id.to_be_bytes());
    body.extend_from_slice(&(id.len() as i16).to_be_bytes());
    body.extend_from_slice(id);
    let mut framed = (body.len() as i32).to_be_bytes().to_vec();
    framed.extend_from_slice(&body);
    framed
}

/// Parses an ApiVersions v0 response body (after the size prefix).
pub(crate) fn parse_response(
    broker: &str,
    correlation_id: i32,
    body: &[u8],
) -> Result<ApiVersions, String> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8], String> {
        let slice = body
            .get(at..at + n)
            .ok_or_else(|| "the ApiVersions answer is cut short".to_string())?;
        at += n;
        Ok(slice)
    };
    let i16_at = |b: &[u8]| i16::from_be_bytes([b[0], b[1]]);
    let got_id = take(4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))?;
    if got_id != correlation_id {
        return Err(format!(
            "the ApiVersions answer has correlation id {got_id}, not {correlation_id}"
        ));
    }
    let error = take(2).map(i16_at)?;
    let count = take(4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))?;
    // A broker that does not know v0 answers with error 35 and its own range for
    // ApiVersions; the key list is still there and still tells us enough.
    if error != 0 && error != 35 {
        return Err(format!(
            "the broker answered ApiVersions with error code {error}"
        ));
    }
    let count = usize::try_from(count).map_err(|_| format!("bad ApiVersions count {count}"))?;
    let mut apis = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let key = take(2).map(i16_at)?;
        let min = take(2).map(i16_at)?;
        let max = take(2).map(i16_at)?;
        apis.push((key, min, max));
    }
    Ok(ApiVersions {
        broker: broker.to_string(),
        apis,
    })
}

fn exchange<S: Read + Write>(
    mut stream: S,
    broker: &str,
    client_id: &str,
) -> Result<ApiVersions, String> {
    let correlation_id = 0x6b6d_6964; // "kmid"
    stream
        .write_all(&request(correlation_id, client_id))
        .map_err(|e| format!("sending ApiVersions: {e}"))?;
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).map_err(|e| {
        format!("the broker closed the connection or did not answer ApiVersions ({e})")
    })?;
    let size = i32::from_be_bytes(size);
    if !(6..=1 << 20).contains(&size) {
        return Err(format!(
            "the ApiVersions answer has an implausible size {size}: is this a Kafka listener?"
        ));
    }
    let mut body = vec![0u8; size as usize];
    stream
        .read_exact(&mut body)
        .map_err(|e| format!("reading the ApiVersions answer: {e}"))?;
    parse_response(broker, correlation_id, &body)
}

/// Asks the first bootstrap server that answers which API versions it supports.
pub(crate) fn probe(settings: &Settings) -> Result<ApiVersions, TransportError> {
    let timeout = settings.connect_timeout;
    let mut failures = Vec::new();
    let mut connected = false;
    for host in &settings.hosts {
        let addrs = match host.to_socket_addrs() {
            Ok(a) => a.collect::<Vec<_>>(),
            Err(e) => {
                failures.push(format!("{host}: cannot resolve: {e}"));
                continue;
            }
        };
        for addr in addrs {
            let stream = match TcpStream::connect_timeout(&addr, timeout) {
                Ok(s) => s,
                Err(e) => {
                    failures.push(format!("{host}: {e}"));
                    continue;
                }
            };
            connected = true;
            let _ = stream.set_read_timeout(Some(timeout));
            let _ = stream.set_write_timeout(Some(timeout));
            let answer = match &settings.tls {
                None => exchange(stream, host, &settings.client_id),
                Some(tls) => tls_connector(tls)
                    .and_then(|c| {
                        c.connect(host_name(host), stream).map_err(|e| {
                            TransportError::Client(format!("TLS handshake with {host}: {e}"))
                        })
                    })
                    .map_err(|e| e.to_string())
                    .and_then(|s| exchange(s, host, &settings.client_id)),
            };
            match answer {
                Ok(versions) => return Ok(versions),
                Err(e) => failures.push(format!("{host}: {e}")),
            }
        }
    }
    let detail = failures.join("; ");
    if connected {
        // Unreachable all the same for the user (nothing Kafka answers there), with
        // what was seen: a listener that accepts and stays silent.
        Err(TransportError::Unreachable {
            bootstrap: settings.bootstrap.clone(),
            timeout,
            detail: format!(
                "something accepted the connection but gave no usable ApiVersions answer: {detail}"
            ),
        })
    } else {
        Err(TransportError::Unreachable {
            bootstrap: settings.bootstrap.clone(),
            timeout,
            detail,
        })
    }
}

/// Probes and refuses an unusable broker: what producer(), consumer() and admin() run first.
pub(crate) fn require_compatible(settings: &Settings) -> Result<ApiVersions, TransportError> {
    let versions = probe(settings)?;
    versions.check()?;
    Ok(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(apis: &[(i16, i16, i16)]) -> Vec<u8> {
        let mut b = 7i32.to_be_bytes().to_vec();
        b.extend_from_slice(&0i16.to_be_bytes());
        b.extend_from_slice(&(apis.len() as i32).to_be_bytes());
        for (k, min, max) in apis {
            for v in [k, min, max] {
                b.extend_from_slice(&v.to_be_bytes());
            }
        }
        b
    }

    #[test]
    fn request_is_a_size_prefixed_api_versions_v0_header() {
        let r = request(7, "kmidi");
        assert_eq!(&r[..4], &(r.len() as i32 - 4).to_be_bytes());
        assert_eq!(&r[4..8], &[0, 18, 0, 0]);
        assert_eq!(&r[8..12], &7i32.to_be_bytes());
        assert_eq!(&r[12..14], &5i16.to_be_bytes());
        assert_eq!(&r[14..], b"kmidi");
    }

    #[test]
    fn kafka_3_9_is_accepted() {
        let v = parse_response(
            "b:1",
            7,
            &answer(&[
                (0, 0, 11),
                (1, 0, 17),
                (2, 0, 9),
                (3, 0, 12),
                (8, 0, 9),
                (9, 0, 9),
                (10, 0, 6),
                (17, 0, 1),
                (19, 0, 7),
            ]),
        )
        .unwrap();
        v.check().unwrap();
    }

    #[test]
    fn kafka_4_is_refused_naming_the_minimum_versions() {
        // Kafka 4.3.1's answer: Produce v0-v2 survived KIP-896, Fetch v0-v3 did not.
        let v = parse_response(
            "b:1",
            7,
            &answer(&[
                (0, 0, 13),
                (1, 4, 18),
                (2, 1, 10),
                (3, 0, 13),
                (8, 2, 10),
                (9, 1, 10),
                (10, 0, 6),
                (17, 0, 1),
                (19, 2, 7),
            ]),
        )
        .unwrap();
        let text = v.check().unwrap_err().to_string();
        assert!(
            text.contains("requires Fetch ≥ v4, ListOffsets ≥ v1, OffsetCommit ≥ v2 but"),
            "{text}"
        );
        assert!(
            text.contains("KIP-896") && text.contains("--transport rdkafka"),
            "{text}"
        );
    }

    #[test]
    fn the_mock_cluster_is_recognised_by_what_it_lacks() {
        let v = parse_response(
            "b:1",
            7,
            &answer(&[
                (0, 0, 10),
                (1, 0, 16),
                (2, 0, 7),
                (3, 0, 12),
                (8, 0, 9),
                (9, 0, 6),
                (10, 0, 3),
                (18, 0, 2),
            ]),
        )
        .unwrap();
        let text = v.check().unwrap_err().to_string();
        assert!(
            text.contains("librdkafka's mock cluster accepts only v2 record batches")
                || text.contains("accepts only v2 record batches"),
            "{text}"
        );
    }

    #[test]
    fn truncated_answers_are_errors_not_panics() {
        let full = answer(&[(0, 0, 11)]);
        for n in 0..full.len() {
            assert!(parse_response("b:1", 7, &full[..n]).is_err());
        }
        assert!(parse_response("b:1", 8, &full).is_err());
    }
}
