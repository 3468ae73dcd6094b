//! Shared harness for kafka-rust's integration tests: real Apache Kafka brokers from
//! `kmidi-test-support` (one per test binary and version), and a bounded poll helper.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use kmidi_transport::{Consumer, Record};

pub use kmidi_test_support::Broker;

/// Polls until `n` records arrived or `limit` passed.
pub fn poll_n(consumer: &mut dyn Consumer, n: usize, limit: Duration) -> Vec<Record> {
    let started = Instant::now();
    let mut got = Vec::new();
    while got.len() < n && started.elapsed() < limit {
        match consumer.poll(Duration::from_millis(200)) {
            Ok(Some(r)) => got.push(r),
            Ok(None) => {}
            Err(e) => eprintln!("poll: {e}"),
        }
    }
    got
}
