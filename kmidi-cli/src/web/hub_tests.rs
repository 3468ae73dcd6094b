//! Unit tests of the hub: bounded queues that drop and count instead of waiting,
//! several listeners, pages that leave and come back, batches and the end.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::*;

/// The `(event, data)` of every message queued for `l` so far.
fn drain(l: &Listener) -> Vec<(String, Value)> {
    std::iter::from_fn(|| l.rx.try_recv().ok())
        .map(|f| parse(&f.text))
        .collect()
}

/// What listener `id` lost so far; `None` once the hub forgot it.
fn dropped(hub: &Hub, id: u64) -> Option<u64> {
    hub.losses()
        .into_iter()
        .find(|(l, _)| *l == id)
        .map(|(_, n)| n)
}

fn parse(text: &str) -> (String, Value) {
    crate::web::sse::parse_frame(text)
}

#[test]
fn a_full_queue_drops_and_counts_without_waiting_and_says_so_when_it_has_room() {
    let hub = Hub::new("instrument", &["instrument"], 4);
    let slow = hub.subscribe();
    let started = Instant::now();
    for i in 0..1000 {
        hub.broadcast("figures", &json!({ "i": i }));
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "a listener that reads nothing never slows the sender"
    );
    assert_eq!(dropped(&hub, slow.id), Some(996));
    let kept = drain(&slow);
    assert_eq!(kept.len(), 4);
    assert_eq!(kept[3].1["i"], 3, "the oldest are kept, in order");
    // Room again: the next message is preceded by what was lost.
    hub.broadcast("figures", &json!({ "i": 1000 }));
    let next = drain(&slow);
    assert_eq!(next[0], ("dropped".to_string(), json!({"dropped": 996})));
    assert_eq!(next[1].1["i"], 1000);
    assert_eq!(dropped(&hub, slow.id), Some(996));
}

#[test]
fn several_listeners_each_get_everything_and_a_slow_one_costs_the_others_nothing() {
    let hub = Hub::new("compare", &["A", "B"], 8);
    let slow = hub.subscribe();
    let fast = hub.subscribe();
    assert_ne!(slow.id, fast.id);
    assert_eq!(hub.losses().len(), 2);
    let mut got = Vec::new();
    for i in 0..20 {
        hub.broadcast("figures", &json!({ "i": i }));
        got.extend(drain(&fast));
    }
    assert_eq!(got.len(), 20, "the fast listener lost nothing");
    assert_eq!(dropped(&hub, fast.id), Some(0));
    assert_eq!(dropped(&hub, slow.id), Some(12));
}

#[test]
fn a_listener_that_leaves_is_forgotten_and_one_that_comes_back_is_greeted_with_the_state() {
    let hub = Hub::new("demo", &["demo"], 8);
    let first = hub.subscribe();
    let (event, hello) = parse(&first.greeting[0].text);
    assert_eq!(event, "hello");
    assert_eq!(hello["command"], "demo");
    assert_eq!(hello["sides"], json!([{"label": "demo"}]));
    assert_eq!(hello["listener"], first.id);
    assert_eq!(hello["queue"], 8);
    assert_eq!(first.greeting.len(), 1, "before any figure, hello alone");
    drop(first);
    hub.figures(
        0,
        json!([{"name": "lost", "value": "0", "audible": false}]),
        json!({"played": 3}),
    );
    assert_eq!(
        hub.losses().len(),
        0,
        "gone, so forgotten at the next message"
    );
    let again = hub.subscribe();
    let greeting: Vec<_> = again.greeting.iter().map(|f| parse(&f.text)).collect();
    assert_eq!(greeting[0].0, "hello");
    assert_eq!(greeting[1].0, "figures");
    assert_eq!(greeting[1].1["live"]["played"], 3);
    assert_eq!(hub.state()["figures"][0]["side"], 0);
}

