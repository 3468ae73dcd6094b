//! `--web ADDR:PORT`: a page, served by the instrument (and `demo`, `compare`), that
//! plays in any browser what the instrument hears, at the instrument's arrival times,
//! and shows the figures live. The page itself (`assets/`) is embedded; this side
//! serves it and feeds it. The contract between the two (routes, events) is the
//! `WEB_PROTOCOL` the page is written against; `http` routes, `hub` broadcasts to the
//! pages with a bounded queue each, `sink` and `observer` are what the engine hands
//! the hub, `access` the token policy.
//!
//! Safe by default: loopback is served as is, any other address only with a token
//! (`--web-token`, or a random one printed in the URL). Bound before any client
//! connects, so a taken port is refused before anything plays.

mod access;
mod assets;
mod http;
mod hub;
mod observer;
mod sink;
mod sse;

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use kmidi_engine::churn::GroupLog;
use kmidi_engine::listen::ListenReport;
use kmidi_engine::observe::Observer;
use kmidi_midi::sink::Sink;
use serde_json::json;

use crate::cli::{MetricsArgs, OutputArgs, WebArgs};
use crate::metrics::{self, Metrics, Role};
use crate::outputs;
pub use access::Access;
use hub::Hub;
use kmidi_engine::observe::Fanout;
use sink::WebSink;

/// How long the end of a run waits for the pages connected to have the final figures.
/// The command exits right after: pages are not waited for beyond that.
const GRACE: Duration = Duration::from_secs(2);

/// The page being served.
pub struct Web {
    hub: Arc<Hub>,
    /// Where it is, without the token.
    url: String,
}

/// What `--metrics` and `--web` started: bound, and serving.
pub struct Served {
    pub metrics: Option<Arc<Metrics>>,
    pub web: Option<Web>,
}

/// Binds `--metrics` and `--web` (one listener when they name the same ADDR:PORT),
/// before anything connects; `sides` are the labels of what `command` listens with.
pub fn start(
    args: &WebArgs,
    metrics_args: &MetricsArgs,
    role: Role,
    command: &str,
    sides: &[&str],
) -> Result<Served> {
    let Some(addr) = &args.web else {
        return Ok(Served {
            metrics: metrics::start(metrics_args, role)?,
            web: None,
        });
    };
    let access = Access::decide(addr, args.web_token.as_deref())?;
    let shared = metrics_args
        .metrics
        .as_deref()
        .is_some_and(|m| same_address(m, addr));
    let (metrics, flag) = if shared {
        (Some(Arc::new(Metrics::new(role))), "--web/--metrics")
    } else {
        (metrics::start(metrics_args, role)?, "--web")
    };
    let (server, bound) = metrics::bind(flag, addr)?;
    let hub = Hub::new(command, sides, hub::QUEUE);
    http::serve(
        server,
        http::Routes {
            hub: Arc::clone(&hub),
            access: access.clone(),
            metrics: metrics.clone().filter(|_| shared),
        },
    )?;
    let url = format!("http://{bound}/");
    eprintln!("web: {url}{}{}", token_part(&access), where_note(bound));
    if shared {
        eprintln!("metrics: http://{bound}/metrics{}", token_part(&access));
    }
    Ok(Served {
        metrics,
        web: Some(Web { hub, url }),
    })
}

/// What the printed URL says about the token: the generated one itself (it is the
/// user's only way in), a reminder for a given one (kept off the terminal and logs).
fn token_part(access: &Access) -> String {
    match (&access.token, access.generated) {
        (Some(t), true) => format!("?token={t}"),
        (Some(_), false) => " (add ?token=<your --web-token>)".to_string(),
        (None, _) => String::new(),
    }
}

fn where_note(bound: SocketAddr) -> &'static str {
    if bound.ip().is_unspecified() {
        " (every interface: open it with this machine's name or address)"
    } else {
        ""
    }
}

/// Whether `--metrics` and `--web` name one address (the same text, or the same
/// resolved address and fixed port).
fn same_address(a: &str, b: &str) -> bool {
    if a.trim() == b.trim() {
        return true;
    }
    match (a.to_socket_addrs(), b.to_socket_addrs()) {
        (Ok(x), Ok(y)) => {
            let y: Vec<SocketAddr> = y.collect();
            x.into_iter().any(|a| a.port() != 0 && y.contains(&a))
        }
        _ => false,
    }
}

