//! The C header itself: it compiles cleanly as strict C11 and as C++, and its layout
//! matches the Rust mirror in `kmidi_transport::plugin::abi` field by field.

use std::collections::HashMap;
use std::mem::{offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::Command;

use kmidi_transport::plugin::abi::{
    kmidi_kv, kmidi_leadership, kmidi_message, kmidi_partition_leader, kmidi_producer_stats,
    kmidi_topic_partition, kmidi_transport_table,
};

fn include_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("include")
}

fn compile(compiler: &str, std: &str, src: &Path, out: &Path, extra: &[&str]) -> Option<()> {
    let result = Command::new(compiler)
        .arg(format!("-std={std}"))
        .args(["-Wall", "-Wextra", "-pedantic", "-Werror"])
        .args(extra)
        .arg("-I")
        .arg(include_dir())
        .arg(src)
        .arg("-o")
        .arg(out)
        .output();
    match result {
        Ok(o) if o.status.success() => Some(()),
        Ok(o) => panic!(
            "{compiler} -std={std} rejected {}:\n{}",
            src.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            eprintln!("{compiler} not available ({e}); skipping");
            None
        }
    }
}

#[test]
fn header_compiles_as_strict_c11_and_cpp() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("use.c");
    std::fs::write(
        &src,
        "#include \"kmidi_transport.h\"\nint main(void) { return (int)sizeof(kmidi_transport_table) == 0; }\n",
    )
    .expect("write");
    compile("gcc", "c11", &src, &dir.path().join("c.out"), &[]);
    let cpp = dir.path().join("use.cpp");
    std::fs::copy(&src, &cpp).expect("copy");
    compile("g++", "c++11", &cpp, &dir.path().join("cpp.out"), &[]);
}

#[test]
fn rust_mirror_matches_the_header_layout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/layout.c");
    let exe = dir.path().join("layout");
    if compile("gcc", "c11", &src, &exe, &[]).is_none() {
        return;
    }
    let out = Command::new(&exe).output().expect("run layout");
    let c: HashMap<String, usize> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.parse().expect("number")))
        .collect();
    let rust = [
        ("kmidi_kv", size_of::<kmidi_kv>()),
        ("kmidi_message", size_of::<kmidi_message>()),
        ("kmidi_producer_stats", size_of::<kmidi_producer_stats>()),
        ("kmidi_topic_partition", size_of::<kmidi_topic_partition>()),
        ("kmidi_transport_table", size_of::<kmidi_transport_table>()),
        (
            "kmidi_message.partition",
            offset_of!(kmidi_message, partition),
        ),
        ("kmidi_message.offset", offset_of!(kmidi_message, offset)),
        ("kmidi_message.key_len", offset_of!(kmidi_message, key_len)),
        ("kmidi_message.value", offset_of!(kmidi_message, value)),
        (
            "kmidi_message.timestamp_ms",
            offset_of!(kmidi_message, timestamp_ms),
        ),
        (
            "kmidi_transport_table.name",
            offset_of!(kmidi_transport_table, name),
        ),
        (
            "kmidi_transport_table.capabilities",
            offset_of!(kmidi_transport_table, capabilities),
        ),
        (
            "kmidi_transport_table.producer_new",
            offset_of!(kmidi_transport_table, producer_new),
        ),
        (
            "kmidi_transport_table.producer_free",
            offset_of!(kmidi_transport_table, producer_free),
        ),
        (
            "kmidi_transport_table.consumer_new",
            offset_of!(kmidi_transport_table, consumer_new),
        ),
        (
            "kmidi_transport_table.consumer_free",
            offset_of!(kmidi_transport_table, consumer_free),
        ),
        (
            "kmidi_transport_table.topic_partitions",
            offset_of!(kmidi_transport_table, topic_partitions),
        ),
        (
            "kmidi_transport_table.create_topic",
            offset_of!(kmidi_transport_table, create_topic),
        ),
        (
            "kmidi_transport_table.consumer_assignment",
            offset_of!(kmidi_transport_table, consumer_assignment),
        ),
        (
            "kmidi_transport_table.producer_settings",
            offset_of!(kmidi_transport_table, producer_settings),
        ),
        (
            "kmidi_transport_table.consumer_settings",
            offset_of!(kmidi_transport_table, consumer_settings),
        ),
        (
            "kmidi_topic_partition.partition",
            offset_of!(kmidi_topic_partition, partition),
        ),
        (
            "kmidi_partition_leader",
            size_of::<kmidi_partition_leader>(),
        ),
        ("kmidi_leadership", size_of::<kmidi_leadership>()),
        (
            "kmidi_transport_table.partition_leaders",
            offset_of!(kmidi_transport_table, partition_leaders),
        ),
        (
            "kmidi_partition_leader.leader",
            offset_of!(kmidi_partition_leader, leader),
        ),
        (
            "kmidi_partition_leader.replicas",
            offset_of!(kmidi_partition_leader, replicas),
        ),
        (
            "kmidi_partition_leader.n_isr",
            offset_of!(kmidi_partition_leader, n_isr),
        ),
        (
            "kmidi_leadership.n_partitions",
            offset_of!(kmidi_leadership, n_partitions),
        ),
        (
            "kmidi_leadership.brokers",
            offset_of!(kmidi_leadership, brokers),
        ),
        ("kmidi_leadership.ids", offset_of!(kmidi_leadership, ids)),
        (
            "kmidi_leadership.n_ids",
            offset_of!(kmidi_leadership, n_ids),
        ),
    ];
    for (name, value) in rust {
        assert_eq!(
            c.get(name),
            Some(&value),
            "{name}: C says {:?}, Rust {value}",
            c.get(name)
        );
    }
}
