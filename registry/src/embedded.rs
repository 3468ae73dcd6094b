//! The embedded cluster `kmidi demo` and `kmidi compare` use when no `-b` is given:
//! librdkafka's in-process mock cluster. It is a test double shipped inside librdkafka,
//! not Apache Kafka, and exists only with the `rdkafka` feature.

#[cfg(feature = "rdkafka")]
pub use kmidi_rdkafka::mock::EmbeddedCluster;

/// What the embedded cluster is, for the command's header line.
pub const DESCRIPTION: &str = "librdkafka's in-process mock cluster";

/// Why a built-in transport cannot play on the embedded cluster, if it cannot: the
/// mock answers what librdkafka asks, not every request of every client. Checked
/// before connecting, so the user reads the reason instead of a connect timeout.
/// Plugins are not listed: they are tried, and say what went wrong.
pub fn refusal(transport: &str) -> Option<String> {
    match transport {
        // Seen with confluent-kafka 1.0: it never gets the mock's metadata (its
        // connection is throttled for minutes) and times out.
        "confluent" => Some(format!(
            "the confluent transport cannot play on {DESCRIPTION} (Confluent's native \
             client never gets metadata from it): play it on a real Kafka 4 cluster with \
             -b (kmidi compare, player or instrument; scripts/kafka.sh start 4.3.1 9092 \
             starts one here), or pick another transport for the embedded default"
        )),
        _ => None,
    }
}

/// Without the `rdkafka` feature there is no embedded cluster; the commands that need
/// one say so instead of failing to compile.
#[cfg(not(feature = "rdkafka"))]
pub struct EmbeddedCluster(std::convert::Infallible);

#[cfg(not(feature = "rdkafka"))]
impl EmbeddedCluster {
    pub fn start(_brokers: i32) -> Result<Self, kmidi_transport::TransportError> {
        Err(kmidi_transport::TransportError::Client(
            "this kmidi was built without the rdkafka feature, which provides the embedded \
             mock cluster: give a real cluster with -b, or rebuild with --features rdkafka"
                .to_string(),
        ))
    }

    pub fn bootstrap(&self) -> String {
        match self.0 {}
    }

    pub fn create_topic(
        &self,
        _name: &str,
        _partitions: i32,
    ) -> Result<(), kmidi_transport::TransportError> {
        match self.0 {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_transports_the_mock_cannot_serve_are_refused() {
        let why = refusal("confluent").expect("refused");
        assert!(
            why.contains("-b") && why.contains("kafka.sh start"),
            "{why}"
        );
        assert_eq!(refusal("rdkafka"), None);
        assert_eq!(refusal("kafka-rust"), None);
    }
}
