//! `kmidi topic create --per-broker`: the probe topic's leaders are spread over every
//! broker (as Kafka's own `kafka-topics --describe` sees it), and the transport's
//! leadership reading follows a failover and the preferred-leader election that undoes
//! it.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use kmidi_test_support::{repo, run_tool};
use kmidi_transport::{Admin, ClientConfig, Leadership};

use super::{cluster, serial};

fn create(topic: &str, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kmidi"))
        .current_dir(repo())
        .args(["topic", "create", "-b", &cluster().bootstrap, "-t", topic])
        .args(extra)
        .output()
        .expect("kmidi runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    eprintln!("--- topic create {topic} {extra:?}\n{stdout}{stderr}");
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    stdout
}

fn admin() -> Box<dyn Admin> {
    let config: ClientConfig = [("bootstrap.servers", cluster().bootstrap.as_str())]
        .into_iter()
        .collect();
    let rdkafka = kmidi_registry::built_in("rdkafka").expect("built with rdkafka");
    rdkafka.admin(&config).expect("an admin client")
}

/// Partition -> leader, as `kafka-topics --describe` prints it.
fn described_leaders(topic: &str) -> BTreeMap<i32, i32> {
    let c = cluster();
    let text = run_tool(
        &c.version,
        "topics",
        &[
            "--bootstrap-server",
            &c.bootstrap,
            "--describe",
            "--topic",
            topic,
        ],
    );
    let field = |line: &str, name: &str| -> Option<i32> {
        let rest = &line[line.find(name)? + name.len()..];
        rest.split_whitespace().next()?.parse().ok()
    };
    text.lines()
        .filter_map(|l| Some((field(l, "Partition:")?, field(l, "Leader:")?)))
        .collect()
}

/// Reads leadership until `done` holds (at most 90 s: a fenced broker, a restart and
/// an ISR catching up all take seconds on two busy cores).
fn wait_for(admin: &dyn Admin, topic: &str, what: &str, done: impl Fn(&Leadership) -> bool) {
    let started = Instant::now();
    let mut last = None;
    while started.elapsed() < Duration::from_secs(90) {
        if let Ok(l) = admin.partition_leaders(topic, Duration::from_secs(5)) {
            if done(&l) {
                return;
            }
            last = Some(l);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("{what} within 90 s; last reading: {last:#?}");
}

#[test]
fn a_per_broker_topic_has_a_leader_on_every_broker() {
    let _serial = serial();
    let out = create("probe-spread", &["--per-broker", "2"]);
    assert!(
        out.contains("6 partition(s), 2 per broker over 3 broker(s), replication factor 3"),
        "{out}"
    );
    let described = described_leaders("probe-spread");
    assert_eq!(described.len(), 6, "{described:?}");
    let mut per_broker: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for (partition, leader) in &described {
        per_broker.entry(*leader).or_default().push(*partition);
    }
    assert_eq!(
        per_broker.keys().copied().collect::<Vec<_>>(),
        [1, 2, 3],
        "{described:?}"
    );
    for (broker, partitions) in &per_broker {
        assert_eq!(partitions.len(), 2, "{described:?}");
        let shown: Vec<String> = partitions.iter().map(i32::to_string).collect();
        let line = format!("broker {broker} leads partition(s) {}", shown.join(", "));
        assert!(out.contains(&line), "{line:?} in\n{out}");
    }
    // The transport reads the same as Kafka's own tool.
    let read = admin()
        .partition_leaders("probe-spread", Duration::from_secs(10))
        .expect("leaders");
    assert!(read.known && read.brokers == [1, 2, 3], "{read:?}");
    let leaders: BTreeMap<i32, i32> = read
        .partitions
        .iter()
        .filter_map(|p| Some((p.partition, p.leader?)))
        .collect();
    assert_eq!(leaders, described);
}

#[test]
fn the_leaders_follow_a_killed_broker_and_a_preferred_election_restores_them() {
    let _serial = serial();
    create("probe-failover", &["--per-broker"]);
    let admin = admin();
    let topic = "probe-failover";
    wait_for(
        admin.as_ref(),
        topic,
        "one partition led by each broker",
        |l| (1..=3).all(|b| l.led_by(b).len() == 1),
    );
    let c = cluster();
    c.kill(2);
    wait_for(
        admin.as_ref(),
        topic,
        "broker 2's partition failed over",
        |l| l.led_by(2).is_empty() && l.partitions.iter().all(|p| p.leader.is_some()),
    );
    let after = admin
        .partition_leaders(topic, Duration::from_secs(5))
        .expect("leaders");
    let orphan = after
        .partitions
        .iter()
        .find(|p| p.replicas.first() == Some(&2))
        .expect("a partition prefers broker 2");
    assert!(orphan.leader.is_some_and(|l| l != 2), "{after:?}");

    c.resume(2);
    wait_for(admin.as_ref(), topic, "broker 2 back in sync", |l| {
        l.partitions.iter().all(|p| p.isr.contains(&2))
    });
    run_tool(
        &c.version,
        "org.apache.kafka.tools.LeaderElectionCommand",
        &[
            "--bootstrap-server",
            &c.bootstrap,
            "--election-type",
            "PREFERRED",
            "--all-topic-partitions",
        ],
    );
    wait_for(admin.as_ref(), topic, "the spread restored", |l| {
        (1..=3).all(|b| l.led_by(b).len() == 1)
    });
}
