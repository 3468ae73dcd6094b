//! The tokio runtime each handle owns, and building an rskafka client in bounded time.
//!
//! rskafka is async. A plugin cannot share the host's tokio runtime (it is a different
//! copy of tokio inside the `.so`), so every producer, consumer and admin handle builds
//! its own small runtime and drops it with the handle. rskafka's `ClientBuilder::build`
//! retries an unreachable broker for as long as its backoff allows (for ever by
//! default), so it always runs under a timeout here.

use std::time::Duration;

use kmidi_transport::TransportError;
use rskafka::client::{Client, ClientBuilder};
use tokio::runtime::Runtime;

use crate::props::Settings;

/// A runtime with one worker thread, so background tasks (the producer's per-partition
/// senders, the consumer's fetchers) make progress between the caller's calls.
pub fn background_runtime(what: &str) -> Result<Runtime, TransportError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(format!("kmidi-rskafka-{what}"))
        .enable_all()
        .build()
        .map_err(|e| TransportError::Client(format!("cannot start a tokio runtime: {e}")))
}

/// A runtime that runs only inside `block_on`, for admin calls.
pub fn call_runtime() -> Result<Runtime, TransportError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| TransportError::Client(format!("cannot start a tokio runtime: {e}")))
}

/// Builds the client (which fetches the cluster's metadata), at most `timeout`.
pub async fn connect(settings: &Settings, timeout: Duration) -> Result<Client, TransportError> {
    let mut builder = ClientBuilder::new(settings.brokers.clone())
        .client_id(settings.client_id.as_str())
        .backoff_config(settings.backoff(settings.request_deadline));
    if let Some(tls) = &settings.security.tls {
        builder = builder.tls_config(tls.clone());
    }
    if let Some(sasl) = &settings.security.sasl {
        builder = builder.sasl_config(sasl.clone());
    }
    match tokio::time::timeout(timeout, builder.build()).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(err)) => Err(connect_error(settings, timeout, err)),
        Err(_) => Err(TransportError::Unreachable {
            bootstrap: settings.bootstrap.clone(),
            timeout,
            detail: "no broker answered with cluster metadata".to_string(),
        }),
    }
}

fn connect_error(
    settings: &Settings,
    timeout: Duration,
    err: rskafka::client::error::Error,
) -> TransportError {
    use rskafka::client::error::Error as E;
    use rskafka::ConnectionError as C;
    match err {
        E::Connection(C::SaslFailed(e)) => TransportError::Client(format!(
            "SASL authentication with {} failed: {e}",
            settings.bootstrap
        )),
        other => TransportError::Unreachable {
            bootstrap: settings.bootstrap.clone(),
            timeout,
            detail: other.to_string(),
        },
    }
}

/// Runs `fut` on `rt` for at most `timeout`; `doing` names it in the timeout error.
pub fn block_on_bounded<T>(
    rt: &Runtime,
    timeout: Duration,
    doing: &str,
    fut: impl std::future::Future<Output = Result<T, TransportError>>,
) -> Result<T, TransportError> {
    rt.block_on(async {
        tokio::time::timeout(timeout, fut)
            .await
            .unwrap_or_else(|_| {
                Err(TransportError::Timeout {
                    doing: doing.to_string(),
                    timeout,
                })
            })
    })
}

/// Kafka's protocol error in an rskafka error, if the broker sent one.
pub fn protocol_error(
    err: &rskafka::client::error::Error,
) -> Option<rskafka::client::error::ProtocolError> {
    match err {
        rskafka::client::error::Error::ServerError { protocol_error, .. } => Some(*protocol_error),
        _ => None,
    }
}
