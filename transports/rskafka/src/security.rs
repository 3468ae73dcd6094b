//! TLS (rustls) and SASL (PLAIN, SCRAM-SHA-256/512) for rskafka, from librdkafka's
//! `security.protocol`, `ssl.*` and `sasl.*` properties.
//!
//! rustls is given its crypto provider (ring) explicitly instead of relying on a
//! process-wide default: this crate runs as a plugin inside a host that may have
//! installed another one, or none. Credentials never appear in `Debug` output.

use std::fmt;
use std::sync::Arc;

use kmidi_transport::TransportError;
use rskafka::client::{Credentials, SaslConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A property refused, naming the key. Here rather than in `props`, which refuses
/// properties the same way, because `props` hands the security ones to this module:
/// the dependency runs props -> security only.
pub(crate) fn bad(key: &str, reason: &str) -> TransportError {
    TransportError::Config {
        key: key.to_string(),
        reason: reason.to_string(),
    }
}

/// What rskafka's `ClientBuilder` needs for a secured connection.
#[derive(Clone, Default)]
pub struct Security {
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub sasl: Option<SaslConfig>,
}

impl fmt::Debug for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SaslConfig's own Debug prints the password.
        let sasl = match &self.sasl {
            None => "none",
            Some(SaslConfig::Plain(_)) => "PLAIN",
            Some(SaslConfig::ScramSha256(_)) => "SCRAM-SHA-256",
            Some(SaslConfig::ScramSha512(_)) => "SCRAM-SHA-512",
            Some(_) => "other",
        };
        f.debug_struct("Security")
            .field("tls", &self.tls.is_some())
            .field("sasl", &sasl)
            .finish()
    }
}

/// The security properties as given, checked together in [`Builder::build`].
#[derive(Default)]
pub struct Builder {
    protocol: Option<String>,
    ca: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    mechanism: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

impl Builder {
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), TransportError> {
        let v = Some(value.to_string());
        match key {
            "security.protocol" => self.protocol = Some(value.to_ascii_lowercase()),
            "ssl.ca.location" => self.ca = v,
            "ssl.certificate.location" => self.cert = v,
            "ssl.key.location" => self.key = v,
            "sasl.mechanism" | "sasl.mechanisms" => {
                self.mechanism = Some(value.to_ascii_uppercase())
            }
            "sasl.username" => self.username = v,
            "sasl.password" => self.password = v,
            other => return Err(bad(other, "not a security property")),
        }
        Ok(())
    }

    pub fn build(self) -> Result<Security, TransportError> {
        let (tls, sasl) = match self.protocol.as_deref().unwrap_or("plaintext") {
            "plaintext" => (false, false),
            "ssl" => (true, false),
            "sasl_plaintext" => (false, true),
            "sasl_ssl" => (true, true),
            other => {
                return Err(bad(
                    "security.protocol",
                    &format!("expected plaintext, ssl, sasl_plaintext or sasl_ssl, got {other:?}"),
                ))
            }
        };
        let tls = if tls { Some(self.tls_config()?) } else { None };
        let sasl = if sasl {
            Some(self.sasl_config()?)
        } else {
            None
        };
        Ok(Security { tls, sasl })
    }

    fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, TransportError> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.ca {
            Some(path) => {
                for cert in read_certs("ssl.ca.location", path)? {
                    roots.add(cert).map_err(|e| {
                        bad(
                            "ssl.ca.location",
                            &format!("unusable certificate in {path}: {e}"),
                        )
                    })?;
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                let (added, _) = roots.add_parsable_certificates(found.certs);
                if added == 0 {
                    return Err(bad(
                        "ssl.ca.location",
                        "no system CA certificates found; give the broker's CA as a PEM file",
                    ));
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError::Client(format!("rustls: {e}")))?
            .with_root_certificates(roots);
        let config = match (&self.cert, &self.key) {
            (None, None) => builder.with_no_client_auth(),
            (Some(cert), Some(key)) => {
                let chain = read_certs("ssl.certificate.location", cert)?;
                let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                    bad(
                        "ssl.key.location",
                        &format!("cannot read a PEM private key from {key}: {e}"),
                    )
                })?;
                builder
                    .with_client_auth_cert(chain, key_der)
                    .map_err(|e| bad("ssl.certificate.location", &format!("{e}")))?
            }
            (Some(_), None) => {
                return Err(bad(
                    "ssl.key.location",
                    "needed with ssl.certificate.location",
                ))
            }
            (None, Some(_)) => {
                return Err(bad(
                    "ssl.certificate.location",
                    "needed with ssl.key.location",
                ))
            }
        };
        Ok(Arc::new(config))
    }

    fn sasl_config(&self) -> Result<SaslConfig, TransportError> {
        let (Some(user), Some(password)) = (&self.username, &self.password) else {
            return Err(bad(
                "sasl.username",
                "sasl.username and sasl.password are both needed for SASL",
            ));
        };
        let creds = Credentials::new(user.clone(), password.clone());
        match self.mechanism.as_deref().unwrap_or("PLAIN") {
            "PLAIN" => Ok(SaslConfig::Plain(creds)),
            "SCRAM-SHA-256" => Ok(SaslConfig::ScramSha256(creds)),
            "SCRAM-SHA-512" => Ok(SaslConfig::ScramSha512(creds)),
            other => Err(bad(
                "sasl.mechanism",
                &format!(
                    "rskafka here supports PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, not {other:?}"
                ),
            )),
        }
    }
}

fn read_certs(key: &str, path: &str) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            bad(
                key,
                &format!("cannot read PEM certificates from {path}: {e}"),
            )
        })?;
    if certs.is_empty() {
        return Err(bad(key, &format!("no PEM certificate in {path}")));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sasl_needs_credentials_and_never_shows_them() {
        let mut b = Builder::default();
        b.set("security.protocol", "SASL_PLAINTEXT").unwrap();
        b.set("sasl.mechanism", "SCRAM-SHA-512").unwrap();
        b.set("sasl.username", "alice").unwrap();
        b.set("sasl.password", "hunter2").unwrap();
        let s = b.build().unwrap();
        let shown = format!("{s:?}");
        assert!(
            shown.contains("SCRAM-SHA-512") && !shown.contains("hunter2"),
            "{shown}"
        );

        let mut b = Builder::default();
        b.set("security.protocol", "sasl_ssl").unwrap();
        assert!(matches!(b.build(), Err(TransportError::Config { .. })));
    }

    #[test]
    fn missing_ca_file_names_the_property() {
        let mut b = Builder::default();
        b.set("security.protocol", "ssl").unwrap();
        b.set("ssl.ca.location", "/nonexistent/ca.pem").unwrap();
        match b.build() {
            Err(TransportError::Config { key, .. }) => assert_eq!(key, "ssl.ca.location"),
            other => panic!("{other:?}"),
        }
    }
}
