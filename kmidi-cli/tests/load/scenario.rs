//! `--scenario` load steps and ramps through the CLI, made by the local driver's load
//! workers: each step starts at its song time, reports what it achieved beside what it
//! asked, and what every side heard adds up with what the score sent.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::{broker, compare, scheduled_s, SONG};
use crate::common::{
    instrument_in, player_at, read_report, repo, run, spawn, stderr, wait_bounded,
};

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number: {v}"))
}

/// The notes the score puts in a window, by the figures' rule: half-open, but the
/// song's last note belongs to the window reaching the end.
fn scored_in(scheduled: &[f64], w: &Value) -> u64 {
    let (from, to) = (f(&w["from_s"]), f(&w["to_s"]));
    let end = scheduled.iter().copied().fold(0.0, f64::max);
    scheduled
        .iter()
        .filter(|t| from < to && **t >= from && (**t < to || (to >= end && **t <= to)))
        .count() as u64
}

/// Every load step of the report was applied at its time (song time `at_s[i]`) and
/// made about what it asked.
fn assert_steps_applied(doc: &Value, at_s: &[f64]) {
    let steps = doc["load"]["steps"].as_array().expect("a load section");
    assert_eq!(steps.len(), at_s.len(), "{steps:#?}");
    for (step, at) in steps.iter().zip(at_s) {
        assert_eq!(step["state"], "done", "{step:#}");
        let started = f(&step["started_s"]);
        assert!((at - 0.1..at + 1.5).contains(&started), "{step:#}");
        let a = &step["achieved"];
        assert!(a["records_sent"].as_u64().unwrap() > 0, "{step:#}");
        assert_eq!(a["errors"], 0, "{step:#}");
        let asked = f(&step["asked_bytes_per_sec"]);
        let achieved = f(&a["achieved_bytes_per_sec"]);
        assert!(
            (0.5..1.5).contains(&(achieved / asked)),
            "achieved {achieved} of {asked}: {step:#}"
        );
    }
}

/// A 3 s step and a three-level ramp during one compare of rdkafka with itself: each
/// step applied at its time with what it achieved; on each side, in every window of
/// every step, the notes heard plus the notes lost are the notes the score put there.
#[test]
fn a_load_step_and_a_ramp_are_applied_and_their_figures_add_up() {
    let b = broker();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("compare.json");
    let topic = b.unique("load-cli");
    let load_topic = b.unique("load-cli-load");
    let scenario = format!(
        "load@1s:rate=300KB/s:size=10KB:for=3s:topic={load_topic},\
         ramp@5s:from=100KB/s:to=300KB/s:step=100KB/s:every=2s:size=10KB:topic={load_topic}:until=end"
    );
    let out = run(compare(dir.path(), &topic, &scenario)
        .arg("--report")
        .arg(&report));
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("made by kmidi load workers through rdkafka"),
        "{err}"
    );
    assert!(err.contains("knee of ramp 1 for A (rdkafka)"), "{err}");
    let doc = read_report(&report);
    assert_steps_applied(&doc, &[1.0, 5.0, 7.0, 9.0]);
    let scheduled = scheduled_s(&repo().join(SONG));
    for side in doc["sides"].as_array().unwrap() {
        let sent = side["player"]["sent"].as_u64().unwrap();
        assert_eq!(side["instrument"]["played"], sent, "every note heard once");
        let steps = side["load"]["steps"]
            .as_array()
            .expect("the side's load figures");
        assert_eq!(steps.len(), 4);
        for step in steps {
            for w in ["before", "during", "after"] {
                let w = &step[w];
                let heard_and_lost = w["notes"].as_u64().unwrap() + w["lost"].as_u64().unwrap();
                assert_eq!(
                    heard_and_lost,
                    scored_in(&scheduled, w),
                    "{}: {w:#}",
                    side["label"]
                );
            }
            assert!(
                step["during"]["player_lateness_p99_us"].as_u64().is_some(),
                "{step:#}"
            );
            assert!(
                step["during"]["processing_p99_us"].as_u64().is_some(),
                "{step:#}"
            );
        }
        let knees = side["load"]["knees"].as_array().unwrap();
        assert_eq!(knees.len(), 1);
        assert_eq!(knees[0]["levels"], 3);
    }
}

/// An instrument hearing a player elsewhere learns the song's start from the notes: its
/// load step starts at its song time, as the player plays it.
#[test]
fn an_instrument_starts_its_load_at_the_song_time_it_hears() {
    let b = broker();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("instrument.json");
    let topic = b.unique("load-instrument");
    b.create_topic(&topic, 1);
    let group = format!("g-{topic}");
    let scenario = format!(
        "load@3s:rate=100KB/s:size=10KB:for=2s:topic={}",
        b.unique("load-instrument-load")
    );
    let listener = spawn(
        instrument_in(&b.bootstrap, &topic, &group)
            .args(["--idle-exit", "4", "--scenario", &scenario, "--report"])
            .arg(&report)
            .arg("--record")
            .arg(dir.path().join("heard.mid")),
    );
    // At the written tempo (15 s), so the step falls inside the song.
    std::thread::sleep(Duration::from_secs(2));
    let played = run(player_at(&b.bootstrap, &topic, "1.0").args(["-m", SONG]));
    assert!(played.status.success(), "{}", stderr(&played));
    let out = wait_bounded(listener, Duration::from_secs(90));
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = read_report(Path::new(&report));
    assert_steps_applied(&doc, &[3.0]);
    let step = &doc["sides"][0]["load"]["steps"][0];
    assert!(step["during"]["notes"].as_u64().unwrap() > 0, "{step:#}");
}
