use std::time::Duration;

use kmidi_engine::churn::{ChurnKind, ChurnScript};

use super::*;

pub(super) fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

pub(super) fn parse(s: &str) -> Scenario {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

pub(super) fn err(s: &str) -> ScenarioError {
    s.parse::<Scenario>().unwrap_err()
}

#[test]
fn a_churn_script_is_a_scenario_without_load() {
    let text = "kill@30s, join@10s,leave@20.5s,join@1500ms";
    let s = parse(text);
    assert_eq!(s.churn, text.parse::<ChurnScript>().unwrap());
    assert_eq!(s.churn_only(), s.churn);
    assert!(s.has_churn() && !s.has_load());
    assert!(s.ramps.is_empty());
    assert_eq!(s.to_string(), "join@1.5s,join@10s,leave@20.5s,kill@30s");
}

#[test]
fn a_load_step_takes_its_defaults() {
    let s = parse("load@10s:rate=5MB/s:for=20s");
    assert!(!s.has_churn());
    assert_eq!(
        s.load,
        vec![LoadStep {
            at: secs(10.0),
            rate: Rate::BytesPerSec(5e6),
            record_size: 10_000,
            duration: secs(20.0),
            topic: LoadTopic {
                name: "kmidi_load".into(),
                partitions: 6,
                replication_factor: 1,
            },
            consumers: 0,
            ramp: None,
        }]
    );
    assert_eq!(s.load[0].end(), secs(30.0));
    assert_eq!(s.load[0].records_per_sec(), 500.0);
    assert_eq!(s.load[0].bytes_per_sec(), 5e6);
    assert_eq!(s.load_end(), Some(secs(30.0)));
    assert_eq!(s.to_string(), "load@10s:rate=5MB/s:size=10KB:for=20s");
}

#[test]
fn a_load_step_takes_every_key_in_any_order_and_case() {
    let s = parse(
        " LOAD@2.5s : Consumers=2 :rf=3:partitions=12:topic=noise.1:size=1.5KB:for=1500ms:rate=800rec/s ",
    );
    let l = &s.load[0];
    assert_eq!(l.at, secs(2.5));
    assert_eq!(l.rate, Rate::RecordsPerSec(800.0));
    assert_eq!(l.record_size, 1500);
    assert_eq!(l.duration, secs(1.5));
    assert_eq!(l.topic.name, "noise.1");
    assert_eq!((l.topic.partitions, l.topic.replication_factor), (12, 3));
    assert_eq!(l.consumers, 2);
    assert_eq!(l.bytes_per_sec(), 1_200_000.0);
    assert_eq!(
        s.to_string(),
        "load@2.5s:rate=800rec/s:size=1.5KB:for=1.5s:topic=noise.1:partitions=12:rf=3:consumers=2"
    );
    let spec = l.topic.spec();
    assert_eq!(
        (spec.name.as_str(), spec.partitions, spec.replication_factor),
        ("noise.1", 12, 3)
    );
}

#[test]
fn a_ramp_expands_into_consecutive_levels() {
    let s = parse("ramp@10s:from=1MB/s:to=50MB/s:step=5MB/s:every=10s");
    assert_eq!(s.ramps.len(), 1);
    // 1, 6, ..., 46: 51 would be above `to`.
    assert_eq!(s.load.len(), 10);
    for (i, l) in s.load.iter().enumerate() {
        assert_eq!(l.at, secs(10.0 + 10.0 * i as f64));
        assert_eq!(l.duration, secs(10.0));
        assert_eq!(l.rate, Rate::BytesPerSec(1e6 + 5e6 * i as f64));
        assert_eq!(l.record_size, DEFAULT_RECORD_SIZE);
        assert_eq!(l.topic, LoadTopic::default());
        assert_eq!(
            l.ramp,
            Some(RampInfo {
                index: 0,
                level: i,
                levels: 10,
                until: RampUntil::Broken,
            })
        );
    }
    assert_eq!(s.load_end(), Some(secs(110.0)));
    assert_eq!(s.load[9].label(), "ramp@10s level 10/10: 46MB/s");
    assert_eq!(
        s.load[9].to_string(),
        "load@100s:rate=46MB/s:size=10KB:for=10s"
    );
    assert_eq!(
        s.to_string(),
        "ramp@10s:from=1MB/s:to=50MB/s:step=5MB/s:every=10s:size=10KB"
    );
}

#[test]
fn a_ramp_runs_every_level_only_when_until_end_asks() {
    let s = parse("ramp@0s:from=1MB/s:to=2MB/s:step=1MB/s:every=1s:until=END");
    assert_eq!(s.ramps[0].until, RampUntil::End);
    assert!(s
        .load
        .iter()
        .all(|l| l.ramp.unwrap().until == RampUntil::End));
    assert_eq!(
        s.to_string(),
        "ramp@0s:from=1MB/s:to=2MB/s:step=1MB/s:every=1s:size=10KB:until=end"
    );
    let s = parse("ramp@0s:from=1MB/s:to=2MB/s:step=1MB/s:every=1s:until=broken");
    assert_eq!(s.ramps[0].until, RampUntil::Broken);
    let e = err("ramp@0s:from=1MB/s:to=2MB/s:step=1MB/s:every=1s:until=later").to_string();
    assert!(
        e.contains("until=later is not broken") && e.contains("or end"),
        "{e}"
    );
}

#[test]
fn a_ramp_reaches_its_top_despite_rounding() {
    let s = parse("ramp@0s:from=1MB/s:to=2MB/s:step=0.1MB/s:every=1s");
    assert_eq!(s.load.len(), 11);
    let top = s.load[10].rate.value();
    assert!((top - 2e6).abs() < 1e-3, "{top}");
    let s = parse("ramp@0s:from=100rec/s:to=100rec/s:step=10rec/s:every=1s:size=1KB");
    assert_eq!(s.load.len(), 1);
    assert_eq!(s.load[0].rate, Rate::RecordsPerSec(100.0));
    assert_eq!(s.ramps[0].levels(), 1);
    let s = parse("ramp@0s:from=500KB/s:to=2MB/s:step=500KB/s:every=1s");
    let rates: Vec<f64> = s.load.iter().map(|l| l.rate.value()).collect();
    assert_eq!(rates, vec![5e5, 1e6, 1.5e6, 2e6]);
}

#[test]
fn steps_written_in_any_order_are_applied_in_score_order() {
    let s = parse(
        "load@40s:rate=1MB/s:for=5s,kill@30s,ramp@20s:from=1MB/s:to=2MB/s:step=1MB/s:every=10s,\
         join@5s,ramp@1s:from=10rec/s:to=10rec/s:step=1rec/s:every=1s,load@20s:rate=9MB/s:for=1s",
    );
    let churn: Vec<(ChurnKind, Duration)> = s.churn.events.iter().map(|e| (e.kind, e.at)).collect();
    assert_eq!(
        churn,
        vec![(ChurnKind::Join, secs(5.0)), (ChurnKind::Kill, secs(30.0))]
    );
    let load: Vec<(Duration, f64, Option<usize>)> = s
        .load
        .iter()
        .map(|l| (l.at, l.rate.value(), l.ramp.map(|r| r.index)))
        .collect();
    assert_eq!(
        load,
        vec![
            (secs(1.0), 10.0, Some(0)),
            // At one time, a plain step before a ramp's level.
            (secs(20.0), 9e6, None),
            (secs(20.0), 1e6, Some(1)),
            (secs(30.0), 2e6, Some(1)),
            (secs(40.0), 1e6, None),
        ]
    );
    assert_eq!(s.ramps[0].at, secs(1.0));
    let ramp1: Vec<usize> = s.ramp_steps(1).map(|(i, _)| i).collect();
    assert_eq!(ramp1, vec![2, 3]);
    assert_eq!(s.load[3].label(), "ramp 2@20s level 2/2: 2MB/s");
    assert_eq!(
        s.to_string(),
        "ramp@1s:from=10rec/s:to=10rec/s:step=1rec/s:every=1s:size=10KB,join@5s,\
         load@20s:rate=9MB/s:size=10KB:for=1s,\
         ramp@20s:from=1MB/s:to=2MB/s:step=1MB/s:every=10s:size=10KB,\
         kill@30s,load@40s:rate=1MB/s:size=10KB:for=5s"
    );
}

#[test]
fn a_scenario_written_back_reads_the_same() {
    for text in [
        "join@10s",
        "load@10s:rate=5MB/s:size=10KB:for=20s",
        "load@0.5s:rate=1.1MB/s:size=999B:for=0.25s:topic=x:partitions=1:rf=2:consumers=3",
        "ramp@10s:from=1MB/s:to=50MB/s:step=5MB/s:every=10s:topic=t:consumers=1",
        "ramp@3s:from=0.3MB/s:to=1MB/s:step=0.1MB/s:every=1500ms:size=1MB",
        "load@5s:rate=2MB/s:for=5s,load@5s:rate=1MB/s:for=5s,join@5s,\
         ramp@5s:from=1rec/s:to=3rec/s:step=1rec/s:every=1s,\
         ramp@5s:from=1KB/s:to=2KB/s:step=1KB/s:every=2s,leave@1s",
        "load@1s:rate=123456.789B/s:for=1s",
    ] {
        let s = parse(text);
        let written = s.to_string();
        let again = parse(&written);
        assert_eq!(again, s, "{text} -> {written}");
        assert_eq!(again.to_string(), written);
    }
}

#[test]
fn the_load_topics_are_listed_once_each() {
    let s = parse(
        "load@1s:rate=1MB/s:for=1s:topic=a,load@2s:rate=1MB/s:for=1s,\
         load@3s:rate=1MB/s:for=1s:topic=a:partitions=3",
    );
    let names: Vec<&str> = s.load_topics().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["a", "kmidi_load"]);
    assert_eq!(Scenario::default().load_end(), None);
}

