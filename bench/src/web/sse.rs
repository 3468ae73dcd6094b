//! A plain Server-Sent Events listener on `/events`: what a page's `EventSource` costs
//! kmidi without a browser's own CPU in the way. It counts the bytes it receives (the
//! response head included: that is what crosses the network) and the events by name.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// One connected listener, reading on a thread of its own until the stream ends or it
/// is closed.
pub struct Listener {
    bytes: Arc<AtomicU64>,
    events: Arc<Mutex<HashMap<String, u64>>>,
    stop: Arc<AtomicBool>,
    stream: TcpStream,
    reader: Option<JoinHandle<()>>,
}

impl Listener {
    /// Connects to `/events` on 127.0.0.1:`port` and waits for the `hello`, at most
    /// `limit`.
    pub fn connect(port: u16, limit: Duration) -> Result<Listener> {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .with_context(|| format!("connecting to 127.0.0.1:{port}"))?;
        // Bounds each read, so a closed listener's thread notices `stop`.
        stream.set_read_timeout(Some(Duration::from_millis(200)))?;
        stream.write_all(
            format!(
                "GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
                 Accept: text/event-stream\r\n\r\n"
            )
            .as_bytes(),
        )?;
        let bytes = Arc::new(AtomicU64::new(0));
        let events: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (mut from, bytes, events, stop) = (
                stream.try_clone()?,
                Arc::clone(&bytes),
                Arc::clone(&events),
                Arc::clone(&stop),
            );
            std::thread::spawn(move || {
                let mut lines = Lines::default();
                let mut buf = vec![0u8; 64 * 1024];
                while !stop.load(Ordering::SeqCst) {
                    match from.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            bytes.fetch_add(n as u64, Ordering::SeqCst);
                            let mut counts = events.lock().unwrap_or_else(|p| p.into_inner());
                            lines.feed(&buf[..n], |name| {
                                *counts.entry(name.to_string()).or_default() += 1;
                            });
                        }
                        Err(e)
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                            ) => {}
                        Err(_) => break,
                    }
                }
            })
        };
        let listener = Listener {
            bytes,
            events,
            stop,
            stream,
            reader: Some(reader),
        };
        let deadline = Instant::now() + limit;
        while listener.events("hello") == 0 {
            if Instant::now() > deadline {
                bail!("no hello on /events within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(listener)
    }

    /// Bytes received so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::SeqCst)
    }

    /// How many `event: NAME` messages arrived so far.
    pub fn events(&self, name: &str) -> u64 {
        let counts = self.events.lock().unwrap_or_else(|p| p.into_inner());
        counts.get(name).copied().unwrap_or(0)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// Splits a byte stream into lines across reads and names each `event:` line's event.
#[derive(Default)]
struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    fn feed(&mut self, mut chunk: &[u8], mut event: impl FnMut(&str)) {
        while let Some(at) = chunk.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&chunk[..at]);
            if let Some(name) = self.partial.strip_prefix(b"event:") {
                event(String::from_utf8_lossy(name).trim());
            }
            self.partial.clear();
            chunk = &chunk[at + 1..];
        }
        // A line longer than any message kmidi sends is not an event line: keep only
        // its start, so a stream without newlines cannot grow this without bound.
        let room = 64usize.saturating_sub(self.partial.len());
        self.partial
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_named_across_reads() {
        let mut lines = Lines::default();
        let mut seen = Vec::new();
        for chunk in [
            &b"HTTP/1.1 200 OK\r\n\r\nevent: hel"[..],
            b"lo\ndata: {}\n\n: keepalive\n\nevent: notes\ndata: {\"t0_us\":1}\n\nev",
            b"ent: end\n",
        ] {
            lines.feed(chunk, |name| seen.push(name.to_string()));
        }
        assert_eq!(seen, ["hello", "notes", "end"]);
    }
}
