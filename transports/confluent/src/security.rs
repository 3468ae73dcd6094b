//! The security keys librdkafka users write, turned into what the Java client reads:
//! SASL PLAIN credentials as its JAAS line (PLAIN is confluent-kafka's only mechanism),
//! and a client certificate and key in two PEM files as its inline PEM keystore.

use std::collections::HashMap;

use kmidi_transport::{ClientConfig, TransportError};

use crate::config_error;

/// A value inside the JAAS line's double quotes: the Java parser reads `\"` and `\\`.
fn jaas_quoted(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

fn read_pem(key: &str, path: &str) -> Result<String, TransportError> {
    std::fs::read_to_string(path).map_err(|e| config_error(key, format!("cannot read {path}: {e}")))
}

/// librdkafka's `sasl.username`/`sasl.password` as the JAAS line of the Java client's
/// PLAIN login module (its only SASL mechanism); an explicit `sasl.jaas.config` wins.
pub(crate) fn credentials(
    config: &ClientConfig,
    out: &mut HashMap<String, String>,
) -> Result<(), TransportError> {
    let (user, password) = (config.get("sasl.username"), config.get("sasl.password"));
    if out.contains_key("sasl.jaas.config") || (user.is_none() && password.is_none()) {
        return Ok(());
    }
    let (Some(user), Some(password)) = (user, password) else {
        let missing = if user.is_none() {
            "sasl.username"
        } else {
            "sasl.password"
        };
        return Err(config_error(
            missing,
            "SASL PLAIN needs both sasl.username and sasl.password",
        ));
    };
    out.insert(
        "sasl.jaas.config".to_string(),
        format!(
            "org.apache.kafka.common.security.plain.PlainLoginModule required \
             username=\"{}\" password=\"{}\";",
            jaas_quoted(user),
            jaas_quoted(password)
        ),
    );
    Ok(())
}

/// librdkafka's client certificate and key files, read into the Java client's inline PEM
/// keystore (it takes one file holding both, librdkafka two).
pub(crate) fn client_identity(
    config: &ClientConfig,
    out: &mut HashMap<String, String>,
) -> Result<(), TransportError> {
    let cert = config.get("ssl.certificate.location");
    let key = config.get("ssl.key.location");
    match (cert, key) {
        (None, None) => Ok(()),
        (Some(cert), Some(key)) => {
            let chain = read_pem("ssl.certificate.location", cert)?;
            let key = read_pem("ssl.key.location", key)?;
            out.insert("ssl.keystore.certificate.chain".into(), chain);
            out.insert("ssl.keystore.key".into(), key);
            Ok(())
        }
        (Some(_), None) => Err(config_error(
            "ssl.certificate.location",
            "a client certificate needs its key too (ssl.key.location)",
        )),
        (None, Some(_)) => Err(config_error(
            "ssl.key.location",
            "a client key needs its certificate too (ssl.certificate.location)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> ClientConfig {
        pairs.iter().copied().collect()
    }

    #[test]
    fn sasl_plain_credentials_become_a_quoted_jaas_line() {
        let mut out = HashMap::new();
        credentials(
            &cfg(&[("sasl.username", "alice"), ("sasl.password", "p\"w\\d")]),
            &mut out,
        )
        .unwrap();
        assert!(out["sasl.jaas.config"].ends_with(r#"username="alice" password="p\"w\\d";"#));
        let err =
            credentials(&cfg(&[("sasl.username", "alice")]), &mut HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("sasl.password"), "{err}");
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        let config = cfg(&[("ssl.certificate.location", "/tmp/c.pem")]);
        let err = client_identity(&config, &mut HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("ssl.key.location"), "{err}");
    }
}
