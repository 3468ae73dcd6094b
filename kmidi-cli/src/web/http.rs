//! The HTTP side of `--web`: one tiny_http listener answering the page's routes (and
//! `/metrics` when `--metrics` names the same address), each event stream on a thread
//! of its own so a slow page holds up nothing else. Read-only: GET and HEAD, nothing
//! that changes kmidi or the cluster.

use std::io::Cursor;
use std::sync::Arc;

use anyhow::{Context, Result};
use tiny_http::{Header, Method, Request, Response, Server};

use super::access::Access;
use super::hub::Hub;
use super::{assets, sse};
use crate::metrics::{self, Metrics};

/// What one listener answers.
pub struct Routes {
    pub hub: Arc<Hub>,
    pub access: Access,
    /// `/metrics`, when `--metrics` shares this listener.
    pub metrics: Option<Arc<Metrics>>,
}

/// Answers on `server` until the process exits.
pub fn serve(server: Server, routes: Routes) -> Result<()> {
    let routes = Arc::new(routes);
    std::thread::Builder::new()
        .name("kmidi-web".to_string())
        .spawn(move || {
            for request in server.incoming_requests() {
                handle(request, &routes);
            }
        })
        .context("starting the web thread")?;
    Ok(())
}

type Answer = Response<Cursor<Vec<u8>>>;

fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name, value).ok()
}

fn text(status: u16, body: &str) -> Answer {
    let r = Response::from_string(body).with_status_code(status);
    match header("Content-Type", "text/plain; charset=utf-8") {
        Some(h) => r.with_header(h),
        None => r,
    }
}

/// What every answer of the page carries: nothing cached (the state changes, the
/// token must not linger), and the token never sent on as a referrer.
fn private(mut r: Answer) -> Answer {
    for (name, value) in [
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
    ] {
        if let Some(h) = header(name, value) {
            r.add_header(h);
        }
    }
    r
}

/// The answer to `request`, or `None` once the request was handed to an event stream.
fn route(request: Request, routes: &Routes) -> Option<(Request, Answer)> {
    if !matches!(request.method(), Method::Get | Method::Head) {
        let mut r = text(405, "kmidi: the page is read-only (GET and HEAD only)\n");
        if let Some(h) = header("Allow", "GET, HEAD") {
            r.add_header(h);
        }
        return Some((request, private(r)));
    }
    let url = request.url().to_string();
    let authorization = request
        .headers()
        .iter()
        .filter(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.as_str());
    if !routes.access.allows(&url, authorization) {
        let r = text(403, "kmidi: this page needs its token (?token=...)\n");
        return Some((request, private(r)));
    }
    let path = url.split('?').next().unwrap_or("/");
    let answer = match path {
        "/metrics" => match &routes.metrics {
            Some(m) => metrics::scrape(m),
            None => text(404, "kmidi: no --metrics on this address\n"),
        },
        "/events" if *request.method() == Method::Get => {
            stream(request, routes);
            return None;
        }
        "/events" => with_type(Response::from_data(Vec::new()), "text/event-stream"),
        "/state" => with_type(
            Response::from_data(routes.hub.state().to_string().into_bytes()),
            "application/json",
        ),
        p => match assets::find(p) {
            Some((kind, body)) => with_type(Response::from_data(body.as_bytes().to_vec()), kind),
            None => text(404, "kmidi: no such page\n"),
        },
    };
    Some((request, private(answer)))
}

fn with_type(r: Answer, kind: &str) -> Answer {
    match header("Content-Type", kind) {
        Some(h) => r.with_header(h),
        None => r,
    }
}

fn handle(request: Request, routes: &Routes) {
    if let Some((request, answer)) = route(request, routes) {
        if let Err(e) = request.respond(answer) {
            tracing::debug!("web: answering a request: {e}");
        }
    }
}

/// `/events`: the page's queue, written on a thread of its own until the page leaves.
fn stream(request: Request, routes: &Routes) {
    let listener = routes.hub.subscribe();
    let id = listener.id;
    let spawned = std::thread::Builder::new()
        .name(format!("kmidi-web-{id}"))
        .spawn(move || {
            let mut out = request.into_writer();
            if let Err(e) = sse::stream(&mut out, listener) {
                tracing::debug!("web: listener {id} left: {e}");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("web: cannot serve listener {id}: {e}");
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
