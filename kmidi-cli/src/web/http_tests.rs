//! The routes over a real listener on loopback, with a raw HTTP client: the page,
//! the token, the read-only methods, the event stream and `/metrics` on one listener.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::metrics::Role;

fn server(token: Option<&str>, metrics: Option<Arc<Metrics>>) -> (SocketAddr, Arc<Hub>) {
    let (server, bound) = metrics::bind("--web", "127.0.0.1:0").unwrap();
    let hub = Hub::new("instrument", &["instrument"], 16);
    let access = Access::decide("127.0.0.1:0", token).unwrap();
    serve(
        server,
        Routes {
            hub: Arc::clone(&hub),
            access,
            metrics,
        },
    )
    .unwrap();
    (bound, hub)
}

/// `METHOD path` with `headers`; the status code and the body.
fn request(addr: SocketAddr, method: &str, path: &str, headers: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n{headers}\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

#[test]
fn the_page_its_assets_and_state_are_served_and_anything_else_is_404() {
    let (addr, _hub) = server(None, None);
    let (status, body) = request(addr, "GET", "/", "");
    assert_eq!(status, 200);
    assert!(body.contains("<html"), "{body}");
    for path in ["/app.js", "/style.css", "/worklet.js", "/index.html"] {
        assert_eq!(request(addr, "GET", path, "").0, 200, "{path}");
    }
    let (status, state) = request(addr, "GET", "/state", "");
    assert_eq!(status, 200);
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert_eq!(state["hello"]["command"], "instrument");
    assert_eq!(state["ended"], false);
    assert_eq!(request(addr, "GET", "/nope", "").0, 404);
    assert_eq!(
        request(addr, "GET", "/metrics", "").0,
        404,
        "no --metrics here"
    );
    assert_eq!(request(addr, "HEAD", "/", "").0, 200);
}

#[test]
fn the_page_is_read_only() {
    let (addr, _hub) = server(None, None);
    for method in ["POST", "PUT", "DELETE"] {
        assert_eq!(
            request(addr, method, "/", "Content-Length: 0\r\n").0,
            405,
            "{method}"
        );
    }
}

#[test]
fn a_token_is_required_on_every_route_once_given() {
    let (addr, _hub) = server(Some("t0k"), None);
    assert_eq!(request(addr, "GET", "/", "").0, 403);
    assert_eq!(request(addr, "GET", "/?token=wrong", "").0, 403);
    assert_eq!(request(addr, "GET", "/events", "").0, 403);
    assert_eq!(request(addr, "GET", "/state?token=wrong", "").0, 403);
    assert_eq!(request(addr, "GET", "/?token=t0k", "").0, 200);
    let bearer = "Authorization: Bearer t0k\r\n";
    assert_eq!(request(addr, "GET", "/state", bearer).0, 200);
}

#[test]
fn metrics_share_the_listener_when_asked() {
    let metrics = Arc::new(Metrics::new(Role::Instrument));
    let (addr, _hub) = server(None, Some(metrics));
    let (status, body) = request(addr, "GET", "/metrics", "");
    assert_eq!(status, 200);
    assert!(body.contains("# EOF"), "{body}");
    assert_eq!(request(addr, "GET", "/", "").0, 200);
}

#[test]
fn events_stream_hello_then_what_the_hub_sends_to_each_listener() {
    let (addr, hub) = server(None, None);
    let open = || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(s, "GET /events HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut r = BufReader::new(s);
        let mut head = String::new();
        while !head.ends_with("\r\n\r\n") {
            r.read_line(&mut head).unwrap();
        }
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.contains("text/event-stream"), "{head}");
        r
    };
    let event = |r: &mut BufReader<TcpStream>| {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if line == "\n" && !lines.is_empty() {
                return lines.join("");
            }
            lines.push(line);
        }
    };
    let mut a = open();
    let mut b = open();
    assert!(event(&mut a).starts_with("event: hello\n"));
    assert!(event(&mut b).starts_with("event: hello\n"));
    hub.broadcast("figures", &json!({"side": 0}));
    assert_eq!(event(&mut a), "event: figures\ndata: {\"side\":0}\n");
    assert_eq!(event(&mut b), "event: figures\ndata: {\"side\":0}\n");
    drop(a);
    hub.end(json!({"final": []}), Duration::from_secs(2));
    assert_eq!(event(&mut b), "event: end\ndata: {\"final\":[]}\n");
}

#[test]
fn one_listener_answers_the_page_and_metrics_given_the_same_address() {
    use crate::cli::{MetricsArgs, WebArgs};

    let web = WebArgs {
        web: Some("127.0.0.1:0".into()),
        web_token: None,
    };
    let metrics = MetricsArgs {
        metrics: Some("127.0.0.1:0".into()),
    };
    let served = crate::web::start(&web, &metrics, Role::Instrument, "instrument", &["i"]).unwrap();
    assert!(served.metrics.is_some());
    let url = served.web.unwrap().url;
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    assert_eq!(request(addr, "GET", "/metrics", "").0, 200);
    assert_eq!(request(addr, "GET", "/", "").0, 200);
}
