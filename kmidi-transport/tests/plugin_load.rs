//! Load-time checks on real shared libraries: every way a file can fail to be a kmidi
//! plugin gets an error naming the file, what was expected and what was found.
//! The broken tables are built from `tests/c/bad_tables.c` with the system C compiler;
//! without one, those tests say so and pass (the Rust-only checks still run).

use std::path::{Path, PathBuf};
use std::process::Command;

use kmidi_transport::plugin::abi::{
    KMIDI_TRANSPORT_TABLE_SIZE, KMIDI_TRANSPORT_TABLE_V1_REPORTS_SIZE,
    KMIDI_TRANSPORT_TABLE_V1_SIZE,
};
use kmidi_transport::plugin::host::{check, CheckSetup, Outcome, Point};
use kmidi_transport::{discover, load_plugin, ClientConfig, Transport, TransportError};

fn include_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("include")
}

/// Builds `bad_tables.c` with `-D<case>` into `dir/<file>`; None without a C compiler.
fn build_c_plugin(dir: &Path, case: &str, file: &str) -> Option<PathBuf> {
    let out = dir.join(file);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/bad_tables.c");
    let status = Command::new("cc")
        .args([
            "-shared", "-fPIC", "-std=c11", "-Wall", "-Wextra", "-Werror",
        ])
        .arg("-I")
        .arg(include_dir())
        .arg(format!("-D{case}"))
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => Some(out),
        Ok(s) => panic!("cc failed for {case}: {s}"),
        Err(e) => {
            eprintln!("no C compiler ({e}); skipping the {case} table test");
            None
        }
    }
}

fn load_error(path: &Path) -> String {
    match load_plugin(path) {
        Ok(_) => panic!("{} loaded but should not have", path.display()),
        Err(e) => e.to_string(),
    }
}

fn c_case_error(case: &str) -> Option<(String, PathBuf, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let so = build_c_plugin(dir.path(), case, &format!("{}.so", case.to_lowercase()))?;
    Some((load_error(&so), so, dir))
}

#[test]
fn a_missing_file_is_named() {
    let err = load_error(Path::new("/nonexistent/libkmidi_nothing.so"));
    assert!(err.contains("/nonexistent/libkmidi_nothing.so"), "{err}");
    assert!(err.contains("no such file"), "{err}");
}

#[test]
fn a_text_file_named_so_is_not_a_library() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fake = dir.path().join("libkmidi_fake.so");
    std::fs::write(&fake, "not an ELF file\n").expect("write");
    let err = load_error(&fake);
    assert!(err.contains("libkmidi_fake.so"), "{err}");
    assert!(err.contains("not a loadable shared library"), "{err}");
}

#[test]
fn a_library_without_the_entry_point_is_refused() {
    let Some((err, so, _dir)) = c_case_error("MISSING_SYMBOL") else {
        return;
    };
    assert!(err.contains(&so.display().to_string()), "{err}");
    assert!(err.contains("no `kmidi_transport_v1` symbol"), "{err}");
}

#[test]
fn a_null_table_means_the_plugin_refuses_this_host() {
    let Some((err, _so, _dir)) = c_case_error("NULL_TABLE") else {
        return;
    };
    assert!(err.contains("returned NULL"), "{err}");
    assert!(err.contains("ABI version 1"), "{err}");
}

#[test]
fn a_wrong_magic_shows_both_values_in_hex() {
    let Some((err, _so, _dir)) = c_case_error("BAD_MAGIC") else {
        return;
    };
    assert!(err.contains("expected 0x4b4d4944"), "{err}");
    assert!(err.contains("found 0xdeadbeef"), "{err}");
}

#[test]
fn a_wrong_abi_version_is_refused_with_both_versions() {
    let Some((err, _so, _dir)) = c_case_error("BAD_VERSION") else {
        return;
    };
    assert!(
        err.contains("wrong ABI version: expected 1, found 7"),
        "{err}"
    );
}

