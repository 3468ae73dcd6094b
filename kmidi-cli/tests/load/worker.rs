//! `kmidi load-worker` against the shared 4.3.1 broker, started by the local
//! load driver as its `transport` client does: it makes its rate through rdkafka, and
//! it quits when its stdin closes. Loads are tiny and bounded.

use std::time::{Duration, Instant};

use kmidi_lab::local::{LocalDriver, WorkerCommand, WorkerLine};
use kmidi_lab::scenario::{LoadStep, LoadTopic, Rate};
use kmidi_lab::{LoadDriver, StepHandle};
use kmidi_test_support::{kafka_version, Broker};

const REPORT_WITHIN: Duration = Duration::from_secs(60);

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

fn driver() -> LocalDriver {
    LocalDriver::transport(WorkerCommand::kmidi(env!("CARGO_BIN_EXE_kmidi"), "rdkafka"))
}

fn worker_lines(driver: &LocalDriver, handle: &StepHandle) -> Vec<WorkerLine> {
    driver
        .output(handle)
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// 200 records/s of 1 KB for 3 s: all delivered, at the asked rate within 20 %.
#[test]
fn the_load_worker_achieves_its_rate() {
    let broker = Broker::shared(&kafka_version("4"));
    let topic = broker.unique("load-worker");
    let mut driver = driver();
    let handle = driver
        .start(
            0,
            &step(200.0, Duration::from_secs(3), &topic),
            &broker.bootstrap,
        )
        .unwrap();
    let deadline = Instant::now() + REPORT_WITHIN;
    let report = loop {
        if let Some(r) = driver.poll(&handle).unwrap() {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "no report: {:?}",
            driver.output(&handle)
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(report.records_sent, 600, "{report:?}");
    assert_eq!(report.errors, 0, "{report:?}");
    let fraction = report.fraction_achieved().unwrap();
    assert!((0.8..=1.2).contains(&fraction), "{report:?}");
    assert!(report.ack_latency_p50_ms.is_some(), "{report:?}");
    assert!(matches!(
        worker_lines(&driver, &handle).last(),
        Some(WorkerLine::Done(_))
    ));
    // The worker created the topic as the step said.
    let described = broker.run_tool("topics", &["--describe", "--topic", &topic]);
    assert!(described.contains("PartitionCount: 3"), "{described}");
}

/// A 60 s step stopped while it produces: the worker sees its stdin close, writes its
/// last line and exits.
#[test]
fn the_load_worker_quits_when_its_stdin_closes() {
    let broker = Broker::shared(&kafka_version("4"));
    let topic = broker.unique("load-worker-stop");
    let mut driver = driver();
    let handle = driver
        .start(
            0,
            &step(100.0, Duration::from_secs(60), &topic),
            &broker.bootstrap,
        )
        .unwrap();
    let pid = driver.pid(&handle).unwrap();
    let deadline = Instant::now() + REPORT_WITHIN;
    let producing = |d: &LocalDriver| {
        worker_lines(d, &handle)
            .iter()
            .any(|l| matches!(l, WorkerLine::Progress(p) if p.delivered > 0))
    };
    while !producing(&driver) {
        assert!(
            Instant::now() < deadline,
            "no progress: {:?}",
            driver.output(&handle)
        );
        assert_eq!(driver.poll(&handle).unwrap(), None);
        std::thread::sleep(Duration::from_millis(100));
    }
    driver.stop_all().unwrap();
    assert!(
        matches!(
            worker_lines(&driver, &handle).last(),
            Some(WorkerLine::Done(_))
        ),
        "no last line: {:?}",
        driver.output(&handle)
    );
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(driver.poll(&handle).unwrap().unwrap().records_sent > 0);
}
