//! Server-Sent Events: how a message is framed, and the loop that writes one
//! listener's queue to its connection. The loop runs on the listener's own thread, so a
//! slow network stalls only that thread; the hub never waits for it.

use std::io::{self, Write};
use std::sync::atomic::Ordering;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use super::hub::{Frame, Listener};

/// How often an idle stream says it is alive: proxies and browsers drop a connection
/// that is silent for long, and a write is how a vanished page is noticed.
pub const KEEPALIVE: Duration = Duration::from_secs(5);

/// The keepalive comment line (ignored by `EventSource`).
pub const KEEPALIVE_LINE: &str = ": keepalive\n\n";

/// The response head of an event stream. Written by hand because tiny_http would buffer
/// a streamed body into 8 KiB chunks; `Connection: close` delimits the body instead.
pub const HEAD: &str = "HTTP/1.1 200 OK\r\n\
                        Content-Type: text/event-stream; charset=utf-8\r\n\
                        Cache-Control: no-store\r\n\
                        Connection: close\r\n\
                        X-Accel-Buffering: no\r\n\
                        Referrer-Policy: no-referrer\r\n\r\n";

/// One message: `event: NAME`, the JSON on one `data:` line, and the blank line.
pub fn frame(event: &str, data: &serde_json::Value) -> String {
    // serde_json's compact form never contains a newline (one in a string is escaped),
    // so one `data:` line carries the whole message.
    format!("event: {event}\ndata: {data}\n\n")
}

/// Writes `listener`'s greeting, then its queue as it fills, with keepalives in the
/// gaps, until the page goes away (a failed write) or the hub forgets the listener.
/// A frame's event name and JSON data: [`frame`] read back, for tests.
#[cfg(test)]
pub fn parse_frame(text: &str) -> (String, serde_json::Value) {
    let mut lines = text.lines();
    let event = lines.next().and_then(|l| l.strip_prefix("event: "));
    let data = lines.next().and_then(|l| l.strip_prefix("data: "));
    let (Some(event), Some(data)) = (event, data) else {
        panic!("not an SSE frame: {text:?}");
    };
    let value = serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {data}"));
    (event.to_string(), value)
}

pub fn stream(out: &mut dyn Write, listener: Listener) -> io::Result<()> {
    let result = write_all(out, &listener);
    // Written out or gone: the hub's `end` need not wait for this page any longer.
    listener.done.store(true, Ordering::SeqCst);
    result
}

fn write_all(out: &mut dyn Write, listener: &Listener) -> io::Result<()> {
    out.write_all(HEAD.as_bytes())?;
    let mut last = false;
    for f in &listener.greeting {
        last |= write_frame(out, f)?;
    }
    out.flush()?;
    mark(listener, last);
    loop {
        match listener.rx.recv_timeout(KEEPALIVE) {
            Ok(first) => {
                // Whatever else is queued goes in the same write: a listener that fell
                // behind catches up in few system calls.
                let mut last = write_frame(out, &first)?;
                while let Ok(more) = listener.rx.try_recv() {
                    last |= write_frame(out, &more)?;
                }
                out.flush()?;
                mark(listener, last);
            }
            Err(RecvTimeoutError::Timeout) => {
                out.write_all(KEEPALIVE_LINE.as_bytes())?;
                out.flush()?;
            }
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}

/// Once the `end` is out, the hub may let the command exit.
fn mark(listener: &Listener, end_written: bool) {
    if end_written {
        listener.done.store(true, Ordering::SeqCst);
    }
}

fn write_frame(out: &mut dyn Write, f: &Frame) -> io::Result<bool> {
    out.write_all(f.text.as_bytes())?;
    Ok(f.last)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::web::hub::Hub;

    #[test]
    fn a_message_is_one_event_line_one_data_line_and_a_blank_line() {
        let f = frame(
            "notes",
            &json!({"t0_us": 5, "notes": [[1, "90 3C 40"]], "s": "a\nb"}),
        );
        assert_eq!(
            f,
            "event: notes\ndata: {\"notes\":[[1,\"90 3C 40\"]],\"s\":\"a\\nb\",\"t0_us\":5}\n\n"
        );
        assert_eq!(f.matches('\n').count(), 3, "no newline inside the data");
    }

    #[test]
    fn the_stream_starts_with_the_head_and_hello_and_ends_when_the_hub_forgets_it() {
        let hub = Hub::new("demo", &["demo"], 4);
        let listener = hub.subscribe();
        hub.end(json!({"final": []}), Duration::ZERO);
        let done = listener.done.clone();
        // The hub's side of the channel goes with the hub.
        drop(hub);
        let mut out = Vec::new();
        stream(&mut out, listener).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("text/event-stream"), "{text}");
        let body = text.split_once("\r\n\r\n").unwrap().1;
        assert!(body.starts_with("event: hello\ndata: {"), "{body}");
        assert!(
            body.ends_with("event: end\ndata: {\"final\":[]}\n\n"),
            "{body}"
        );
        assert!(done.load(Ordering::SeqCst));
    }

    /// A page that went away: the write fails and the loop ends.
    #[test]
    fn a_failed_write_ends_the_stream() {
        struct Gone;
        impl Write for Gone {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let hub = Hub::new("demo", &["demo"], 4);
        let listener = hub.subscribe();
        assert!(stream(&mut Gone, listener).is_err());
        hub.broadcast("figures", &json!({}));
        assert_eq!(
            hub.losses().len(),
            0,
            "the hub forgets a page that went away"
        );
    }
}
