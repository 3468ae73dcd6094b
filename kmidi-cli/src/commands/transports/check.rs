//! `kmidi transports --check PATH`: runs the host's conformance pass
//! (`kmidi_transport::plugin::host::check`) on one plugin, on the embedded mock cluster
//! or the cluster `-b` names, and prints a pass/fail line per point.

use std::path::Path;

use anyhow::{Context, Result};
use kmidi_transport::plugin::host::{check, CheckSetup, Outcome, Point};
use kmidi_transport::{load_plugin, TopicSpec, Transport};

use crate::cli::TransportsArgs;
use crate::connect;

pub fn run(path: &Path, args: &TransportsArgs) -> Result<i32> {
    let topic = format!("kmidi_check_{}", crate::ids::new_run_id());
    // Kept alive for the whole pass.
    let on = connect::Cluster::given_or_embedded(args.bootstrap.bootstrap.as_deref())?;
    let (bootstrap, cluster) = (&on.bootstrap, &on.embedded);
    let config = connect::client_config(
        Some(bootstrap),
        args.client.config.as_deref(),
        &args.client.props,
    )?;
    match cluster {
        Some(c) => c.create_topic(&topic, 1)?,
        None => create_topic(path, &config, &topic, args)
            .with_context(|| format!("creating the topic {topic} for the round trip"))?,
    }
    println!(
        "kmidi transports --check {}: round trip on {} (topic {topic})",
        path.display(),
        on.describe()
    );
    let setup = CheckSetup {
        config,
        topic,
        timeout: args.timeout,
    };
    let (mut passed, mut failed) = (0, 0);
    let ok = check(path, &setup, |p: &Point| {
        let mark = match p.outcome {
            Outcome::Pass => {
                passed += 1;
                "pass"
            }
            Outcome::Fail => {
                failed += 1;
                "FAIL"
            }
            Outcome::Skip => "skip",
        };
        println!("{mark}  {:<14} {}", p.what, p.detail);
    });
    // Not "N passed, N failed": CI logs read that shape as a test runner's verdict.
    if failed == 0 {
        println!("conformance: all {passed} points pass");
    } else {
        println!("conformance: {failed} point(s) FAIL, {passed} pass");
    }
    Ok(if ok { 0 } else { 1 })
}

/// On a real cluster the topic is made with the plugin's own admin call if it has one,
/// else with librdkafka's, so a plugin without `create_topic` can still be checked.
fn create_topic(
    path: &Path,
    config: &kmidi_transport::ClientConfig,
    topic: &str,
    args: &TransportsArgs,
) -> Result<()> {
    let spec = TopicSpec {
        name: topic.to_string(),
        partitions: 1,
        replication_factor: 1,
        configs: vec![("retention.ms".to_string(), "60000".to_string())],
    };
    let own = load_plugin(path)
        .ok()
        .and_then(|p| p.admin(config).ok())
        .and_then(|a| a.create_topic(&spec, args.timeout).ok());
    if own.is_none() {
        kmidi_registry::fallback_admin(config)?.create_topic(&spec, args.timeout)?;
    }
    Ok(())
}
