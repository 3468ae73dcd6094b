//! The embedded cluster `kmidi demo` and `kmidi compare` use when no `-b` is given:
//! librdkafka's in-process mock cluster. It is a test double shipped inside librdkafka,
//! not Apache Kafka, and exists only with the `rdkafka` feature.

#[cfg(feature = "rdkafka")]
pub use kmidi_rdkafka::mock::EmbeddedCluster;

/// What the embedded cluster is, for the command's header line.
pub const DESCRIPTION: &str = "librdkafka's in-process mock cluster";

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
