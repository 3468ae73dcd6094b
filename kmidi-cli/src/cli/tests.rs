//! Parsing tests: every command's flags as a user types them, old spellings included.

use clap::CommandFactory;

use super::*;

fn parse(argv: &[&str]) -> Command {
    Cli::try_parse_from(argv)
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"))
        .command
}

fn refused(argv: &[&str]) -> String {
    Cli::try_parse_from(argv).unwrap_err().to_string()
}

#[test]
fn cli_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn goldberg_presets_set_the_original_ratios() {
    let Command::Player(p) = parse(&["kmidi", "player", "-m", "x.mid", "--gg-1955"]) else {
        panic!("not a player command")
    };
    assert_eq!(p.speed.ratio(), 0.65);
    assert_eq!(
        p.kafka.bootstrap.bootstrap, None,
        "the default is applied later"
    );
    assert_eq!(p.kafka.topic(), "midi_notes");
}

#[test]
fn a_bad_speed_ratio_is_refused_by_every_command_that_plays() {
    for cmd in [
        &["kmidi", "player", "-m", "x.mid", "-s", "0"][..],
        &["kmidi", "demo", "--speed-ratio=-1"],
        &[
            "kmidi", "compare", "--a", "rdkafka", "--b", "rdkafka", "-s", "nan",
        ],
    ] {
        let err = refused(cmd);
        assert!(err.contains("not a positive number"), "{cmd:?}: {err}");
    }
}

#[test]
fn a_negative_number_gets_the_same_clear_message_with_a_space_or_an_equals_sign() {
    for (spaced, joined, says) in [
        (
            &["kmidi", "player", "-m", "x.mid", "-s", "-1"][..],
            &["kmidi", "player", "-m", "x.mid", "-s=-1"][..],
            "\"-1\" is not a positive number",
        ),
        (
            &["kmidi", "player", "-m", "x.mid", "--record-size", "-5"],
            &["kmidi", "player", "-m", "x.mid", "--record-size=-5"],
            "\"-5\" is not a whole number of 0 or more",
        ),
        (
            &["kmidi", "instrument", "--connect-timeout", "-3"],
            &["kmidi", "instrument", "--connect-timeout=-3"],
            "\"-3\" is not a positive number of seconds",
        ),
        (
            &["kmidi", "instrument", "--max-messages", "-2"],
            &["kmidi", "instrument", "--max-messages=-2"],
            "\"-2\" is not a whole number of 1 or more",
        ),
    ] {
        let (a, b) = (refused(spaced), refused(joined));
        assert!(a.contains(says), "{spaced:?}: {a}");
        assert!(b.contains(says), "{joined:?}: {b}");
    }
}

#[test]
fn every_player_flag_has_help_and_loop_has_its_own() {
    let mut cmd = Cli::command();
    let player = cmd.find_subcommand_mut("player").unwrap();
    for arg in player.get_arguments() {
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        assert!(!help.is_empty(), "--{:?} has no help", arg.get_long());
    }
    let help = |long: &str| {
        player
            .get_arguments()
            .find(|a| a.get_long() == Some(long))
            .and_then(|a| a.get_help())
            .map(|h| h.to_string())
            .unwrap()
    };
    assert!(help("loop").contains("again and again"), "{}", help("loop"));
    assert!(
        !help("key-by").contains("again and again"),
        "{}",
        help("key-by")
    );
}

#[test]
fn the_song_has_one_spelling_and_the_old_ones_still_work() {
    for flag in ["-m", "--song", "--midi-files", "--midi-file"] {
        let Command::Player(p) = parse(&["kmidi", "player", flag, "a.mid"]) else {
            panic!("not a player command")
        };
        assert_eq!(p.song.songs, ["a.mid"], "player {flag}");
        for sub in [
            &["kmidi", "demo"][..],
            &[
                "kmidi",
                "compare",
                "--transport-a",
                "x",
                "--transport-b",
                "y",
            ],
        ] {
            let mut argv = sub.to_vec();
            argv.extend([flag, "a.mid"]);
            let song = match parse(&argv) {
                Command::Demo(d) => d.song,
                Command::Compare(c) => c.song,
                _ => panic!("{argv:?}"),
            };
            assert_eq!(song.one(), Ok("a.mid"), "{argv:?}");
        }
    }
    let err = refused(&["kmidi", "player"]);
    assert!(err.contains("--song"), "the player needs a song: {err}");
    let Command::Demo(d) = parse(&["kmidi", "demo"]) else {
        panic!()
    };
    assert_eq!(d.song.one(), Ok("bach_prelude_c.mid"));
    let Command::Demo(d) = parse(&["kmidi", "demo", "-m", "a.mid", "-m", "b.mid"]) else {
        panic!()
    };
    assert!(d.song.one().unwrap_err().contains("one song"));
}