#[test]
fn notes_and_measures_go_out_in_batches_on_the_sounds_clock() {
    let hub = Hub::new("instrument", &["instrument"], 64);
    let l = hub.subscribe();
    hub.note(Duration::from_micros(1_500), &[0x90, 0x3C, 0x40]);
    hub.note(Duration::from_micros(2_500), &[0x80, 0x3C, 0x00]);
    let v = Verdict {
        latency_us: Some(3_000),
        onset_us: Some(-500),
        late: false,
        duplicate: false,
        reordered: true,
    };
    hub.heard(0, "notes", 2, &v);
    hub.flush();
    let got = drain(&l);
    // The hub's own thread may have sent the batch first: either way, once.
    let notes: Vec<&Value> = got
        .iter()
        .filter(|(e, _)| e == "notes")
        .map(|(_, d)| d)
        .collect();
    let all: Vec<&Value> = notes
        .iter()
        .flat_map(|d| d["notes"].as_array().unwrap())
        .collect();
    assert_eq!(
        all,
        [&json!([1500, "90 3C 40"]), &json!([2500, "80 3C 00"])]
    );
    assert!(notes[0]["t0_us"].as_u64().is_some());
    let measure = got.iter().find(|(e, _)| e == "measure").unwrap();
    let note = &measure.1["notes"][0];
    assert_eq!(measure.1["side"], 0);
    assert_eq!(note["partition"], 2);
    assert_eq!(note["latency_ms"], 3.0);
    assert_eq!(note["onset_ms"], -0.5);
    assert_eq!(note["reordered"], true);
    hub.flush();
    assert!(drain(&l).is_empty(), "nothing twice");
}

#[test]
fn applied_churn_events_become_markers() {
    let hub = Hub::new("compare", &["A", "B"], 16);
    let l = hub.subscribe();
    let log = Arc::new(Mutex::new(GroupLog::default()));
    hub.watch(1, Arc::clone(&log));
    lock(&log).events.push(kmidi_engine::churn::AppliedEvent {
        event: "join@5s".to_string(),
        kind: kmidi_engine::churn::ChurnKind::Join,
        at_score_s: 5.0,
        applied_us: unix_us(),
        member: Some(3),
    });
    hub.flush();
    hub.flush();
    let markers: Vec<_> = drain(&l)
        .into_iter()
        .filter(|(e, _)| e == "marker")
        .collect();
    assert_eq!(markers.len(), 1, "{markers:?}");
    assert_eq!(markers[0].1["side"], 1);
    assert_eq!(markers[0].1["label"], "join@5s");
    assert!(markers[0].1["at_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(hub.state()["markers"][0]["label"], "join@5s");
}

#[test]
fn the_end_reaches_a_full_queue_once_it_drains_and_is_kept_for_later_pages() {
    let hub = Hub::new("demo", &["demo"], 2);
    let full = hub.subscribe();
    hub.broadcast("figures", &json!({}));
    hub.broadcast("figures", &json!({}));
    let reader = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        let mut events = Vec::new();
        while let Ok(f) = full.rx.recv_timeout(Duration::from_secs(2)) {
            let last = f.last;
            events.push(parse(&f.text).0);
            if last {
                full.done.store(true, Ordering::SeqCst);
                break;
            }
        }
        events
    });
    let started = Instant::now();
    hub.end(
        json!({"final": [{"label": "demo", "rows": []}]}),
        Duration::from_secs(2),
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "returned once written"
    );
    assert_eq!(reader.join().unwrap(), ["figures", "figures", "end"]);
    let state = hub.state();
    assert_eq!(state["ended"], true);
    assert_eq!(state["final"]["final"][0]["label"], "demo");
    let late = hub.subscribe();
    assert_eq!(parse(&late.greeting.last().unwrap().text).0, "end");
}

#[test]
fn the_end_waits_no_longer_than_its_grace_for_a_page_that_never_reads() {
    let hub = Hub::new("demo", &["demo"], 2);
    let _stuck = hub.subscribe();
    let started = Instant::now();
    hub.end(json!({"final": []}), Duration::from_millis(200));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(2),
        "{took:?}"
    );
}
