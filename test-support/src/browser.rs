//! A real browser for tests: Debian's headless Chromium driven over WebDriver
//! (`chromedriver`), with a client small enough to read (plain HTTP/1.1 and JSON over a
//! `TcpStream`: a WebDriver crate would bring an async runtime for six endpoints), and
//! [`JitterProxy`] (in `proxy.rs`), which puts a random delay between a server and the
//! page.
//!
//! Chromedriver runs in a process group of its own. Killing chromedriver does not stop
//! the Chromium it started, so [`Browser`]'s drop ends the WebDriver session first (which
//! closes Chromium) and then kills the whole group; a watchdog kills the group too if
//! the test process dies without dropping anything.
//!
//! What the page played comes back as a [`PageAudio`] (its own tapped audio and where
//! it scheduled each note); `judge.rs` beside it judges that against the instrument's
//! arrivals, for the browser test and the `web` benchmark alike.

pub mod judge;
mod proxy;
mod tap;

pub use proxy::JitterProxy;
pub use tap::PageAudio;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The Chromium binary Debian's `chromium` package installs (`/usr/bin/chromium` is a
/// wrapper script chromedriver cannot drive).
pub const CHROMIUM: &str = "/usr/lib/chromium/chromium";

/// What to tell a user whose machine lacks the browser.
const INSTALL: &str =
    "the browser tests need Debian's chromium and chromium-driver: run scripts/install-deps.sh";

/// A headless Chromium session. Dropping it closes the browser and stops chromedriver.
pub struct Browser {
    driver: Child,
    watchdog: Option<Child>,
    port: u16,
    session: String,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Why [`Browser::start`] would fail for want of the browser, if it would: for a
    /// caller that may go on without one (a benchmark's browser part).
    pub fn missing() -> Option<String> {
        if which("chromedriver").is_none() {
            Some(format!("no chromedriver on PATH: {INSTALL}"))
        } else if !Path::new(CHROMIUM).exists() {
            Some(format!("no {CHROMIUM}: {INSTALL}"))
        } else {
            None
        }
    }

