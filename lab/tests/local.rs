//! The local driver against a real 4.3.1 broker on loopback. Its java client: Kafka's
//! own ProducerPerformance makes a step's load and says what it achieved, and a step
//! stopped early leaves no load process behind. Its transport client is tested through
//! the real `kmidi load-worker` in `kmidi-cli/tests/load_worker.rs`. Loads are tiny and
//! bounded.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kmidi_lab::local::LocalDriver;
use kmidi_lab::scenario::{LoadStep, LoadTopic, Rate};
use kmidi_lab::{DriverError, LoadDriver, LoadReport, StepHandle};
use kmidi_test_support::{kafka_version, repo, Broker};

/// A step's duration, the JVMs' starts and the grace, with room for a busy machine.
const REPORT_WITHIN: Duration = Duration::from_secs(60);

/// One load at a time: the machine has two cores for a broker, the tools' JVMs and the
/// tests, and an achieved rate is only worth checking when the load had them.
fn one_load_at_a_time() -> MutexGuard<'static, ()> {
    static LOAD: Mutex<()> = Mutex::new(());
    LOAD.lock().unwrap_or_else(|p| p.into_inner())
}

fn kafka_sh() -> PathBuf {
    repo().join("scripts/kafka.sh")
}

fn step(records_per_sec: f64, duration: Duration, topic: &str) -> LoadStep {
    LoadStep {
        at: Duration::ZERO,
        rate: Rate::RecordsPerSec(records_per_sec),
        record_size: 1000,
        duration,
        topic: LoadTopic {
            name: topic.to_string(),
            partitions: 3,
            replication_factor: 1,
        },
        consumers: 0,
        ramp: None,
    }
}

fn wait_report(driver: &mut LocalDriver, handle: &StepHandle) -> LoadReport {
    let deadline = Instant::now() + REPORT_WITHIN;
    loop {
        if let Some(report) = driver.poll(handle).unwrap() {
            return report;
        }
        assert!(
            Instant::now() < deadline,
            "no report within {REPORT_WITHIN:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Java processes whose command line names `topic`.
fn java_processes_on(topic: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_java = args.first().is_some_and(|a| a.ends_with("java"));
        if is_java && args.iter().any(|a| a == topic) {
            found.push(pid);
        }
    }
    found
}

/// 500 records/s of 1 KB for 3 s, with a consumer group of one: achieved within 20 %
/// of the asked rate, the tool's own ack latency percentiles recorded.
#[test]
fn a_java_step_records_what_it_achieved() {
    let broker = Broker::shared(&kafka_version("4"));
    let _one = one_load_at_a_time();
    let topic = broker.unique("local-java");
    let mut driver = LocalDriver::java(kafka_sh(), &broker.version);
    let mut load = step(500.0, Duration::from_secs(3), &topic);
    load.consumers = 1;
    let handle = driver.start(0, &load, &broker.bootstrap).unwrap();
    let report = wait_report(&mut driver, &handle);
    eprintln!("{report:?}");
    assert_eq!(report.step, 0);
    assert_eq!(report.records_sent, 1500, "{report:?}");
    let fraction = report.fraction_achieved().unwrap();
    assert!((0.8..=1.2).contains(&fraction), "{report:?}");
    assert!(
        (report.achieved_bytes_per_sec - report.achieved_records_per_sec * 1000.0).abs() < 1e-6,
        "{report:?}"
    );
    let (p50, p99) = (
        report.ack_latency_p50_ms.unwrap(),
        report.ack_latency_p99_ms.unwrap(),
    );
    assert!(p50 >= 0.0 && p99 >= p50, "{report:?}");
    assert_eq!(report.errors, 0, "{report:?}");
    // Its consumer joined while the producer ran (from the latest offset).
    assert!(report.records_consumed.unwrap() > 0, "{report:?}");
    // The topic was created as the step said, not auto-created.
    let described = broker.run_tool("topics", &["--describe", "--topic", &topic]);
    assert!(described.contains("PartitionCount: 3"), "{described}");
    assert!(java_processes_on(&topic).is_empty());
    driver.stop_all().unwrap();
}

/// A 60 s step stopped after its producer has started: no ProducerPerformance is left,
/// and what it made so far is reported.
#[test]
fn a_step_stopped_early_leaves_no_load_process() {
    let broker = Broker::shared(&kafka_version("4"));
    let _one = one_load_at_a_time();
    let topic = broker.unique("local-stop");
    let mut driver = LocalDriver::java(kafka_sh(), &broker.version);
    let handle = driver
        .start(
            0,
            &step(200.0, Duration::from_secs(60), &topic),
            &broker.bootstrap,
        )
        .unwrap();
    let deadline = Instant::now() + REPORT_WITHIN;
    while java_processes_on(&topic).is_empty() {
        assert!(
            Instant::now() < deadline,
            "ProducerPerformance never started"
        );
        assert_eq!(driver.poll(&handle).unwrap(), None);
        std::thread::sleep(Duration::from_millis(200));
    }
    // Its first progress line (every second on 4.x), so there is something to report.
    let made_load = |d: &LocalDriver| {
        d.output(&handle)
            .iter()
            .any(|l| l.starts_with("producer: ") && l.contains("records sent"))
    };
    while !made_load(&driver) {
        assert!(
            Instant::now() < deadline,
            "no progress line: {:?}",
            driver.output(&handle)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    driver.stop_all().unwrap();
    assert!(java_processes_on(&topic).is_empty(), "load left running");
    let report = driver
        .poll(&handle)
        .unwrap()
        .expect("a stopped step reports");
    assert!(report.records_sent > 0, "{report:?}");
    assert_eq!(report.ack_latency_p99_ms, None, "{report:?}");
}

/// Dropping the driver stops its load too.
#[test]
fn dropping_the_driver_stops_its_load() {
    let broker = Broker::shared(&kafka_version("4"));
    let _one = one_load_at_a_time();
    let topic = broker.unique("local-drop");
    let mut driver = LocalDriver::java(kafka_sh(), &broker.version);
    driver
        .start(
            0,
            &step(100.0, Duration::from_secs(60), &topic),
            &broker.bootstrap,
        )
        .unwrap();
    let deadline = Instant::now() + REPORT_WITHIN;
    while java_processes_on(&topic).is_empty() {
        assert!(
            Instant::now() < deadline,
            "ProducerPerformance never started"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(driver);
    assert!(java_processes_on(&topic).is_empty(), "load left running");
}

#[test]
fn a_cluster_off_loopback_is_refused_without_the_flag() {
    let mut driver = LocalDriver::java(kafka_sh(), "4.3.1");
    let load = step(10.0, Duration::from_secs(1), "t");
    let err = driver.start(0, &load, "10.0.0.1:9092").unwrap_err();
    assert!(matches!(err, DriverError::NotLoopback { .. }), "{err}");
}
