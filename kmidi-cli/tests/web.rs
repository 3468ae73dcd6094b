//! `--web` from outside, with a raw HTTP client (the browser test is elsewhere): a demo
//! on the embedded mock cluster serves the page, streams to two pages at once exactly
//! the notes it records, ends with the final figures, and exits; a taken port is refused
//! before anything plays.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Child;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use common::{kmidi, spawn, stderr, wait_bounded};
use serde_json::Value;

/// A demo of ode to joy at a quarter of its length, recording to `record`.
fn demo(web: &str, record: &Path) -> std::process::Command {
    let mut c = kmidi();
    c.args([
        "demo",
        "-q",
        "--no-port",
        "-s",
        "0.25",
        "--song",
        "ode_to_joy.mid",
    ])
    .args(["--web", web, "--record"])
    .arg(record);
    c
}

/// The address in the `web: http://ADDR/` line of `child`'s stderr, and a thread
/// collecting the rest of it.
fn web_address(child: &mut Child) -> (SocketAddr, JoinHandle<String>) {
    let pipe = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = mpsc::channel();
    let rest = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("web: http://") {
                let _ = tx.send(url.split('/').next().unwrap_or("").to_string());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a `web: http://...` line on stderr");
    (addr.parse().expect("the URL names ADDR:PORT"), rest)
}

/// `METHOD path` over HTTP/1.0: the status code and the body.
fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok());
    (status.expect("a status code"), body.to_string())
}

/// Opens `/events` and reads `(event, data)` until `end` (or the stream closes).
fn listen(addr: SocketAddr) -> JoinHandle<Vec<(String, Value)>> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET /events HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(s).lines().map_while(Result::ok);
        let head: Vec<String> = lines.by_ref().take_while(|l| !l.is_empty()).collect();
        assert!(head[0].starts_with("HTTP/1.1 200"), "{head:?}");
        assert!(
            head.iter().any(|h| h.contains("text/event-stream")),
            "{head:?}"
        );
        let mut events = Vec::new();
        let (mut event, mut data) = (String::new(), String::new());
        for line in lines {
            if let Some(e) = line.strip_prefix("event: ") {
                event = e.to_string();
            } else if let Some(d) = line.strip_prefix("data: ") {
                data = d.to_string();
            } else if line.is_empty() && !event.is_empty() {
                let value = serde_json::from_str(&data).expect("data is JSON");
                events.push((std::mem::take(&mut event), value));
                if events.last().is_some_and(|(e, _)| e == "end") {
                    break;
                }
            }
        }
        events
    })
}

/// The notes events' messages, in order, as upper-case hex.
fn notes(events: &[(String, Value)]) -> Vec<String> {
    events
        .iter()
        .filter(|(e, _)| e == "notes")
        .flat_map(|(_, d)| d["notes"].as_array().unwrap().clone())
        .map(|n| n[1].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn two_pages_hear_exactly_what_the_demo_records_then_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("F.mid");
    let mut child = spawn(&mut demo("127.0.0.1:0", &record));
    let (addr, rest) = web_address(&mut child);
    let pages = [listen(addr), listen(addr)];
    let (status, page) = request(addr, "GET", "/");
    assert_eq!(status, 200);
    assert!(page.contains("<html"), "{page}");
    assert_eq!(request(addr, "GET", "/no-such-page").0, 404);
    assert_eq!(request(addr, "POST", "/").0, 405);
    let out = wait_bounded(child, Duration::from_secs(90));
    let err = rest.join().unwrap();
    assert!(out.status.success(), "{err}");
    let recorded: Vec<String> = kmidi_midi::sink::read_recording(&record)
        .expect("the demo recorded")
        .iter()
        .map(|(_, bytes)| kmidi_midi::sink::hex(bytes))
        .collect();
    assert!(!recorded.is_empty());
    for page in pages {
        let events = page.join().unwrap();
        assert_eq!(events[0].0, "hello", "{events:?}");
        assert_eq!(events[0].1["command"], "demo");
        assert_eq!(notes(&events), recorded, "the page got what was recorded");
        let ats: Vec<u64> = events
            .iter()
            .filter(|(e, _)| e == "notes")
            .flat_map(|(_, d)| d["notes"].as_array().unwrap().clone())
            .map(|n| n[0].as_u64().unwrap())
            .collect();
        assert!(ats.windows(2).all(|w| w[0] <= w[1]), "the sound's clock");
        assert!(events.iter().any(|(e, _)| e == "measure"), "{events:?}");
        let (last, end) = events.last().unwrap();
        assert_eq!(last, "end");
        assert_eq!(end["final"][0]["label"], "demo");
        assert!(!end["final"][0]["rows"].as_array().unwrap().is_empty());
    }
}

#[test]
fn a_taken_port_is_refused_before_anything_plays() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let web = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("F.mid");
    let out = common::run(&mut demo(&web, &record));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("--web {web}: cannot listen there")),
        "{err}"
    );
    assert!(!err.contains("kmidi demo:"), "nothing started: {err}");
    assert!(!record.exists(), "nothing recorded");
}

#[test]
fn compare_streams_side_a_panned_left_and_b_right_and_shares_its_listener_with_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("both.mid");
    // Port 0 cannot be shared by name: a free port, given to both flags.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let web = format!("127.0.0.1:{port}");
    let mut c = kmidi();
    c.args(["compare", "-q", "--no-port", "-s", "0.25"])
        .args(["--transport-a", "rdkafka", "--transport-b", "rdkafka"])
        .args(["--song", "ode_to_joy.mid", "--web", &web, "--metrics", &web])
        .arg("--record")
        .arg(&record);
    let mut child = spawn(&mut c);
    let (addr, rest) = web_address(&mut child);
    let page = listen(addr);
    let (status, metrics) = request(addr, "GET", "/metrics");
    assert_eq!(status, 200, "one listener serves /metrics too");
    assert!(metrics.contains("# EOF"), "{metrics}");
    let out = wait_bounded(child, Duration::from_secs(120));
    let err = rest.join().unwrap();
    assert!(out.status.success(), "{err}");
    let events = page.join().unwrap();
    let hello = &events[0].1;
    assert_eq!(hello["command"], "compare");
    let labels: Vec<&str> = hello["sides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["A (rdkafka)", "B (rdkafka)"]);
    // Pan (CC10) hard left on A's channels (0-7), hard right on B's (8-15).
    let heard = notes(&events);
    let pans: Vec<(u8, u8)> = heard
        .iter()
        .filter_map(|h| {
            let b: Vec<u8> = h
                .split(' ')
                .filter_map(|x| u8::from_str_radix(x, 16).ok())
                .collect();
            (b.len() == 3 && b[0] & 0xF0 == 0xB0 && b[1] == 10).then(|| (b[0] & 0x0F, b[2]))
        })
        .collect();
    assert!(
        pans.iter().any(|&(ch, v)| ch < 8 && v == 0),
        "A left: {pans:?}"
    );
    assert!(
        pans.iter().any(|&(ch, v)| ch >= 8 && v == 127),
        "B right: {pans:?}"
    );
    let note_ons = |lo: u8, hi: u8| {
        heard
            .iter()
            .filter(|h| {
                let status = u8::from_str_radix(&h[..2], 16).unwrap_or(0);
                status & 0xF0 == 0x90 && (lo..=hi).contains(&(status & 0x0F))
            })
            .count()
    };
    assert!(
        note_ons(0, 7) > 0 && note_ons(0, 7) == note_ons(8, 15),
        "{heard:?}"
    );
}