    /// Starts chromedriver and a headless Chromium with sound allowed to start without
    /// a click (`--autoplay-policy=no-user-gesture-required`), in a 1000x700 window.
    ///
    /// # Panics
    ///
    /// If chromedriver or Chromium is missing (saying to run `scripts/install-deps.sh`)
    /// or does not start.
    pub fn start() -> Browser {
        let chromedriver =
            which("chromedriver").unwrap_or_else(|| panic!("no chromedriver on PATH: {INSTALL}"));
        assert!(Path::new(CHROMIUM).exists(), "no {CHROMIUM}: {INSTALL}");
        let profile = tempfile::tempdir().expect("a temporary Chromium profile");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(chromedriver)
            .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("chromedriver starts: {e}: {INSTALL}"));
        let watchdog = kill_group_when_this_process_exits(driver.id());
        let mut browser = Browser {
            driver,
            watchdog,
            port,
            session: String::new(),
            profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while browser.call("GET", "/status", None).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu",
                "--autoplay-policy=no-user-gesture-required", "--window-size=1000,700",
                format!("--user-data-dir={}", browser.profile.path().join("profile").display()),
            ]},
        }}});
        let started = browser
            .call("POST", "/session", Some(&caps))
            .unwrap_or_else(|e| panic!("Chromium starts: {e}"));
        browser.session = started["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {started}"))
            .to_string();
        browser.session_call(
            "POST",
            "/timeouts",
            Some(&json!({"script": 60000, "pageLoad": 30000})),
        );
        browser
    }

    /// Opens `url` in the current tab and waits for it to load.
    pub fn open(&self, url: &str) {
        self.session_call("POST", "/url", Some(&json!({ "url": url })));
    }

    /// Opens kmidi's `--web` page on 127.0.0.1:`port` with its audio tap (`?tap=1`) and
    /// waits until it is connected, waiting for the first note, with its audio running:
    /// from then on every note is heard and tapped.
    pub fn open_tapped_page(&self, port: u16) {
        self.open(&format!("http://127.0.0.1:{port}/?tap=1"));
        self.wait_for(
            "kmidiPage.state() === 'waiting' && kmidiPage.audioRunning()",
            Duration::from_secs(30),
            "[kmidiPage.state(), kmidiPage.audioRunning(), document.body.innerText]",
        );
    }

    /// Reloads the current page.
    pub fn reload(&self) {
        self.session_call("POST", "/refresh", Some(&json!({})));
    }

    /// The value of the JavaScript expression `expr` (a promise is awaited), as JSON.
    ///
    /// # Panics
    ///
    /// If the expression throws or the promise rejects, with the script's error.
    pub fn eval(&self, expr: &str) -> Value {
        let script = format!(
            "const done = arguments[arguments.length - 1];
             Promise.resolve().then(() => ({expr})).then(
               v => done({{ok: v === undefined ? null : v}}),
               e => done({{err: String(e && e.stack || e)}}));"
        );
        let v = self.session_call(
            "POST",
            "/execute/async",
            Some(&json!({"script": script, "args": []})),
        );
        match v.get("err") {
            Some(err) => panic!(
                "the page threw on {expr}: {}",
                err.as_str().unwrap_or_default()
            ),
            None => v["ok"].clone(),
        }
    }

    /// Evaluates `expr` until it is true (JavaScript truthiness), at most `limit`.
    ///
    /// # Panics
    ///
    /// If `limit` passes first, with `describe`'s value at that moment.
    pub fn wait_for(&self, expr: &str, limit: Duration, describe: &str) {
        let deadline = Instant::now() + limit;
        loop {
            if self.eval(&format!("!!({expr})")) == Value::Bool(true) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "waited {limit:?} for {expr}; {describe} = {}",
                    self.eval(describe)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A PNG of the visible window.
    pub fn screenshot(&self) -> Vec<u8> {
        let v = self.session_call("GET", "/screenshot", None);
        base64_decode(v.as_str().expect("the screenshot is base64 text"))
            .expect("the screenshot is valid base64")
    }

    fn session_call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.call(method, &path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    /// One WebDriver command: its `value`, or the error WebDriver answered with.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let (status, text) = http(
            self.port,
            method,
            path,
            body.map(Value::to_string).as_deref(),
        )
        .map_err(|e| e.to_string())?;
        let doc: Value = serde_json::from_slice(&text)
            .map_err(|e| format!("not JSON ({e}): {}", String::from_utf8_lossy(&text)))?;
        if status != 200 {
            return Err(format!("HTTP {status}: {}", doc["value"]));
        }
        Ok(doc["value"].clone())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = self.call("DELETE", &path, None);
        }
        let group = self.driver.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

/// Kills process group `group` once this test process is gone, however it ends (statics
/// are never dropped, and a test that aborts drops nothing).
fn kill_group_when_this_process_exits(group: u32) -> Option<Child> {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; kill -KILL -- -{group} 2>/dev/null",
        pid = std::process::id()
    );
    Command::new("bash")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// A GET of `path` on 127.0.0.1:`port`: the status and the body.
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    http(port, "GET", path, None)
}

/// One HTTP/1.1 request with `Connection: close`; the body is read to the end.
fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let body = body.unwrap_or("");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body.as_bytes())?;
    // Read by Content-Length: chromedriver keeps the connection open whatever the
    // request's `Connection: close` says.
    let bad = |what: &str| std::io::Error::new(ErrorKind::InvalidData, what.to_string());
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    let split = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Err(bad("the connection closed before the headers ended"));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let length: Option<usize> = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok());
    let mut body = raw[split + 4..].to_vec();
    match length {
        Some(len) => {
            while body.len() < len {
                let n = s.read(&mut buf)?;
                if n == 0 {
                    return Err(bad("the body ended early"));
                }
                body.extend_from_slice(&buf[..n]);
            }
            body.truncate(len);
        }
        None => {
            s.read_to_end(&mut body)?;
        }
    }
    if head.contains("transfer-encoding: chunked") {
        return Ok((
            status,
            dechunk(&body).ok_or_else(|| bad("bad chunked body"))?,
        ));
    }
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

/// Standard base64 (with or without padding) to bytes; `None` on a character outside it.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for group in digits.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in group.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..group.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("AAAA").as_deref(), Some(&[0u8, 0, 0][..]));
        assert_eq!(base64_decode("a$=="), None);
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").as_deref(),
            Some(&b"abcde"[..])
        );
    }
}
