//! Finding a script-started cluster's nodes from its run dirs.

use super::*;

fn node(root: &Path, name: &str, id: i32, port: u16, cluster: Option<&str>) {
    let d = root.join(name);
    std::fs::create_dir_all(d.join("data")).unwrap();
    std::fs::write(
        d.join("server.properties"),
        format!("process.roles=broker,controller\nnode.id={id}\n"),
    )
    .unwrap();
    std::fs::write(d.join("port"), format!("{port}\n")).unwrap();
    std::fs::write(d.join("pid"), "4242\n").unwrap();
    if let Some(c) = cluster {
        std::fs::write(d.join("cluster"), c).unwrap();
    }
}

#[test]
fn a_cluster_is_found_by_any_bootstrap_port_and_its_nodes_by_node_id() {
    let root = tempfile_dir("find");
    node(&root, "base-1", 1, 41001, Some("base"));
    node(&root, "base-2", 2, 41002, Some("base"));
    node(&root, "base-3", 3, 41003, Some("base"));
    node(&root, "other-1", 1, 41101, Some("other"));
    node(&root, "single", 1, 41201, None);
    let c = ScriptCluster::find(Path::new("kafka.sh"), &root, "localhost:41002").unwrap();
    assert_eq!(c.cluster, "base");
    assert_eq!(c.brokers(), vec![1, 2, 3]);
    assert_eq!(c.nodes[&3].name, "base-3");
    assert_eq!(c.nodes[&3].pid(), Some(4242));
    assert!(c.name(2).contains("base-2") && c.name(2).contains("4242"));
    assert!(matches!(c.kill(7), Err(FaultError::NoSuchBroker(7, _))));
    let one = ScriptCluster::find(Path::new("kafka.sh"), &root, "127.0.0.1:41201").unwrap();
    assert_eq!((one.cluster.as_str(), one.brokers()), ("single", vec![1]));
    // Not the script's: refused, saying what to do instead.
    let e = ScriptCluster::find(Path::new("kafka.sh"), &root, "127.0.0.1:9").unwrap_err();
    assert!(e.to_string().contains("start-cluster"), "{e}");
    let e = ScriptCluster::find(Path::new("kafka.sh"), &root, "kafka.example:9092").unwrap_err();
    assert!(e.to_string().contains("not on loopback"), "{e}");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn bootstrap_ports_are_read_on_loopback_only() {
    assert_eq!(
        loopback_ports("127.0.0.1:1,localhost:2, [::1]:3").unwrap(),
        BTreeSet::from([1, 2, 3])
    );
    assert!(loopback_ports("10.0.0.1:9092").is_err());
    assert!(loopback_ports("127.0.0.1").is_err());
    assert!(loopback_ports("").is_err());
    assert_eq!(node_id("a=b\nnode.id = 3\n"), Some(3));
    assert_eq!(node_id("broker.id=2"), Some(2));
    assert_eq!(node_id("x=1"), None);
}

fn tempfile_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kmidi-fault-script-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
