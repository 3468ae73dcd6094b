//! The cdylib loaded for real through kmidi's plugin loader, as `--transport PATH`
//! does: the C ABI table validates and the transport behaves as the rlib does.

use std::time::Duration;

mod common;

use kmidi_transport::{ClientConfig, Transport, TransportError};

#[test]
fn plugin_loads_and_refuses_what_the_rlib_refuses() {
    let plugin = kmidi_transport::load_plugin(&common::plugin_path()).expect("the plugin loads");
    let info = plugin.info();
    assert_eq!(info.name, "rskafka");
    assert_eq!(info.library_version, kmidi_rskafka::RSKAFKA_VERSION);
    assert!(!info.capabilities.consumer_groups);

    let mut bad: ClientConfig = [("bootstrap.servers", "127.0.0.1:1")].into_iter().collect();
    bad.set("session.timeout.ms", "6000");
    let err = plugin.producer(&bad).err().expect("refused");
    assert!(err.to_string().contains("session.timeout.ms"), "{err}");

    let down: ClientConfig = [("bootstrap.servers", "127.0.0.1:1")].into_iter().collect();
    let err = plugin
        .admin(&down)
        .and_then(|a| a.topic_partitions("t", Duration::from_secs(2)))
        .expect_err("unreachable");
    assert!(
        matches!(err, TransportError::Unreachable { .. })
            || err.to_string().contains("127.0.0.1:1"),
        "{err}"
    );
}
