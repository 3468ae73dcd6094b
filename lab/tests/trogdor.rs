//! The Trogdor driver against a real coordinator and agent (Kafka's Maven jars, started
//! by `scripts/kafka.sh trogdor-start`) and a real broker, all on loopback: a load step
//! becomes a task at its time, its status is collected, and every task is stopped and
//! destroyed when the driver stops or is dropped. Loads are tiny and bounded.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kmidi_lab::scenario::{LoadStep, LoadTopic, Rate};
use kmidi_lab::trogdor::{TaskStateType, TrogdorClient, TrogdorDriver};
use kmidi_lab::LoadDriver;
use kmidi_test_support::{kafka_version, Broker, Trogdor};

/// The longest a tiny step may take to report: its duration, the setup grace and the
/// agents' status round trips, with room for a loaded test machine.
const REPORT_WITHIN: Duration = Duration::from_secs(60);

fn step(at: Duration, records_per_sec: f64, duration: Duration, topic: &str) -> LoadStep {
    LoadStep {
        at,
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

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The records in `topic`, summed over its partitions (Kafka's own GetOffsetShell).
fn records_in(broker: &Broker, topic: &str) -> u64 {
    broker
        .run_tool("get-offsets", &["--topic", topic])
        .lines()
        .filter_map(|l| l.rsplit(':').next()?.trim().parse::<u64>().ok())
        .sum()
}

/// A 200 records/s, 1 KB, 3 s step at song time 1 s (with a consumer group of one):
/// created at its time, followed to its report, then stopped and destroyed.
fn a_step_is_a_task_at_its_time(major: &str) {
    let version = kafka_version(major);
    let broker = Broker::shared(&version);
    let trogdor = Trogdor::shared(&version);
    let topic = broker.unique("trogdor-load");
    let mut driver = TrogdorDriver::new(&trogdor.url, &trogdor.agent_names())
        .unwrap()
        .with_run_id(&broker.unique("run"));
    driver.check().unwrap();
    let mut load = step(
        Duration::from_secs(1),
        200.0,
        Duration::from_secs(3),
        &topic,
    );
    load.consumers = 1;

    // The song's clock: the step starts at its score time, not before.
    let song = Instant::now();
    std::thread::sleep(load.at.saturating_sub(song.elapsed()));
    let asked_at_ms = now_ms();
    let handle = driver.start(0, &load, &broker.bootstrap).unwrap();
    assert_eq!(handle.id, format!("kmidi-{}-0", driver.run_id()));
    let ids = driver.task_ids();
    assert_eq!(
        ids,
        vec![
            format!("{}-produce-1", handle.id),
            format!("{}-consume-1", handle.id)
        ]
    );

    let deadline = Instant::now() + REPORT_WITHIN;
    let report = loop {
        if let Some(r) = driver.poll(&handle).unwrap() {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "no report within {REPORT_WITHIN:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    eprintln!("Kafka {version}: {report:?}");
    assert_eq!(driver.errors(&handle), Vec::<String>::new());
    assert_eq!(report.step, 0);
    assert_eq!(report.errors, 0, "{report:?}");
    assert!(report.records_sent > 0, "{report:?}");
    // A bounded load: never more than the step's records.
    assert!(report.records_sent <= 600, "{report:?}");
    assert!(report.achieved_records_per_sec > 0.0, "{report:?}");
    let (p50, p99) = (
        report.ack_latency_p50_ms.unwrap(),
        report.ack_latency_p99_ms.unwrap(),
    );
    assert!(p50 <= p99, "{report:?}");
    assert!(records_in(broker, &topic) >= report.records_sent);

    let client = TrogdorClient::new(&trogdor.url).unwrap();
    let produce = client.task(&ids[0]).unwrap().expect("the task is listed");
    assert_eq!(produce.state, TaskStateType::Done);
    // Started at its time: the coordinator (same clock, loopback) ran it at once.
    let started = produce.started_ms.unwrap();
    assert!(
        (asked_at_ms - 1000..asked_at_ms + 5000).contains(&started),
        "asked at {asked_at_ms}, started at {started}"
    );
    let sent = produce.produce_status().unwrap().total_sent;
    assert_eq!(sent, report.records_sent);

    driver.stop_all().unwrap();
    assert!(driver.live_task_ids().is_empty());
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert!(client.tasks(&refs).unwrap().is_empty(), "destroyed");
    // Its report outlives its tasks.
    assert_eq!(driver.poll(&handle).unwrap(), Some(report));
}

#[test]
fn a_load_step_is_a_produce_and_consume_task_on_kafka_4() {
    a_step_is_a_task_at_its_time("4");
}

#[test]
fn a_load_step_is_a_produce_and_consume_task_on_kafka_3() {
    a_step_is_a_task_at_its_time("3");
}

#[test]
fn dropping_the_driver_mid_task_stops_and_destroys_it() {
    let version = kafka_version("4");
    let broker = Broker::shared(&version);
    let trogdor = Trogdor::shared(&version);
    let topic = broker.unique("trogdor-drop");
    let client = TrogdorClient::new(&trogdor.url).unwrap();
    // A minute of load, if nothing stopped it.
    let load = step(Duration::ZERO, 100.0, Duration::from_secs(60), &topic);
    let mut driver = TrogdorDriver::new(&trogdor.url, &trogdor.agent_names())
        .unwrap()
        .with_run_id(&broker.unique("run"));
    driver.start(0, &load, &broker.bootstrap).unwrap();
    let id = driver.task_ids().remove(0);

    // Sending: past setup, records arriving.
    let deadline = Instant::now() + REPORT_WITHIN;
    loop {
        let task = client.task(&id).unwrap().expect("the task is listed");
        assert!(!task.is_done(), "the task ended by itself: {task:?}");
        if task.past_setup() && records_in(broker, &topic) > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "never sending: {task:?}");
        std::thread::sleep(Duration::from_millis(250));
    }

    drop(driver);
    assert_eq!(client.task(&id).unwrap(), None, "destroyed");
    // And the load has stopped: the topic does not grow any more.
    let after_drop = records_in(broker, &topic);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(records_in(broker, &topic), after_drop);
    assert!(
        after_drop < 6000,
        "a minute of load was cut short: {after_drop}"
    );
}

#[test]
fn a_cluster_off_loopback_is_refused_without_the_flag() {
    // No coordinator is asked: the refusal comes first.
    let mut driver = TrogdorDriver::new("http://127.0.0.1:9", &["agent-1"]).unwrap();
    let load = step(Duration::ZERO, 10.0, Duration::from_secs(1), "t");
    let e = driver
        .start(0, &load, "kafka.example.com:9092")
        .unwrap_err();
    assert!(
        matches!(e, kmidi_lab::DriverError::NotLoopback { .. }),
        "{e}"
    );
    assert!(driver.task_ids().is_empty());
}

#[test]
fn a_coordinator_that_is_not_there_fails_the_start_and_says_what_may_run() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut driver = TrogdorDriver::new(&url, &["agent-1"]).unwrap();
    assert!(driver.check().is_err());
    let load = step(Duration::ZERO, 10.0, Duration::from_secs(1), "t");
    let e = driver.start(0, &load, "127.0.0.1:9092").unwrap_err();
    assert!(
        matches!(e, kmidi_lab::DriverError::Start { step: 0, .. }),
        "{e}"
    );
    // Nothing answered, so nothing is known to be gone: stopping says so.
    assert_eq!(driver.live_task_ids().len(), 1);
    let e = driver.stop_all().unwrap_err();
    assert!(matches!(e, kmidi_lab::DriverError::Stop(_)), "{e}");
    assert!(e.to_string().contains("may still run"), "{e}");
}