#[test]
fn malformed_steps_are_refused_with_the_step_named() {
    assert_eq!(err("load10s"), ScenarioError::Shape("load10s".into()));
    assert_eq!(
        err("burst@3s:rate=1MB/s"),
        ScenarioError::Action("burst@3s:rate=1MB/s".into(), "burst".into())
    );
    assert_eq!(
        err("load@soon:rate=1MB/s:for=1s"),
        ScenarioError::Time("load@soon:rate=1MB/s:for=1s".into(), "soon".into())
    );
    assert_eq!(
        err("kill@30s:hard=1"),
        ScenarioError::ChurnKeys("kill@30s:hard=1".into())
    );
    assert_eq!(
        err("kill@x"),
        ScenarioError::Time("kill@x".into(), "x".into())
    );
    assert_eq!(
        err("load@1s:rate"),
        ScenarioError::Pair("load@1s:rate".into(), "rate".into())
    );
    assert_eq!(err(" , "), ScenarioError::Empty);
    assert_eq!(err(""), ScenarioError::Empty);
    let e = err("load@1s:rate=1MB/s:for=1s:speed=2").to_string();
    assert!(
        e.contains("unknown key 'speed'") && e.contains("rate, size, for"),
        "{e}"
    );
    let e = err("ramp@1s:rate=1MB/s").to_string();
    assert!(
        e.contains("unknown key 'rate'") && e.contains("from, to, step"),
        "{e}"
    );
    assert_eq!(
        err("load@1s:rate=1MB/s:for=1s:rate=2MB/s"),
        ScenarioError::DuplicateKey("load@1s:rate=1MB/s:for=1s:rate=2MB/s".into(), "rate".into())
    );
}