impl Web {
    /// The sink that hands the page what the instrument plays.
    fn sink(&self) -> WebSink {
        WebSink::new(Arc::clone(&self.hub), self.url.clone())
    }
}

/// The side labels, once the command knows them.
pub fn sides(web: &Option<Web>, labels: &[String]) {
    if let Some(w) = web {
        w.hub.set_sides(labels);
    }
}

/// The instrument's outputs with the page among them: the page counts as something to
/// play to (`--no-port --web` is a use of its own, on a server without a synthesizer).
pub fn open_outputs(out: &OutputArgs, web: &Option<Web>) -> Result<Vec<Box<dyn Sink>>> {
    let Some(w) = web else {
        return outputs::open_all(out);
    };
    let mut sinks = Vec::new();
    if let Some(port) = outputs::wanted_port(out) {
        sinks.push(outputs::open_port(&port)?);
    }
    sinks.extend(outputs::open_files(out)?);
    sinks.push(Box::new(w.sink()));
    Ok(sinks)
}

/// Adds the page to `sinks` (for `compare`: its shared sinks, which move and pan each
/// side as the page should hear it too).
pub fn add_sink(web: &Option<Web>, sinks: &mut Vec<Box<dyn Sink>>) {
    if let Some(w) = web {
        sinks.push(Box::new(w.sink()));
    }
}

/// For `compare` with a port per side: the page's share of each side, A left, B right.
pub fn add_side_sinks(web: &Option<Web>, [a, b]: [&mut Vec<Box<dyn Sink>>; 2]) -> Result<()> {
    if let Some(w) = web {
        let [sa, sb] = sink::side_sinks(w.sink())?;
        a.push(sa);
        b.push(sb);
    }
    Ok(())
}

/// `other` (the metrics' observer, say) and the page's observer of side `side`, as one.
pub fn observer(
    web: &Option<Web>,
    side: usize,
    other: Option<Arc<dyn Observer>>,
) -> Option<Arc<dyn Observer>> {
    let page = web.as_ref().map(|w| {
        Arc::new(observer::WebObserver {
            hub: Arc::clone(&w.hub),
            side,
        }) as Arc<dyn Observer>
    });
    Fanout::of([other, page])
}

/// Marks on the page the churn events each side's group applies (`logs[side]`).
pub fn watch_groups(web: &Option<Web>, logs: &[Option<Arc<Mutex<GroupLog>>>]) {
    if let Some(w) = web {
        for (side, log) in logs.iter().enumerate() {
            if let Some(log) = log {
                w.hub.watch(side, Arc::clone(log));
            }
        }
    }
}

/// The run ended: the final figures of each `(label, report)` to every page, kept for
/// pages that come later; waits a moment (at most [`GRACE`]) for them to be written.
pub fn end(web: &Option<Web>, sides: &[(&str, &ListenReport)]) {
    if let Some(w) = web {
        let last: Vec<_> = sides
            .iter()
            .map(|(label, r)| {
                json!({"label": label, "rows": observer::rows(r), "live": observer::live(r)})
            })
            .collect();
        w.hub.end(json!({ "final": last }), GRACE);
        // Shown on the page too; said here for the operator of a probe.
        for (listener, lost) in w.hub.losses() {
            if lost > 0 {
                eprintln!(
                    "web: page {listener} was too slow and missed {lost} message(s) (a \
                     bounded queue per page keeps the instrument on time)"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_and_web_share_a_listener_only_on_the_same_address() {
        assert!(same_address("127.0.0.1:9464", "127.0.0.1:9464"));
        assert!(same_address("127.0.0.1:0", " 127.0.0.1:0"));
        assert!(!same_address("127.0.0.1:9464", "127.0.0.1:9465"));
        assert!(
            !same_address("127.0.0.1:0", "localhost:0"),
            "two free ports"
        );
        assert!(!same_address("nonsense", "127.0.0.1:1"));
    }

    #[test]
    fn a_generated_token_is_printed_a_given_one_is_not() {
        let generated = Access {
            token: Some("abc".into()),
            generated: true,
        };
        assert_eq!(token_part(&generated), "?token=abc");
        let given = Access {
            token: Some("secret".into()),
            generated: false,
        };
        assert!(!token_part(&given).contains("secret"));
        let open = Access {
            token: None,
            generated: false,
        };
        assert_eq!(token_part(&open), "");
    }
}
