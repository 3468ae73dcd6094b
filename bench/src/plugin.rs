//! Benchmark 4b: librdkafka linked in (the rdkafka transport) vs librdkafka behind the
//! plugin ABI (the c-rdkafka `.so`), from the figures benchmark 2 and 5 measured on the
//! same broker in the same run.
//!
//! [`Measured`], one transport's figures, is defined here rather than in `kafka`, which
//! fills it in: `kafka` runs 2 and 5 and then hands the figures to this module, so the
//! dependency runs one way, `kafka` → `plugin`.

use crate::report::{Row, Section, Verdict};
use crate::stats::{ratio, us, Summary};

/// One transport's figures; `error` says why some are missing.
pub(crate) struct Measured {
    pub name: String,
    /// The version of the client library the transport reports (`kmidi transports`
    /// shows the same), e.g. "2.12.1" for both librdkafka transports.
    pub library: String,
    pub ping: Summary,
    pub music: Summary,
    pub lost: u64,
    /// The median of `rounds`, in notes/s and MiB/s.
    pub rate: Option<(f64, f64)>,
    /// notes/s of each throughput round, in the order taken.
    pub rounds: Vec<f64>,
    /// The process's CPU per note over the throughput rounds (`throughput::Rounds`).
    pub cpu_us_per_note: Option<f64>,
    /// Ping p50 of each ping round, in µs, in the order taken.
    pub ping_rounds: Vec<f64>,
    /// The machine's CPU steal over the whole measurement, in % (`crate::steal`).
    pub steal_pct: Option<f64>,
    pub error: Option<String>,
}

/// "; rounds MIN–MAX" of per-round figures in µs, when there were several rounds.
fn round_range(rounds: &[f64]) -> String {
    crate::throughput::bounds(rounds).map_or(String::new(), |(lo, hi)| {
        format!("; rounds {}–{}", us(lo), us(hi))
    })
}

/// How far `measured` is from `reference`, in % of the reference: -60 for 0.40×.
fn change(measured: f64, reference: f64) -> f64 {
    (measured / reference - 1.0) * 100.0
}