#[test]
fn missing_and_bad_values_are_refused_with_the_fix() {
    let e = err("load@1s:for=1s");
    assert!(
        matches!(e, ScenarioError::Missing { key: "rate", .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("rate=5MB/s"));
    let e = err("load@1s:rate=1MB/s");
    assert!(
        matches!(e, ScenarioError::Missing { key: "for", .. }),
        "{e:?}"
    );
    for key in ["from", "to", "step", "every"] {
        let all = "from=1MB/s:to=2MB/s:step=1MB/s:every=1s";
        let without: Vec<&str> = all.split(':').filter(|p| !p.starts_with(key)).collect();
        let e = err(&format!("ramp@1s:{}", without.join(":")));
        assert!(
            matches!(e, ScenarioError::Missing { key: k, .. } if k == key),
            "{e:?}"
        );
    }
    let e = err("load@1s:rate=5Mb/s:for=1s");
    assert!(
        matches!(e, ScenarioError::Unit { ref key, .. } if key == "rate"),
        "{e:?}"
    );
    assert!(e.to_string().contains("MB/s, KB/s"), "{e}");
    let e = err("load@1s:rate=0MB/s:for=1s");
    assert!(
        matches!(e, ScenarioError::Value { ref key, .. } if key == "rate"),
        "{e:?}"
    );
    assert_eq!(
        err("load@1s:rate=1MB/s:for=0s"),
        ScenarioError::ZeroDuration("load@1s:rate=1MB/s:for=0s".into())
    );
    let e = err("load@1s:rate=1MB/s:for=forever");
    assert_eq!(
        e,
        ScenarioError::Time("load@1s:rate=1MB/s:for=forever".into(), "forever".into())
    );
    let e = err("load@1s:rate=1MB/s:for=1s:size=10KiB");
    assert!(
        matches!(e, ScenarioError::Unit { ref key, .. } if key == "size"),
        "{e:?}"
    );
    for bad in [
        "size=0",
        "size=11MB",
        "size=1.5B",
        "partitions=0",
        "partitions=1001",
    ] {
        let e = err(&format!("load@1s:rate=1MB/s:for=1s:{bad}"));
        assert!(matches!(e, ScenarioError::Value { .. }), "{bad}: {e:?}");
    }
    for bad in [
        "rf=0",
        "rf=17",
        "consumers=33",
        "consumers=-1",
        "partitions=x",
    ] {
        let e = err(&format!("load@1s:rate=1MB/s:for=1s:{bad}"));
        assert!(matches!(e, ScenarioError::Value { .. }), "{bad}: {e:?}");
    }
    for bad in ["", "a/b", "..", ".", "x y", &"t".repeat(250)] {
        let e = err(&format!("load@1s:rate=1MB/s:for=1s:topic={bad}"));
        assert!(matches!(e, ScenarioError::Topic(..)), "{bad}: {e:?}");
    }
}

#[test]
fn ramps_must_go_up_in_one_unit() {
    let step = "ramp@1s:from=5MB/s:to=1MB/s:step=1MB/s:every=1s";
    assert_eq!(err(step), ScenarioError::RampOrder(step.into()));
    let step = "ramp@1s:from=1MB/s:to=5MB/s:step=0MB/s:every=1s";
    assert_eq!(err(step), ScenarioError::RampStep(step.into()));
    let step = "ramp@1s:from=1MB/s:to=5MB/s:step=-1MB/s:every=1s";
    assert_eq!(err(step), ScenarioError::RampStep(step.into()));
    let step = "ramp@1s:from=1MB/s:to=5000rec/s:step=1MB/s:every=1s";
    assert_eq!(err(step), ScenarioError::RampUnits(step.into()));
    let step = "ramp@1s:from=1MB/s:to=5MB/s:step=100rec/s:every=1s";
    assert_eq!(err(step), ScenarioError::RampUnits(step.into()));
    let e = err("ramp@1s:from=1MB/s:to=5MB/s:step=1MB/s:every=0s");
    assert!(
        matches!(e, ScenarioError::Value { ref key, .. } if key == "every"),
        "{e:?}"
    );
}

#[test]
fn every_step_is_bounded_in_count_and_time() {
    let ok = parse("load@1s:rate=1MB/s:for=3600s");
    assert_eq!(ok.load[0].duration, MAX_STEP_DURATION);
    let e = err("load@1s:rate=1MB/s:for=3601s");
    assert!(
        matches!(
            e,
            ScenarioError::TooLong {
                key: "for",
                max_s: 3600,
                ..
            }
        ),
        "{e:?}"
    );
    let e = err("ramp@1s:from=1MB/s:to=2MB/s:step=1MB/s:every=2h");
    assert!(matches!(e, ScenarioError::Time(..)), "{e:?}");
    let e = err("ramp@1s:from=1MB/s:to=2MB/s:step=1MB/s:every=3601s");
    assert!(
        matches!(e, ScenarioError::TooLong { key: "every", .. }),
        "{e:?}"
    );
    let s = parse("ramp@0s:from=1rec/s:to=100rec/s:step=1rec/s:every=1s");
    assert_eq!(s.load.len(), MAX_RAMP_LEVELS as usize);
    let step = "ramp@0s:from=1rec/s:to=101rec/s:step=1rec/s:every=1s";
    assert_eq!(err(step), ScenarioError::RampLevels(step.into(), 101, 100));
    let step = "ramp@0s:from=1B/s:to=1GB/s:step=1B/s:every=1s";
    assert!(matches!(err(step), ScenarioError::RampLevels(_, n, 100) if n > 1_000_000));
    // A time too large for a Duration is refused, not a panic.
    let e = err("load@1e300s:rate=1MB/s:for=1s");
    assert!(matches!(e, ScenarioError::Time(..)), "{e:?}");
    assert_eq!(
        err("kill@1e300s"),
        ScenarioError::Time("kill@1e300s".into(), "1e300s".into())
    );
}
