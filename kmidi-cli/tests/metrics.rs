//! `--metrics` scraped by a real Prometheus (Debian's `prometheus`, started here on
//! loopback with a scrape config pointing at a player and an instrument on a real
//! broker): what Prometheus stored must agree with the instrument's own end report.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    instrument, player_at, read_heard, repo, run, sent_count, signal, spawn, stderr, wait_bounded,
    Broker,
};
use kmidi_test_support::free_port;
use serde_json::Value;

fn broker() -> &'static Broker {
    Broker::shared(&kmidi_test_support::kafka_version("4"))
}

/// A GET on loopback; the body.
fn http_get(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let ok = head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200");
    ok.then(|| body.to_string())
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Prometheus, killed when dropped.
struct Prometheus {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    /// Scrapes `targets` (ADDR:PORT) every second.
    fn start(targets: &[&str]) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: kmidi\n    \
                 static_configs:\n      - targets: [{}]\n",
                list.join(", ")
            ),
        )
        .unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus runs (Debian's `prometheus`; scripts/install-deps.sh installs it)");
        let p = Prometheus {
            child,
            addr,
            _dir: dir,
        };
        let started = Instant::now();
        while http_get(&p.addr, "/-/ready").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "prometheus not ready"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        p
    }

    /// An instant query's single value, if it has one.
    fn value(&self, promql: &str) -> Option<f64> {
        let body = http_get(
            &self.addr,
            &format!("/api/v1/query?query={}", percent_encode(promql)),
        )?;
        let v: Value = serde_json::from_str(&body).ok()?;
        v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }

    /// Waits until `promql` yields `want`; the value it last yielded.
    fn wait_for(&self, promql: &str, want: f64) -> Option<f64> {
        let started = Instant::now();
        let mut last = None;
        while started.elapsed() < Duration::from_secs(30) {
            last = self.value(promql);
            if last == Some(want) {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        last
    }
}

#[test]
fn prometheus_scrapes_what_the_instrument_reports() {
    let broker = broker();
    let topic = broker.unique("metrics");
    broker.create_topic(&topic, 2);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let (heard_at, sent_at) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let prometheus = Prometheus::start(&[&heard_at, &sent_at]);
    let listening = spawn(
        instrument(&broker.bootstrap, &topic)
            .args(["--metrics", &heard_at, "--report"])
            .arg(&report),
    );
    // The instrument serves before it plays: wait until Prometheus sees it up.
    assert_eq!(
        prometheus.wait_for(&format!("up{{instance=\"{heard_at}\"}}"), 1.0),
        Some(1.0),
        "the instrument's endpoint is scraped"
    );
    let songs = ["ode_to_joy.mid", "tempo_change.mid"].map(|s| repo().join("songs").join(s));
    let played = run(player_at(&broker.bootstrap, &topic, "0.2")
        .args(["--metrics", &sent_at, "-m"])
        .arg(&songs[0])
        .arg("-m")
        .arg(&songs[1]));
    assert!(played.status.success(), "{}", stderr(&played));
    let sent = sent_count(&stderr(&played)) as f64;
    let received = prometheus.wait_for("sum(kmidi_messages_received_total)", sent);
    // Read while the instrument still serves. Once it exits, Prometheus marks its
    // series stale at the next failed scrape and an instant query finds nothing, so
    // what is read afterwards is the last value over the run (max_over_time).
    let kminion = prometheus.wait_for("sum(kminion_end_to_end_messages_received_total)", sent);
    signal(&listening, "INT");
    let out = wait_bounded(listening, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let r = read_heard(&report);
    assert_eq!(received, Some(sent), "Prometheus saw every note sent");
    assert_eq!(
        received,
        r["played"].as_f64(),
        "and as many as the report says"
    );
    assert_eq!(kminion, Some(sent), "kminion's name, same count");
    for part in r["partitions"].as_array().unwrap() {
        let p = part["partition"].as_i64().unwrap();
        let scraped = prometheus.value(&format!(
            "sum(max_over_time(kmidi_messages_received_total{{topic=\"{topic}\",partition=\"{p}\"}}[5m]))"
        ));
        assert_eq!(scraped, part["count"].as_f64(), "partition {p}");
    }
    // The ear's threshold is a bucket edge: the notes Prometheus has at or under 6 ms
    // are the report's samples at or under 6 ms.
    let within = r["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["latency_ms"].as_f64().is_some_and(|l| l <= 6.0))
        .count() as f64;
    let bucket = prometheus
        .value("sum(max_over_time(kmidi_end_to_end_latency_seconds_bucket{le=\"0.006\"}[5m]))");
    assert_eq!(bucket, Some(within), "latency histogram agrees at 6 ms");
    let count = prometheus.value("sum(max_over_time(kmidi_end_to_end_latency_seconds_count[5m]))");
    assert_eq!(count, r["histograms"]["latency"]["count"].as_f64());
    // The player has exited: its series are stale now, but its last scrape (it waits
    // for one before exiting) holds its final count.
    let player_sent = prometheus.value("sum(max_over_time(kmidi_player_messages_sent_total[5m]))");
    assert_eq!(
        player_sent,
        Some(sent),
        "the player's own count, scraped before it left"
    );
    assert!(stderr(&played).contains("metrics: waiting for a last scrape"));
    let errors = "sum(max_over_time(kmidi_player_send_errors_total[5m])) or vector(0)";
    assert_eq!(prometheus.value(errors), Some(0.0));
}

#[test]
fn a_metrics_port_already_in_use_is_refused_before_anything_plays() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let song = repo().join("songs/ode_to_joy.mid");
    let out = run(player_at(&broker().bootstrap, "never-created", "0.2")
        .args(["--metrics", &addr, "-m"])
        .arg(&song));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("--metrics {addr}: cannot listen")),
        "{err}"
    );
    assert!(
        !err.contains("does not exist"),
        "refused before the topic check: {err}"
    );
}

#[test]
fn the_original_kmidis_command_lines_run_unchanged() {
    // The Python kmidi's player took --notes-topic and its instrument --notes_topic;
    // a user's old shell lines must still work, glob and record size included.
    let broker = broker();
    let topic = broker.unique("original");
    broker.create_topic(&topic, 1);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("midi")).unwrap();
    std::fs::copy(
        repo().join("songs/ode_to_joy.mid"),
        dir.path().join("midi/ode_to_joy.mid"),
    )
    .unwrap();
    let record = dir.path().join("heard.mid");
    let listening = spawn(
        common::kmidi()
            .current_dir(dir.path())
            .args([
                "instrument",
                "-q",
                "-b",
                &broker.bootstrap,
                "--notes_topic",
                &topic,
            ])
            .args([
                "--from",
                "earliest",
                "--no-port",
                "--idle-exit",
                "3",
                "--record",
            ])
            .arg(&record),
    );
    let played = run(common::kmidi().current_dir(dir.path()).args([
        "player",
        "-b",
        &broker.bootstrap,
        "-s",
        "0.2",
        "-q",
        "-m",
        "midi/*.mid",
        "--record-size",
        "10000",
        "--notes-topic",
        &topic,
    ]));
    assert!(played.status.success(), "{}", stderr(&played));
    assert_eq!(sent_count(&stderr(&played)), 125);
    let heard = wait_bounded(listening, Duration::from_secs(60));
    assert!(heard.status.success(), "{}", stderr(&heard));
    assert!(
        stderr(&heard).contains("played 125 message(s)"),
        "{}",
        stderr(&heard)
    );
}
