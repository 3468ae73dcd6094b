//! Benchmark 9: what a rebalance costs the music under the classic group protocol and
//! under KIP-848's consumer protocol, for two libraries. On one Kafka 4.3.1 broker
//! (started here with the KIP-848 timeouts below, unless `--bootstrap` names one), two
//! `kmidi compare` rebalance labs run the same churn script over the same song:
//! rdkafka classic vs rdkafka consumer, then franz-go classic vs franz-go consumer, then
//! (when the kmidi binary has the `confluent` feature) rdkafka consumer vs Confluent's
//! native client, which speaks only the consumer protocol. The
//! classic sides get `session.timeout.ms=10000` and `heartbeat.interval.ms=2000`, the
//! broker gives the consumer-protocol sides the same, so the protocols differ in how
//! they rebalance, not in how long they wait. Each compare runs under a time limit; a
//! compare that fails or overruns is reported in its columns, not waited on. The
//! figures come from the compares' `--report`s; each library's classic protocol is the
//! reference for its consumer protocol, and rdkafka's consumer protocol for the native
//! client's.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::footprint::spawn;
use crate::java::{kafka_sh, wait_bounded};

/// The Kafka version the broker runs (the first with both protocols and KIP-848 GA).
const VERSION: &str = "4.3.1";

/// The broker settings assumed: the consumer protocol's session and heartbeat are the
/// broker's to set, and its defaults (45 s, 5 s) would outlast the song.
pub const BROKER_PROPS: &[(&str, &str)] = &[
    ("group.consumer.min.session.timeout.ms", "6000"),
    ("group.consumer.session.timeout.ms", "10000"),
    ("group.consumer.min.heartbeat.interval.ms", "1000"),
    ("group.consumer.heartbeat.interval.ms", "2000"),
];

/// The classic sides' client settings: the same 10 s session and 2 s heartbeat.
const CLASSIC: &[&str] = &[
    "group.protocol=classic",
    "session.timeout.ms=10000",
    "heartbeat.interval.ms=2000",
];
const CONSUMER: &[&str] = &["group.protocol=consumer"];

/// One side of a compare: the transport and its properties.
type SideSpec<'a> = (&'a str, &'a [&'a str]);

/// A partition counts as stopped by an event when silent this long beyond the score.
const STOPPED_MS: f64 = 100.0;

pub struct Options {
    /// A running broker; `None` starts one.
    pub bootstrap: Option<String>,
    pub churn: String,
    pub song: PathBuf,
    pub kmidi: PathBuf,
    pub franz_go: PathBuf,
    /// How long each compare may take.
    pub limit: Duration,
    pub dir: PathBuf,
    pub repo: PathBuf,
    pub command: String,
}

/// One side of one compare's report, or why there is none.
type Side = std::result::Result<Value, String>;

/// A broker this benchmark started: stopped (and its data deleted) when dropped.
struct Broker<'a> {
    repo: &'a Path,
    name: String,
}

impl Drop for Broker<'_> {
    fn drop(&mut self) {
        let args = ["stop".to_string(), self.name.clone()];
        if let Err(e) = kafka_sh(
            self.repo,
            &args,
            &[],
            "kafka.sh stop",
            Duration::from_secs(60),
        ) {
            eprintln!("rebalance: stopping broker {}: {e:#}", self.name);
        }
    }
}

fn start_broker(repo: &Path) -> Result<(Broker<'_>, String)> {
    let limit = Duration::from_secs(150);
    let port = kafka_sh(
        repo,
        &["free-port".into()],
        &[],
        "kafka.sh free-port",
        limit,
    )?;
    let port = port.trim().to_string();
    let broker = Broker {
        repo,
        name: format!("bench-rebalance-{port}"),
    };
    let props: Vec<String> = BROKER_PROPS
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let env = [("KMIDI_KAFKA_PROPS", props.join("\n"))];
    let args = ["start", VERSION, &port, &broker.name].map(String::from);
    let out = kafka_sh(repo, &args, &env, "kafka.sh start", limit)?;
    let boot = out.lines().last().unwrap_or_default().trim().to_string();
    eprintln!("rebalance: broker {} ({VERSION}) on {boot}", broker.name);
    Ok((broker, boot))
}