#[test]
fn a_table_smaller_than_v1_is_refused() {
    let Some((err, _so, _dir)) = c_case_error("SHORT_SIZE") else {
        return;
    };
    let want = format!(
        "struct_size is 16 bytes, a version-1 table has at least {KMIDI_TRANSPORT_TABLE_V1_SIZE}"
    );
    assert!(err.contains(&want), "{err}");
}

#[test]
fn null_and_non_utf8_names_are_refused() {
    if let Some((err, _so, _dir)) = c_case_error("NULL_NAME") {
        assert!(err.contains("`name` is NULL"), "{err}");
    }
    if let Some((err, _so, _dir)) = c_case_error("BAD_UTF8_NAME") {
        assert!(err.contains("`name` is not valid UTF-8"), "{err}");
    }
}

#[test]
fn null_entries_mean_unsupported_not_a_crash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(so) = build_c_plugin(dir.path(), "MINIMAL", "libkmidi_minimal.so") else {
        return;
    };
    let t = load_plugin(&so).expect("a valid table with no functions loads");
    let info = t.info();
    assert_eq!(info.name, "minimal");
    assert!(info.capabilities.tls && info.capabilities.sasl);
    let config = ClientConfig::new();
    assert!(matches!(
        t.admin(&config),
        Err(TransportError::Unsupported { .. })
    ));
    let err = t.producer(&config).err().expect("no producer_new");
    assert!(matches!(err, TransportError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("minimal"), "{err}");
}

#[test]
fn a_table_built_against_the_older_160_byte_header_loads_and_reports_no_assignment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(so) = build_c_plugin(dir.path(), "OLD_TABLE", "old.so") else {
        return;
    };
    assert_eq!(KMIDI_TRANSPORT_TABLE_V1_SIZE, 160);
    let t = load_plugin(&so).expect("an older v1 table still loads");
    // The fixture's entries past its struct_size abort the process if called: the host
    // must read them as NULL.
    for entry in t.entries() {
        if [
            "consumer_assignment",
            "producer_settings",
            "consumer_settings",
            "partition_leaders",
        ]
        .contains(&entry.name)
        {
            assert!(!entry.present, "{} read past struct_size", entry.name);
        }
    }
    let consumer = t
        .consumer(&ClientConfig::new(), &subscription())
        .expect("the old table's consumer");
    assert!(!consumer.reports_assignment());
    assert!(consumer.assignment().is_empty());
    assert!(consumer.settings().is_empty());
    assert_unknown_leadership(&t);
}

/// Leadership through a plugin without `partition_leaders`: "unknown", with the three
/// partitions its `topic_partitions` counts.
fn assert_unknown_leadership(t: &kmidi_transport::PluginTransport) {
    let admin = t.admin(&ClientConfig::new()).expect("admin");
    let l = admin
        .partition_leaders("t", std::time::Duration::from_secs(1))
        .expect("the unknown default");
    assert_eq!(l, kmidi_transport::Leadership::unknown(3));
}

#[test]
fn a_table_built_against_the_184_byte_header_loads_and_reports_unknown_leadership() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(so) = build_c_plugin(dir.path(), "REPORTS_TABLE", "reports.so") else {
        return;
    };
    assert_eq!(KMIDI_TRANSPORT_TABLE_V1_REPORTS_SIZE, 184);
    let t = load_plugin(&so).expect("a 184-byte v1 table still loads");
    let present: Vec<&str> = t
        .entries()
        .into_iter()
        .filter(|e| e.present)
        .map(|e| e.name)
        .collect();
    // Its entries up to the old end are read; the trap past struct_size is not.
    assert!(present.contains(&"producer_settings"), "{present:?}");
    assert!(!present.contains(&"partition_leaders"), "{present:?}");
    assert_unknown_leadership(&t);
}

#[test]
fn a_table_bigger_than_this_header_loads_and_its_known_prefix_is_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(so) = build_c_plugin(dir.path(), "BIG_SIZE", "big.so") else {
        return;
    };
    assert_eq!(KMIDI_TRANSPORT_TABLE_SIZE, 192);
    let t = load_plugin(&so).expect("a newer, bigger table loads");
    assert_eq!(t.info().name, "minimal");
    assert!(t.entries().iter().all(|e| !e.present));
}

