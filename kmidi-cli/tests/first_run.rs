//! Defects found by trying kmidi as a new user would, each pinned by a test of the
//! binary as the user runs it: a record size no broker takes, and an instrument left
//! silent by another member of its group (on a real Kafka broker).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kmidi_test_support::{repo, Broker};

fn kmidi() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kmidi"));
    c.current_dir(repo());
    c
}

fn run(args: &[&str]) -> Output {
    kmidi().args(args).output().expect("running kmidi")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_record_size_that_cannot_fit_is_refused_before_anything_is_allocated_or_sent() {
    // Port 1 answers nothing: the size is checked before connecting.
    for size in ["100000000000", "2000000"] {
        let out = run(&[
            "player",
            "-q",
            "-m",
            "songs/ode_to_joy.mid",
            "-b",
            "127.0.0.1:1",
            "--record-size",
            size,
        ]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "not an abort: {err}");
        assert!(
            err.contains(&format!("--record-size {size} makes records"))
                && err.contains("message.max.bytes (1000000")
                && err.contains("or less"),
            "{err}"
        );
    }
    // Raised by the user, the same size passes the check and gets as far as the cluster.
    let out = run(&[
        "player",
        "-q",
        "-m",
        "songs/ode_to_joy.mid",
        "-b",
        "127.0.0.1:1",
        "--connect-timeout",
        "1",
        "-X",
        "message.max.bytes=3000000",
        "--record-size",
        "2000000",
    ]);
    let err = stderr(&out);
    assert!(!err.contains("makes records"), "{err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
}

#[test]
fn a_negative_speed_or_size_with_a_space_gets_the_clear_message() {
    for (args, says) in [
        (&["-s", "-1"][..], "is not a positive number"),
        (
            &["--record-size", "-5"],
            "is not a whole number of 0 or more",
        ),
    ] {
        let mut argv = vec!["player", "-m", "songs/ode_to_joy.mid"];
        argv.extend(args);
        let err = stderr(&run(&argv));
        assert!(err.contains(says), "{argv:?}: {err}");
        assert!(!err.contains("unexpected argument"), "{argv:?}: {err}");
    }
}

#[test]
fn loop_has_its_own_help_line() {
    let out = run(&["player", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    let at = help.find("--loop").expect("--loop is listed");
    let after = &help[at..];
    let line_end = after.find("\n\n").unwrap_or(after.len());
    assert!(
        after[..line_end].contains("again and again"),
        "--loop's help: {}",
        &after[..line_end]
    );
}

/// Stderr of a running instrument, collected line by line on a thread of its own.
fn collect_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let err = child.stderr.take().expect("piped stderr");
    let sink = Arc::clone(&text);
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let mut t = sink.lock().unwrap();
            t.push_str(&line);
            t.push('\n');
        }
    });
    text
}

fn instrument(bootstrap: &str, topic: &str, group: &str) -> Child {
    kmidi()
        .args(["instrument", "-q", "--no-port", "--report", "/dev/null"])
        .args(["-b", bootstrap, "-t", topic, "-g", group])
        .args(["--idle-exit", "60"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting an instrument")
}

#[test]
fn an_instrument_whose_group_gives_it_no_partition_says_so_and_how_to_fix_it() {
    let broker = Broker::shared(&kmidi_test_support::kafka_version("4"));
    let topic = "first_run_held_elsewhere";
    let created = run(&["topic", "create", "-b", &broker.bootstrap, "-t", topic]);
    assert!(created.status.success(), "{}", stderr(&created));
    let group = "first-run-stale-member";
    let mut first = instrument(&broker.bootstrap, topic, group);
    let first_err = collect_stderr(&mut first);
    // The first member takes the only partition before the second one joins.
    std::thread::sleep(Duration::from_secs(6));
    let mut second = instrument(&broker.bootstrap, topic, group);
    let second_err = collect_stderr(&mut second);
    let started = Instant::now();
    let says = "has been assigned to this instrument in group first-run-stale-member";
    let warned = loop {
        let texts = [
            first_err.lock().unwrap().clone(),
            second_err.lock().unwrap().clone(),
        ];
        if let Some(t) = texts.iter().find(|t| t.contains(says)) {
            break Some(t.clone());
        }
        if started.elapsed() > Duration::from_secs(40) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    for child in [&mut first, &mut second] {
        let _ = child.kill();
        let _ = child.wait();
    }
    let text = warned.unwrap_or_else(|| {
        panic!(
            "neither instrument said it was left without a partition:\nfirst:\n{}\nsecond:\n{}",
            first_err.lock().unwrap(),
            second_err.lock().unwrap()
        )
    });
    assert!(text.contains(topic) && text.contains("-g GROUP"), "{text}");
    // One member holds the partition: only the other one warns.
    let both =
        first_err.lock().unwrap().contains(says) && second_err.lock().unwrap().contains(says);
    assert!(!both, "the member holding the partition warned too");
}
