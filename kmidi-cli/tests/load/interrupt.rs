//! Ctrl-C while a load step runs: kmidi exits with the signal's code, and neither a
//! load process nor a Trogdor task it started is left loading the cluster.

use std::process::Child;
use std::time::{Duration, Instant};

use super::trogdor::{driver_flag, task_ids, trogdor, TROGDOR};
use super::{broker, compare, process_gone};
use crate::common::{exit_within, signal, spawn, stderr};

/// How long the load gets to show up before the test gives up.
const SHOWS_WITHIN: Duration = Duration::from_secs(60);

/// A compare of rdkafka with itself under a 60 s load step from song time 1 s.
fn compare_under_load(dir: &std::path::Path, extra: &[&str]) -> Child {
    let b = broker();
    let scenario = format!(
        "load@1s:rate=100rec/s:size=1KB:for=60s:topic={}",
        b.unique("interrupt-load")
    );
    spawn(compare(dir, &b.unique("interrupt"), &scenario).args(extra))
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u64> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    let (_, rest) = s.rsplit_once(')')?;
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + SHOWS_WITHIN;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} within {SHOWS_WITHIN:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn is_load_worker(pid: u64) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| String::from_utf8_lossy(&c).contains("load-worker"))
}

#[test]
fn ctrl_c_mid_load_leaves_no_load_process() {
    let dir = tempfile::tempdir().unwrap();
    let child = compare_under_load(dir.path(), &[]);
    let pid = child.id();
    let workers = until("a load worker", || {
        let w: Vec<u64> = children(pid)
            .into_iter()
            .filter(|p| is_load_worker(*p))
            .collect();
        (!w.is_empty()).then_some(w)
    });
    std::thread::sleep(Duration::from_secs(1));
    signal(&child, "INT");
    let (out, _, exited) = exit_within(child, Duration::from_secs(30));
    assert!(exited, "kmidi ended by itself: {}", stderr(&out));
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    for w in workers {
        assert!(
            process_gone(w),
            "load worker {w} still runs: {}",
            stderr(&out)
        );
    }
}

#[test]
fn ctrl_c_mid_load_leaves_no_trogdor_task_running() {
    let _one = TROGDOR.lock().unwrap_or_else(|p| p.into_inner());
    let t = trogdor();
    let before = task_ids(t);
    let dir = tempfile::tempdir().unwrap();
    let child = compare_under_load(dir.path(), &["--load-driver", &driver_flag(t)]);
    let created = until("a Trogdor task", || {
        let new: Vec<String> = task_ids(t)
            .into_iter()
            .filter(|id| !before.contains(id))
            .collect();
        (!new.is_empty()).then_some(new)
    });
    std::thread::sleep(Duration::from_secs(1));
    signal(&child, "INT");
    let (out, _, exited) = exit_within(child, Duration::from_secs(60));
    assert!(exited, "kmidi ended by itself: {}", stderr(&out));
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let left: Vec<String> = task_ids(t)
        .into_iter()
        .filter(|id| created.contains(id))
        .collect();
    assert!(
        left.is_empty(),
        "tasks left on the coordinator: {left:?}: {}",
        stderr(&out)
    );
}
