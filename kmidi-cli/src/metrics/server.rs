//! The `/metrics` endpoint: a small blocking HTTP server (tiny_http) on its own thread,
//! answering each scrape with the registry encoded at that moment. Bound before any
//! note is played, so a port already in use is an error up front, not a silent
//! dashboard gap. When `--web` names the same ADDR:PORT, the web page's server answers
//! `/metrics` too, through [`bind`] and [`scrape`]: one listener per address.

use std::io::Cursor;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use tiny_http::{Header, Response, Server};

use super::Metrics;

/// What Prometheus expects from an OpenMetrics exposition.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Listens on `addr` for the option(s) `flag` names; returns the server and the address
/// bound (a port of 0 picks a free one).
pub fn bind(flag: &str, addr: &str) -> Result<(Server, SocketAddr)> {
    let server = Server::http(addr).map_err(|e| {
        anyhow!(
            "{flag} {addr}: cannot listen there: {e} (is another process on that port? \
             give another ADDR:PORT)"
        )
    })?;
    let bound = server
        .server_addr()
        .to_ip()
        .with_context(|| format!("{flag} {addr}: not an IP address"))?;
    Ok((server, bound))
}

/// The answer to one scrape: the registry as it is now.
pub fn scrape(metrics: &Metrics) -> Response<Cursor<Vec<u8>>> {
    let response = Response::from_string(metrics.encode());
    match Header::from_bytes("Content-Type", CONTENT_TYPE) {
        Ok(h) => response.with_header(h),
        Err(()) => response,
    }
}

/// Serves `metrics` on `addr` until the process exits; returns the address bound (a
/// port of 0 picks a free one).
pub fn serve(addr: &str, metrics: Arc<Metrics>) -> Result<SocketAddr> {
    let (server, bound) = bind("--metrics", addr)?;
    std::thread::Builder::new()
        .name("kmidi-metrics".to_string())
        .spawn(move || {
            for request in server.incoming_requests() {
                let response = if request.url().split('?').next() == Some("/metrics") {
                    scrape(&metrics)
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
