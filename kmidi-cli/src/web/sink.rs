//! The page as one more of the instrument's sinks: every message the instrument plays
//! goes to the hub with the very `at` the other sinks got (the sound's clock), and out
//! to the pages in batches. Handing it over is a lock and a push: the instrument never
//! waits for a page.

use std::sync::Arc;
use std::time::Duration;

use kmidi_midi::sink::{SharedSinks, Side, SideSink, Sink, SinkError};

use super::hub::Hub;

pub struct WebSink {
    hub: Arc<Hub>,
    /// Where the page is, for the command's header line (without the token).
    url: String,
}

impl WebSink {
    pub fn new(hub: Arc<Hub>, url: String) -> Self {
        Self { hub, url }
    }
}

impl Sink for WebSink {
    fn send(&mut self, bytes: &[u8], at: Duration) -> Result<(), SinkError> {
        self.hub.note(at, bytes);
        Ok(())
    }

    /// The last batch goes out now rather than at the hub's next tick.
    fn finish(&mut self) -> Result<(), SinkError> {
        self.hub.flush();
        Ok(())
    }

    fn describe(&self) -> String {
        format!("web page {}", self.url)
    }
}

/// For `compare` with a port per side (no shared sinks): the page still hears A left
/// and B right, each side moved and panned as the shared sinks would do it.
pub fn side_sinks(sink: WebSink) -> Result<[Box<dyn Sink>; 2], SinkError> {
    let shared = SharedSinks::new(vec![Box::new(sink)]);
    Ok([
        Box::new(SideSink::new(shared.clone(), Side::Left, "A (web)")?),
        Box::new(SideSink::new(shared, Side::Right, "B (web)")?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_side_is_panned_and_moved_to_its_half_for_the_page() {
        let hub = Hub::new("compare", &["A", "B"], 256);
        let l = hub.subscribe();
        let [mut a, mut b] = side_sinks(WebSink::new(Arc::clone(&hub), "x".into())).unwrap();
        a.send(&[0x90, 60, 64], Duration::from_millis(1)).unwrap();
        b.send(&[0x90, 60, 64], Duration::from_millis(2)).unwrap();
        b.finish().unwrap();
        hub.flush();
        let mut notes = Vec::new();
        while let Ok(f) = l.rx.try_recv() {
            let (_, v) = crate::web::sse::parse_frame(&f.text);
            if let Some(n) = v["notes"].as_array() {
                notes.extend(n.iter().map(|n| n[1].as_str().unwrap().to_string()));
            }
        }
        assert!(
            notes.contains(&"B0 0A 00".to_string()),
            "A panned left: {notes:?}"
        );
        assert!(
            notes.contains(&"B8 0A 7F".to_string()),
            "B panned right: {notes:?}"
        );
        let tail = &notes[notes.len() - 2..];
        assert_eq!(tail, ["90 3C 40", "98 3C 40"], "B on its own channel");
    }
}