/// 4b: librdkafka linked in vs librdkafka in the C plugin, on the same broker.
pub(crate) fn overhead(measured: &[Measured], command: &str) -> Option<Section> {
    let rd = measured
        .iter()
        .find(|m| m.name == "rdkafka" && m.error.is_none())?;
    let c = measured
        .iter()
        .find(|m| m.name == "c-rdkafka" && m.error.is_none())?;
    // Said from what each transport reports at run time, not written down: the plugin
    // is built from the librdkafka source rdkafka-sys bundles (transports/c-rdkafka/
    // librdkafka.sh reads the version from Cargo.lock), so the two agree unless a
    // plugin built elsewhere is measured.
    let same_library = rd.library == c.library;
    let libraries = if same_library {
        format!(
            "both run librdkafka {}: the built-in through the rdkafka crate, the C plugin \
             linked in statically, built from the same source rdkafka-sys bundles \
             (transports/c-rdkafka/librdkafka.sh), so the library is the same on both sides \
             and what differs is the boundary and the rdkafka crate's own layer",
            rd.library
        )
    } else {
        format!(
            "the built-in runs librdkafka {} (the rdkafka crate's), the C plugin librdkafka \
             {}, so library versions differ as well as the boundary",
            rd.library, c.library
        )
    };
    let mut s = Section::new(
        "4b. Plugin overhead on Kafka: rdkafka built in vs the c-rdkafka plugin",
        &format!(
            "The ping and throughput figures of section 2 and 5 side by side: {libraries}. \
             4a isolates the boundary itself."
        ),
        "the built-in rdkafka transport, same broker, same run",
        command,
    );
    let p50 = change(c.ping.p50, rd.ping.p50);
    s.rows.push(
        Row::new("ping p50", "≤ 2 % slower")
            .measured(format!(
                "{} ({p50:+.1} %){}",
                us(c.ping.p50),
                round_range(&c.ping_rounds)
            ))
            .reference(format!(
                "{}{}",
                us(rd.ping.p50),
                round_range(&rd.ping_rounds)
            ))
            .ratio(ratio(c.ping.p50, rd.ping.p50))
            .verdict(Verdict::check(p50 <= 2.0)),
    );
    if let (Some((cr, _)), Some((rr, _))) = (c.rate, rd.rate) {
        s.rows.push(
            Row::new("throughput (notes/s)", "≤ 2 % lower")
                .measured(format!("{cr:.0} ({:+.1} %)", change(cr, rr)))
                .reference(format!("{rr:.0}"))
                .ratio(ratio(cr, rr))
                .verdict(Verdict::check(cr >= 0.98 * rr)),
        );
    }
    if let (Some(cc), Some(rc)) = (c.cpu_us_per_note, rd.cpu_us_per_note) {
        // No target: the CPU the producer spends per note is the plugin path's own
        // cost, which the wall-clock figures above mix with the broker's and the
        // machine's. Measured over the same throughput rounds.
        s.rows.push(
            Row::new("CPU per note, producer process", "")
                .measured(format!("{cc:.1} µs ({:+.1} %)", change(cc, rc)))
                .reference(format!("{rc:.1} µs"))
                .ratio(ratio(cc, rc))
                .verdict(Verdict::Info),
        );
    }
    if c.rate
        .zip(rd.rate)
        .is_some_and(|((cr, _), (rr, _))| cr > 1.1 * rr)
    {
        let why = if same_library {
            "with the same librdkafka on both sides, the difference is the rdkafka crate's: \
             its ThreadedProducer adds its own polling thread"
                .to_string()
        } else {
            format!(
                "the two run different librdkafka versions ({} built in, {} in the plugin), \
                 and the rdkafka crate's ThreadedProducer adds its own polling thread",
                rd.library, c.library
            )
        };
        let cpu_alike = c
            .cpu_us_per_note
            .zip(rd.cpu_us_per_note)
            .is_some_and(|(cc, rc)| (cc / rc - 1.0).abs() <= 0.1);
        s.notes.push(if cpu_alike {
            "The plugin is faster than the built-in here, while the two producers spend \
             the same CPU per note within 10 % (row above): the difference is the \
             machine's between rounds, not either client's work."
                .to_string()
        } else {
            format!(
                "The plugin is faster than the built-in here, the opposite of a boundary \
                 cost: {why}. Worth a profile of the built-in producer (`perf` on \
                 `kmidi-bench kafka --transports rdkafka`); 4a bounds the boundary's own cost."
            )
        });
    }
    if s.missed() {
        let closing = if same_library {
            "Closing it"
        } else {
            "The two also link different librdkafka versions here: build the C plugin with \
             transports/c-rdkafka/build.sh, which links the rdkafka crate's. Closing the rest"
        };
        let steal = c.steal_pct.map_or(String::new(), |p| {
            format!(" The hypervisor took {p:.0} % of this machine's CPU time (steal) during the measurement.")
        });
        s.notes.push(format!(
            "A miss here is not the boundary's cost (4a: below a µs per note; the CPU per \
             note row compares the two producers' own work). Ping pools {} rounds and \
             throughput is the median of {}, the transports taken in turn; the per-round \
             ranges (ping above, throughput in section 5) show how far the machine moves \
             either figure between rounds.{steal} {closing}: more rounds (`--rounds`), or a \
             quieter machine.",
            c.ping_rounds.len().min(rd.ping_rounds.len()),
            c.rounds.len().min(rd.rounds.len())
        ));
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(name: &str, library: &str, ping_p50: f64, rate: f64) -> Measured {
        Measured {
            name: name.to_string(),
            library: library.to_string(),
            ping: Summary {
                count: 100,
                p50: ping_p50,
                ..Summary::default()
            },
            music: Summary::default(),
            lost: 0,
            rate: Some((rate, rate / 100.0)),
            rounds: vec![rate],
            cpu_us_per_note: None,
            ping_rounds: Vec::new(),
            steal_pct: None,
            error: None,
        }
    }

    fn row<'a>(s: &'a Section, figure: &str) -> &'a Row {
        s.rows
            .iter()
            .find(|r| r.figure == figure)
            .unwrap_or_else(|| panic!("no row {figure}"))
    }

    #[test]
    fn throughput_change_is_in_percent_of_the_built_in() {
        // 0.40× the built-in is 60 % lower, not the -150 % that dividing the other
        // way round printed.
        let s = overhead(
            &[
                measured("rdkafka", "2.12.1", 500.0, 10_000.0),
                measured("c-rdkafka", "2.12.1", 500.0, 4_000.0),
            ],
            "cmd",
        )
        .expect("both transports measured");
        let t = row(&s, "throughput (notes/s)");
        assert_eq!(t.measured, "4000 (-60.0 %)");
        assert_eq!(t.ratio, "0.40×");
        assert_eq!(t.verdict, Verdict::Missed);
        let faster = overhead(
            &[
                measured("rdkafka", "2.12.1", 500.0, 10_000.0),
                measured("c-rdkafka", "2.12.1", 400.0, 12_500.0),
            ],
            "cmd",
        )
        .expect("both transports measured");
        assert_eq!(
            row(&faster, "throughput (notes/s)").measured,
            "12500 (+25.0 %)"
        );
        assert_eq!(row(&faster, "ping p50").measured, "400.0 µs (-20.0 %)");
    }

    #[test]
    fn the_per_round_range_is_shown_only_for_several_rounds() {
        assert_eq!(round_range(&[700.0]), "");
        assert_eq!(
            round_range(&[700.0, 650.0, 900.0]),
            format!("; rounds {}–{}", us(650.0), us(900.0))
        );
    }

    #[test]
    fn the_libraries_are_named_as_the_transports_report_them() {
        let same = overhead(
            &[
                measured("rdkafka", "2.12.1", 500.0, 10_000.0),
                measured("c-rdkafka", "2.12.1", 500.0, 4_000.0),
            ],
            "cmd",
        )
        .expect("both transports measured");
        let text = format!("{}\n{}", same.method, same.notes.join("\n"));
        assert!(text.contains("both run librdkafka 2.12.1"), "{text}");
        assert!(
            !text.contains("Debian") && !text.contains("system's"),
            "{text}"
        );
        let differ = overhead(
            &[
                measured("rdkafka", "2.12.1", 500.0, 10_000.0),
                measured("c-rdkafka", "2.0.2", 500.0, 12_000.0),
            ],
            "cmd",
        )
        .expect("both transports measured");
        let text = format!("{}\n{}", differ.method, differ.notes.join("\n"));
        assert!(text.contains("librdkafka 2.0.2"), "{text}");
        assert!(text.contains("versions differ"), "{text}");
    }
}
