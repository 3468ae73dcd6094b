//! The TLS connector kmidi's kafka-rust clients use, built from the `ssl.*`
//! properties. Both the probe, which speaks to a broker before kafka-rust does, and
//! `client`, which hands the connector to kafka-rust, need it; it lives below both so
//! that `client` can call the probe without the probe calling back into `client`.

use kmidi_transport::TransportError;
use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode};

use crate::props::Tls;

/// The host part of a `host:port` bootstrap entry, for certificate verification.
pub(crate) fn host_name(host: &str) -> &str {
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

/// An OpenSSL connector with the CA, client certificate and verification the `ssl.*`
/// properties ask for; a file OpenSSL refuses is a `Config` error naming its property.
pub(crate) fn tls_connector(tls: &Tls) -> Result<SslConnector, TransportError> {
    let ssl = |key: &str, e: openssl::error::ErrorStack| TransportError::Config {
        key: key.to_string(),
        reason: format!("OpenSSL refused it: {e}"),
    };
    let mut b = SslConnector::builder(SslMethod::tls()).map_err(|e| ssl("security.protocol", e))?;
    if let Some(ca) = &tls.ca_location {
        b.set_ca_file(ca).map_err(|e| ssl("ssl.ca.location", e))?;
    }
    if let (Some(cert), Some(key)) = (&tls.certificate_location, &tls.key_location) {
        b.set_certificate_file(cert, SslFiletype::PEM)
            .map_err(|e| ssl("ssl.certificate.location", e))?;
        b.set_private_key_file(key, SslFiletype::PEM)
            .map_err(|e| ssl("ssl.key.location", e))?;
    }
    if !tls.verify_certificate {
        b.set_verify(SslVerifyMode::NONE);
    }
    Ok(b.build())
}