/// Runs one compare (the reference on side A) under the time limit.
fn compare(
    o: &Options,
    bootstrap: &str,
    slug: &str,
    [a, b]: [SideSpec; 2],
    notes: &mut Vec<String>,
) -> [Side; 2] {
    let report = o.dir.join(format!("rebalance-{slug}.json"));
    let log = o.dir.join(format!("rebalance-{slug}.log"));
    let _ = std::fs::remove_file(&report);
    let prefix = format!("bench_rebalance_{}_{slug}", std::process::id());
    let mut args = vec!["compare".to_string()];
    for (side, (transport, props)) in [("a", a), ("b", b)] {
        args.extend([format!("--transport-{side}"), transport.to_string()]);
        for p in props {
            args.extend([format!("--property-{side}"), p.to_string()]);
        }
    }
    args.extend(["-b", bootstrap, "--churn", &o.churn, "-t", &prefix, "-q"].map(String::from));
    args.extend(["-m".into(), o.song.display().to_string()]);
    args.extend([
        "--report".into(),
        report.display().to_string(),
        "--no-port".into(),
    ]);
    // What was heard goes to a file here, not to ./kmidi-compare.mid.
    let heard = o.dir.join(format!("rebalance-{slug}.mid"));
    args.extend(["--record".into(), heard.display().to_string()]);
    eprintln!("rebalance: kmidi {}", args.join(" "));
    let started = Instant::now();
    let mut run = || -> Result<Value> {
        let mut child = spawn(&o.kmidi, &args, &log)?;
        let Some(status) = wait_bounded(&mut child, o.limit)? else {
            bail!(
                "timed out after {} s (killed); log {}",
                o.limit.as_secs(),
                log.display()
            );
        };
        let text = std::fs::read_to_string(&report).with_context(|| {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let last = tail.lines().last().unwrap_or_default().to_string();
            format!(
                "compare exited {status} with no report: {last} (log {})",
                log.display()
            )
        })?;
        if !status.success() {
            notes.push(format!(
                "The {slug} compare exited {status} (a verdict it judged missed); its \
                 report is used as written. Log: {}.",
                log.display()
            ));
        }
        Ok(serde_json::from_str(&text)?)
    };
    let result = run();
    eprintln!("rebalance: {slug} compare took {:.0?}", started.elapsed());
    match result {
        Ok(doc) => [0, 1].map(|i| Ok(doc["sides"][i].clone())),
        Err(e) => {
            let why = format!("{e:#}");
            notes.push(format!("The {slug} compare failed: {why}"));
            [Err(why.clone()), Err(why)]
        }
    }
}