#[test]
fn discovery_lists_good_plugins_and_reports_bad_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("broken.so"), "text").expect("write");
    std::fs::write(dir.path().join("README.txt"), "not a plugin").expect("write");
    let built = build_c_plugin(dir.path(), "MINIMAL", "libkmidi_minimal.so");
    let found = discover(&[dir.path().to_path_buf()]);
    let broken = found.iter().find(|(p, _)| p.ends_with("broken.so"));
    assert!(matches!(broken, Some((_, Err(_)))), "{found:?}");
    assert!(!found.iter().any(|(p, _)| p.ends_with("README.txt")));
    if built.is_some() {
        let ok = found
            .iter()
            .find(|(p, _)| p.ends_with("libkmidi_minimal.so"));
        assert!(
            matches!(ok, Some((_, Ok(info))) if info.name == "minimal"),
            "{found:?}"
        );
    }
}

fn subscription() -> kmidi_transport::Subscription {
    kmidi_transport::Subscription {
        topics: vec!["t".into()],
        group: "g".into(),
        offset_reset: kmidi_transport::OffsetReset::Earliest,
    }
}

/// What the first poll of a fresh consumer of the plugin at `so` fails with: the table
/// is fine, the message it returns is not.
fn first_poll_error(so: &Path) -> TransportError {
    let plugin = load_plugin(so).expect("the table itself is fine");
    let mut consumer = plugin
        .consumer(&ClientConfig::new(), &subscription())
        .expect("consumer");
    consumer
        .poll(std::time::Duration::from_millis(10))
        .expect_err("the plugin's message is refused, not read")
}

/// The conformance pass without a cluster: only the table-level points matter here.
fn check_setup() -> CheckSetup {
    CheckSetup {
        config: ClientConfig::new(),
        topic: "t".into(),
        timeout: std::time::Duration::from_secs(1),
    }
}

#[test]
fn a_plugin_returning_garbage_lengths_is_refused_not_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(so) = build_c_plugin(dir.path(), "GARBAGE_MESSAGE", "garbage.so") else {
        return;
    };
    let err = first_poll_error(&so).to_string();
    assert!(
        err.contains("claims") && err.contains("garbage.so"),
        "{err}"
    );
}

#[test]
fn a_polled_message_without_a_topic_stops_the_consumer_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(so) = build_c_plugin(dir.path(), "NULL_TOPIC", "null_topic.so") else {
        return;
    };
    let err = first_poll_error(&so);
    assert!(!err.is_transient(), "not retried as if it might recover");
    let text = err.to_string();
    assert!(
        text.contains("without a topic") && text.contains("consumer stops"),
        "{text}"
    );
    assert!(!text.contains("skipped"), "it is not skipped: {text}");
}

#[test]
fn the_conformance_pass_names_the_required_entries_a_table_leaves_null() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(so) = build_c_plugin(dir.path(), "MINIMAL", "minimal.so") else {
        return;
    };
    assert_eq!(
        load_plugin(&so).unwrap().missing_required(),
        [
            "producer_new",
            "produce",
            "producer_free",
            "consumer_new",
            "poll",
            "consumer_free",
            "topic_partitions"
        ]
    );
    let setup = check_setup();
    let mut lines = Vec::new();
    let ok = check(&so, &setup, |p: &Point| {
        lines.push((p.what, p.outcome, p.detail.clone()))
    });
    assert!(!ok);
    let entries = lines
        .iter()
        .find(|l| l.0 == "entries")
        .expect("an entries line");
    assert_eq!(entries.1, Outcome::Fail);
    assert!(
        entries.2.contains("producer_new") && entries.2.contains("poll"),
        "{entries:?}"
    );
}

#[test]
fn the_conformance_pass_stops_at_a_table_the_host_refuses() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(so) = build_c_plugin(dir.path(), "BAD_MAGIC", "bad_magic.so") else {
        return;
    };
    let setup = check_setup();
    let mut lines = Vec::new();
    assert!(!check(&so, &setup, |p: &Point| lines.push((p.what, p.outcome))));
    assert_eq!(lines, [("table", Outcome::Fail)]);
}
