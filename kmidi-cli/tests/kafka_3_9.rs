//! End to end against a real Apache Kafka 3.9 broker (KRaft), started by scripts/kafka.sh:
//! the CLI's suite (`common/broker_suite.rs`), and the refusal of a group protocol this
//! version lacks.

mod common;

use common::{conformance, Broker};

/// This binary's broker: the Kafka 3 of `KMIDI_KAFKA_VERSIONS`.
const KAFKA: &str = "3";
/// The kafka crate still speaks this version's protocol, so every transport plays.
const KAFKA_RUST: conformance::Expect = conformance::Expect::Plays;

#[path = "common/broker_suite.rs"]
mod suite;

fn broker() -> &'static Broker {
    Broker::shared(&kmidi_test_support::kafka_version(KAFKA))
}

/// Kafka 3.9 has no KIP-848 group protocol: asking for it is an error naming the fix,
/// for the built-in library, the franz-go plugin, and the members of a lab's group,
/// never an instrument listening to silence.
#[test]
fn the_consumer_protocol_is_refused_clearly_where_the_broker_lacks_kip_848() {
    use common::{kmidi, run, stderr};
    let b = broker();
    let topic = b.unique("kip848");
    b.create_topic(&topic, 2);
    let go = conformance::plugin("franz-go");
    for transport in ["rdkafka".to_string(), go.display().to_string()] {
        let out = run(common::instrument(&b.bootstrap, &topic)
            .args([
                "-X",
                "group.protocol=consumer",
                "--idle-exit",
                "30",
                "--report",
            ])
            .arg(std::env::temp_dir().join(format!("kmidi-kip848-{}.json", std::process::id())))
            .args(["--transport", &transport]));
        let err = stderr(&out);
        assert!(!out.status.success(), "{transport}: {err}");
        assert!(
            err.contains("group.protocol=consumer needs a broker with")
                && err.contains("use group.protocol=classic"),
            "{transport}: {err}"
        );
    }
    let out = run(kmidi()
        .args([
            "compare",
            "-q",
            "-b",
            &b.bootstrap,
            "-t",
            &b.unique("kip848lab"),
        ])
        .args([
            "--a",
            "rdkafka",
            "--b",
            "rdkafka",
            "--xb",
            "group.protocol=consumer",
        ])
        .args(["--members", "2", "-m", "ode_to_joy.mid", "--record"])
        .arg(std::env::temp_dir().join(format!("kmidi-kip848-{}.mid", std::process::id()))));
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("B (rdkafka group.protocol=consumer) cannot play")
            && err.contains("needs a broker with the KIP-848"),
        "{err}"
    );
}