pub fn run(o: &Options) -> Result<String> {
    std::fs::create_dir_all(&o.dir)?;
    let mut notes = Vec::new();
    let (_broker, bootstrap) = match &o.bootstrap {
        Some(b) => {
            eprintln!(
                "rebalance: assuming {b} is Kafka {VERSION} with {}: the consumer \
                 protocol's session and heartbeat are the broker's to set",
                props_line()
            );
            notes.push(format!(
                "Run on a broker given with --bootstrap, assumed to be Kafka {VERSION} with \
                 {} (not checked).",
                props_line()
            ));
            (None, b.clone())
        }
        None => {
            let (broker, boot) = start_broker(&o.repo)?;
            (Some(broker), boot)
        }
    };
    let mut sides: Vec<Side> = Vec::new();
    let rdkafka = [("rdkafka", CLASSIC), ("rdkafka", CONSUMER)];
    sides.extend(compare(o, &bootstrap, "rdkafka", rdkafka, &mut notes));
    if o.franz_go.is_file() {
        let t = o.franz_go.display().to_string();
        let franz = [(t.as_str(), CLASSIC), (t.as_str(), CONSUMER)];
        sides.extend(compare(o, &bootstrap, "franz-go", franz, &mut notes));
    } else {
        let why = format!("plugin not built: {}", o.franz_go.display());
        notes.push(format!("franz-go was not measured: {why}."));
        sides.extend([Err(why.clone()), Err(why)]);
    }
    if has_transport(&o.kmidi, "confluent") {
        let native = [("rdkafka", CONSUMER), ("confluent", &[][..])];
        sides.extend(compare(o, &bootstrap, "confluent", native, &mut notes));
    } else {
        let why = format!(
            "{} was built without the confluent feature",
            o.kmidi.display()
        );
        notes.push(format!(
            "Confluent's native client was not measured: {why}."
        ));
        sides.extend([Err(why.clone()), Err(why)]);
    }
    Ok(section(o, &sides, &notes))
}

/// Whether `kmidi transports` lists `name` (built-ins depend on the binary's features).
fn has_transport(kmidi: &Path, name: &str) -> bool {
    std::process::Command::new(kmidi)
        .arg("transports")
        .output()
        .is_ok_and(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.split_whitespace().next() == Some(name))
        })
}

fn props_line() -> String {
    let p: Vec<String> = BROKER_PROPS
        .iter()
        .map(|(k, v)| format!("`{k}={v}`"))
        .collect();
    p.join(", ")
}

/// The event named `name` in a side's report.
fn event<'a>(side: &'a Side, name: &str) -> Option<&'a Value> {
    side.as_ref().ok()?["rebalance"]["events"]
        .as_array()?
        .iter()
        .find(|e| e["event"] == name)
}

