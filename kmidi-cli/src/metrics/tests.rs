//! Unit tests of the metrics: what each event feeds, and the dashboard against what is exported.

use kmidi_engine::listen::ListenReport;
use kmidi_engine::measure::Verdict;

use super::*;

#[test]
fn a_heard_note_feeds_kmidis_and_kminions_series() {
    let metrics = Arc::new(Metrics::new(Role::Both));
    let side = SideObserver::shared(&metrics, "rdkafka", "notes");
    let verdict = Verdict {
        latency_us: Some(3_500),
        onset_us: Some(-7_000),
        late: false,
        duplicate: true,
        reordered: false,
    };
    side.heard("notes", 2, &verdict);
    side.sent("notes", 40, false);
    side.bad_record("notes", 2, "not_json");
    let text = metrics.encode();
    for line in [
        r#"kmidi_messages_received_total{topic="notes",partition="2",transport="rdkafka"} 1"#,
        r#"kmidi_messages_duplicated_total{topic="notes",partition="2",transport="rdkafka"} 1"#,
        r#"kmidi_end_to_end_latency_seconds_bucket{le="0.004",topic="notes",partition="2",transport="rdkafka"} 1"#,
        r#"kmidi_end_to_end_latency_seconds_bucket{le="0.003",topic="notes",partition="2",transport="rdkafka"} 0"#,
        r#"kmidi_onset_error_seconds_bucket{le="0.008",topic="notes",partition="2",transport="rdkafka"} 1"#,
        r#"kminion_end_to_end_messages_received_total{partition_id="2"} 1"#,
        r#"kmidi_player_send_errors_total{topic="notes",transport="rdkafka"} 1"#,
        r#"kmidi_bad_records_total{topic="notes",partition="2",transport="rdkafka",kind="not_json"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
    assert!(
        text.lines().any(|l| l
            == r#"kmidi_messages_reordered_total{topic="notes",partition="2",transport="rdkafka"} 0"#),
        "what did not happen is 0, not missing:\n{text}"
    );
}

/// An exposition with every family present: an empty family is not encoded at all.
fn every_series() -> String {
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant};

    use kmidi_engine::measure::Meter;
    use kmidi_engine::wire::Measure;

    let metrics = Arc::new(Metrics::new(Role::Both));
    let side = SideObserver::shared(&metrics, "t", "notes");
    let all = Verdict {
        latency_us: Some(1),
        onset_us: Some(1),
        late: true,
        duplicate: true,
        reordered: true,
    };
    side.heard("notes", 0, &all);
    side.bad_record("notes", 0, "not_json");
    side.transient_error();
    side.missed_deadline("notes", 0);
    side.sent("notes", 1, true);
    side.sent("notes", 1, false);
    side.delivery_failed("notes");
    let mut meter = Meter::default();
    let t0 = Instant::now();
    for seq in 0..3 {
        let m = Measure {
            song: Some("s".into()),
            seq: Some(seq),
            offset_us: Some(seq * 400_000),
            ..Measure::default()
        };
        meter.observe(t0 + Duration::from_millis(seq * 400), 0, "notes", 0, &m);
    }
    side.live(&ListenReport {
        played: 3,
        bad: BTreeMap::new(),
        meter,
        fatal: None,
        ..ListenReport::default()
    });
    metrics.encode()
}

/// The sample names an exposition can contain, from its `# TYPE` lines.
fn exported_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if (words.next(), words.next()) != (Some("#"), Some("TYPE")) {
            continue;
        }
        let (Some(name), Some(kind)) = (words.next(), words.next()) else {
            continue;
        };
        let suffixes: &[&str] = match kind {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_count", "_sum"],
            _ => &[""],
        };
        names.extend(suffixes.iter().map(|s| format!("{name}{s}")));
    }
    names
}

#[test]
fn the_grafana_dashboard_queries_only_series_kmidi_exports() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/grafana/kmidi-dashboard.json"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let exported = exported_names(&every_series());
    assert!(exported.contains(&"kmidi_end_to_end_latency_seconds_bucket".to_string()));
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(
        panels.len() >= 8,
        "latency, onset, late, lost, reordered, ..."
    );
    for panel in panels {
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{}", panel["title"]);
        for t in targets {
            let expr = t["expr"].as_str().unwrap();
            let used: Vec<&str> = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("kmidi_") || w.starts_with("kminion_"))
                .collect();
            assert!(!used.is_empty(), "{expr}");
            for name in used {
                assert!(exported.iter().any(|e| e == name), "{name} in {expr}");
            }
        }
    }
}

#[test]
fn an_assigned_partition_exports_every_counter_at_zero_before_any_note() {
    use kmidi_engine::assignment::Assignment;

    let metrics = Arc::new(Metrics::new(Role::Instrument));
    let side = SideObserver::shared(&metrics, "t", "notes");
    let mut report = ListenReport::default();
    report.assignments.history.push(Assignment {
        at_s: 0.0,
        at_unix_ms: 0.0,
        partitions: vec![("notes".to_string(), 3)],
    });
    side.live(&report);
    let text = metrics.encode();
    let mut expected = vec![
        r#"kmidi_messages_duplicated_total{topic="notes",partition="3",transport="t"} 0"#
            .to_string(),
        r#"kmidi_messages_reordered_total{topic="notes",partition="3",transport="t"} 0"#
            .to_string(),
        r#"kmidi_messages_received_total{topic="notes",partition="3",transport="t"} 0"#.to_string(),
        r#"kmidi_consumer_transient_errors_total{topic="notes",transport="t"} 0"#.to_string(),
    ];
    for kind in kmidi_engine::listen::BAD_RECORD_KINDS {
        expected.push(format!(
            r#"kmidi_bad_records_total{{topic="notes",partition="3",transport="t",kind="{kind}"}} 0"#
        ));
    }
    for line in expected {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
}

#[test]
fn only_a_process_that_produces_exports_producer_series() {
    let listening = Arc::new(Metrics::new(Role::Instrument));
    let _side = SideObserver::shared(&listening, "t", "notes");
    let text = listening.encode();
    assert!(
        !text.contains("kminion_end_to_end_messages_produced"),
        "{text}"
    );
    assert!(!text.contains("kmidi_player_"), "{text}");
    assert!(
        text.contains(r#"kmidi_consumer_transient_errors_total{topic="notes",transport="t"} 0"#),
        "{text}"
    );
    let playing = Arc::new(Metrics::new(Role::Player));
    let _side = SideObserver::shared(&playing, "t", "notes");
    let text = playing.encode();
    assert!(
        text.contains("kminion_end_to_end_messages_produced_total 0"),
        "{text}"
    );
    assert!(
        text.contains(r#"kmidi_player_send_errors_total{topic="notes",transport="t"} 0"#),
        "{text}"
    );
    assert!(!text.contains("kmidi_messages_received"), "{text}");
}