#[test]
fn compare_sides_follow_one_pattern_and_the_old_spellings_are_hidden_aliases() {
    let new = parse(&[
        "kmidi",
        "compare",
        "--transport-a",
        "rdkafka",
        "--transport-b",
        "kafka-rust",
        "--property-a",
        "linger.ms=1",
        "--property-b",
        "acks=1",
        "-b",
        "127.0.0.1:9092",
    ]);
    let old = parse(&[
        "kmidi",
        "compare",
        "--a",
        "rdkafka",
        "--b",
        "kafka-rust",
        "--xa",
        "linger.ms=1",
        "--xb",
        "acks=1",
        "-b",
        "127.0.0.1:9092",
    ]);
    for c in [new, old] {
        let Command::Compare(c) = c else { panic!() };
        assert_eq!(c.transports(), ["rdkafka", "kafka-rust"]);
        assert_eq!(c.side_props()[0], ["linger.ms=1"]);
        assert_eq!(c.side_props()[1], ["acks=1"]);
        assert_eq!(c.bootstrap.bootstrap.as_deref(), Some("127.0.0.1:9092"));
    }
    let mut cmd = Cli::command();
    let help = cmd
        .find_subcommand_mut("compare")
        .unwrap()
        .render_long_help()
        .to_string();
    assert!(help.contains("--transport-a"), "{help}");
    for old in ["--xa ", "--a <", "--b <"] {
        assert!(!help.contains(old), "{old} is shown in:\n{help}");
    }
}

#[test]
fn each_short_flag_means_one_thing_in_every_command() {
    let cmd = Cli::command();
    let mut meaning: std::collections::BTreeMap<char, String> = Default::default();
    for sub in cmd.get_subcommands() {
        let mut subs: Vec<&clap::Command> = vec![sub];
        subs.extend(sub.get_subcommands());
        for c in subs {
            for arg in c.get_arguments() {
                if let Some(short) = arg.get_short() {
                    let id = arg.get_id().to_string();
                    let seen = meaning.entry(short).or_insert_with(|| id.clone());
                    assert_eq!(*seen, id, "-{short} in {}", c.get_name());
                }
            }
        }
    }
    assert_eq!(meaning.get(&'b').map(String::as_str), Some("bootstrap"));
    assert_eq!(meaning.get(&'t').map(String::as_str), Some("topic"));
}

#[test]
fn speed_options_are_mutually_exclusive() {
    let r = Cli::try_parse_from(["kmidi", "player", "-m", "x", "-s", "2", "--gg-1981"]);
    assert!(r.is_err());
}

#[test]
fn the_check_cluster_needs_check() {
    let err = refused(&["kmidi", "transports", "-b", "127.0.0.1:9092"]);
    assert!(err.contains("--check"), "{err}");
    let Command::Transports(t) = parse(&["kmidi", "transports", "--check", "x.so", "-b", "h:1"])
    else {
        panic!()
    };
    assert_eq!(t.bootstrap.bootstrap.as_deref(), Some("h:1"));
}

#[test]
fn the_scenario_takes_churn_and_load_and_churn_is_its_old_spelling() {
    let Command::Compare(c) = parse(&[
        "kmidi",
        "compare",
        "--transport-a",
        "rdkafka",
        "--transport-b",
        "rdkafka",
        "--churn",
        "join@2s,load@1s:rate=1MB/s:for=2s",
    ]) else {
        panic!()
    };
    assert_eq!(c.lab.churn().map(|s| s.events.len()), Some(1));
    assert_eq!(c.lab.load().map(|s| s.load.len()), Some(1));
    assert_eq!(c.lab.members(), 3, "churn steps make a group of three");
    let Command::Instrument(i) = parse(&[
        "kmidi",
        "instrument",
        "--scenario",
        "ramp@0s:from=1MB/s:to=2MB/s:step=1MB/s:every=1s",
    ]) else {
        panic!()
    };
    assert!(!i.lab.lab(), "load alone needs no group of members");
    assert_eq!(i.lab.load().map(|s| s.load.len()), Some(2));
    assert_eq!(i.load.driver, LoadDriverSpec::Local);
    assert!(!i.load.remote);
    let err = refused(&["kmidi", "instrument", "--scenario", "load@1s:rate=fast"]);
    assert!(err.contains("--scenario"), "{err}");
}

#[test]
fn a_load_driver_is_local_java_a_transport_or_a_trogdor_coordinator() {
    let driver = |spec: &str| spec.parse::<LoadDriverSpec>();
    assert_eq!(driver("local"), Ok(LoadDriverSpec::Local));
    assert_eq!(driver("local=java"), Ok(LoadDriverSpec::LocalJava));
    assert_eq!(
        driver("local=franz-go"),
        Ok(LoadDriverSpec::LocalTransport("franz-go".into()))
    );
    assert_eq!(
        driver("trogdor=http://127.0.0.1:8889,agents=agent-1+agent-2"),
        Ok(LoadDriverSpec::Trogdor {
            url: "http://127.0.0.1:8889".into(),
            agents: vec!["agent-1".into(), "agent-2".into()],
        })
    );
    for bad in [
        "",
        "remote",
        "trogdor=",
        "trogdor=http://h:1,agent=x",
        "local=",
    ] {
        let err = driver(bad).unwrap_err();
        assert!(
            err.contains("trogdor") || err.contains("load driver"),
            "{bad}: {err}"
        );
    }
}