/// The partition silent longest beyond the score: (ms, partition, resumed).
fn worst(e: &Value) -> Option<(f64, i64, bool)> {
    e["silences"]
        .as_array()?
        .iter()
        .filter_map(|s| {
            let ms = s["beyond_score_ms"].as_f64()?;
            Some((ms, s["partition"].as_i64()?, s["resumed"] != false))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// The side's assignor, as its library reports it.
fn assignor(side: &Side) -> String {
    let Ok(s) = side else {
        return "–".to_string();
    };
    let settings = s["settings"]["consumer"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let get = |key: &str| {
        settings
            .iter()
            .find(|kv| kv[0] == key)
            .and_then(|kv| kv[1].as_str().map(String::from))
    };
    match (
        get("partition.assignment.strategy"),
        get("group.remote.assignor"),
    ) {
        (Some(s), _) => s,
        (None, Some(r)) => format!("broker's {r}"),
        (None, None) if get("group.protocol").as_deref() == Some("consumer") => {
            "broker's default".to_string()
        }
        (None, None) => "not reported".to_string(),
    }
}

/// One figure of one event for one configuration.
fn cell(side: &Side, name: &str, figure: usize) -> String {
    let report = match side {
        Ok(report) => report,
        Err(_) if figure == 0 => return "failed (see below)".to_string(),
        Err(_) => return "–".to_string(),
    };
    let Some(e) = event(side, name) else {
        return "not applied".to_string();
    };
    match figure {
        0 => worst(e).map_or("–".to_string(), |(ms, p, resumed)| {
            format!(
                "{ms:.0} ms (p{p}){}",
                if resumed { "" } else { ", never resumed" }
            )
        }),
        1 => {
            let all = e["silences"].as_array().cloned().unwrap_or_default();
            let stopped = all
                .iter()
                .filter(|s| s["beyond_score_ms"].as_f64().unwrap_or(0.0) >= STOPPED_MS)
                .count();
            format!("{stopped} of {}", all.len())
        }
        2 if report["rebalance"]["group"]["reports_assignment"] == false => {
            "not reported".to_string()
        }
        2 => e["stable_after_s"]
            .as_f64()
            .map_or("not stable".to_string(), |s| format!("{s:.1} s")),
        _ => format!("{} / {} / {}", e["lost"], e["duplicated"], e["late"]),
    }
}

/// A column's worst silence ÷ its reference's (classic, or rdkafka consumer for the native
/// client), in the column.
fn ratio(classic: &Side, consumer: &Side, name: &str) -> String {
    let w = |s: &Side| event(s, name).and_then(worst).map(|w| w.0);
    match (w(classic), w(consumer)) {
        (Some(a), Some(b)) if a > 0.0 => format!("{:.2}×", b / a),
        _ => "–".to_string(),
    }
}

const CONFIGS: [&str; 6] = [
    "rdkafka classic",
    "rdkafka consumer",
    "franz-go classic",
    "franz-go consumer",
    "rdkafka consumer (beside confluent)",
    "confluent consumer",
];
const FIGURES: [&str; 4] = [
    "worst silence beyond the score (partition)",
    "partitions stopped (≥ 100 ms beyond the score)",
    "stable after",
    "lost / duplicated / late",
];

fn section(o: &Options, sides: &[Side], notes: &[String]) -> String {
    let song = o
        .song
        .file_name()
        .map_or(String::new(), |s| s.to_string_lossy().into_owned());
    let mut s = String::from("## 9. Rebalances: classic vs consumer protocol\n\n");
    s.push_str(&format!(
        "Two `kmidi compare` rebalance labs on one Kafka {VERSION} broker, same song \
         ({song}), same churn script (`{}`: a member joins, one leaves cleanly, one is \
         SIGKILLed, at score times), each side a group of 3 `kmidi member` processes on a \
         6-partition topic keyed by voice: rdkafka classic vs rdkafka consumer (KIP-848), \
         then franz-go classic vs franz-go consumer, then rdkafka consumer vs Confluent's \
         native client (`confluent-kafka`, consumer protocol only). Classic sides: `{}`; consumer sides: \
         `group.protocol=consumer`, with the broker's {}. Figures per event from the \
         compares' reports: the partition silent longest beyond the score's own rests, \
         how many of the 6 partitions an event stopped, until every partition had one live \
         owner again, and notes lost, duplicated (replayed) and late (> 6 ms).\n\n",
        o.churn,
        CLASSIC.join(" "),
        props_line()
    ));
    s.push_str(
        "Reference (same run): each library's classic protocol, same 10 s session and 2 s \
         heartbeat, same broker, same churn, and for the native client rdkafka's consumer \
         protocol in the same compare; the ratio row is each column's worst silence ÷ its \
         reference's.\n\n",
    );
    s.push_str(&format!("Regenerate: `{}`\n\n", o.command));
    s.push_str(&format!("| event | figure | {} |\n", CONFIGS.join(" | ")));
    s.push_str(&format!("|---|---|{}\n", "---|".repeat(CONFIGS.len())));
    let row = |label: &str, event: &str, cells: Vec<String>| {
        format!("| {event} | {label} | {} |\n", cells.join(" | "))
    };
    s.push_str(&row("assignor", "", sides.iter().map(assignor).collect()));
    for name in o.churn.split(',').map(str::trim) {
        for (i, f) in FIGURES.iter().enumerate() {
            s.push_str(&row(
                f,
                name,
                sides.iter().map(|side| cell(side, name, i)).collect(),
            ));
        }
        let r = |k: usize| ratio(&sides[k], &sides[k + 1], name);
        let reference = || "reference".to_string();
        let cells = vec![reference(), r(0), reference(), r(2), reference(), r(4)];
        s.push_str(&row("**silence ÷ reference's**", name, cells));
    }
    s.push('\n');
    for n in notes {
        s.push_str(&format!("- {n}\n"));
    }
    if !notes.is_empty() {
        s.push('\n');
    }
    s
}
