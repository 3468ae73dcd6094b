//! The `/metrics` endpoint: a small blocking HTTP server (tiny_http) on its own thread,
//! answering each scrape with the registry encoded at that moment. Bound before any
//! note is played, so a port already in use is an error up front, not a silent
//! dashboard gap.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use tiny_http::{Header, Response, Server};

use super::Metrics;

/// What Prometheus expects from an OpenMetrics exposition.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `metrics` on `addr` until the process exits; returns the address bound (a
/// port of 0 picks a free one).
pub fn serve(addr: &str, metrics: Arc<Metrics>) -> Result<SocketAddr> {
    let server = Server::http(addr).map_err(|e| {
        anyhow!(
            "--metrics {addr}: cannot listen there: {e} (is another process on that port? \
             give another ADDR:PORT)"
        )
    })?;
    let bound = server
        .server_addr()
        .to_ip()
        .with_context(|| format!("--metrics {addr}: not an IP address"))?;
    let content_type =
        Header::from_bytes("Content-Type", CONTENT_TYPE).map_err(|()| anyhow!("bad header"))?;
    std::thread::Builder::new()
        .name("kmidi-metrics".to_string())
        .spawn(move || {
            for request in server.incoming_requests() {
                let response = if request.url().split('?').next() == Some("/metrics") {
                    Response::from_string(metrics.encode()).with_header(content_type.clone())
                } else {
                    Response::from_string("kmidi: metrics are on /metrics\n").with_status_code(404)
                };
                if let Err(e) = request.respond(response) {
                    tracing::debug!("metrics: answering a scrape: {e}");
                }
            }
        })
        .context("starting the metrics thread")?;
    eprintln!("metrics: http://{bound}/metrics");
    Ok(bound)
}
