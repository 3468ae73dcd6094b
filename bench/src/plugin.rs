//! Benchmark 4b: librdkafka linked in (the rdkafka transport) vs librdkafka behind the
//! plugin ABI (the c-rdkafka `.so`), from the figures benchmark 2 and 5 measured on the
//! same broker in the same run.

use crate::kafka::Measured;
use crate::report::{Row, Section, Verdict};
use crate::stats::{ratio, us};

/// 4b: librdkafka linked in vs librdkafka in the C plugin, on the same broker.
pub(crate) fn overhead(measured: &[Measured], command: &str) -> Option<Section> {
    let rd = measured
        .iter()
        .find(|m| m.name == "rdkafka" && m.error.is_none())?;
    let c = measured
        .iter()
        .find(|m| m.name == "c-rdkafka" && m.error.is_none())?;
    let mut s = Section::new(
        "4b. Plugin overhead on Kafka: rdkafka built in vs the c-rdkafka plugin",
        "The ping and throughput figures of section 2 and 5 side by side. Caveat: the \
         built-in transport links the librdkafka that the rdkafka crate builds, the C plugin \
         links the system's (Debian) librdkafka, so library versions differ as well as the \
         boundary; 4a isolates the boundary itself.",
        "the built-in rdkafka transport, same broker, same run",
        command,
    );
    let over = |a: f64, b: f64| (a / b - 1.0) * 100.0;
    let p50 = over(c.ping.p50, rd.ping.p50);
    s.rows.push(
        Row::new("ping p50", "≤ 2 % slower")
            .measured(format!("{} ({p50:+.1} %)", us(c.ping.p50)))
            .reference(us(rd.ping.p50))
            .ratio(ratio(c.ping.p50, rd.ping.p50))
            .verdict(Verdict::check(p50 <= 2.0)),
    );
    if let (Some((cr, _)), Some((rr, _))) = (c.rate, rd.rate) {
        let t = over(rr, cr);
        s.rows.push(
            Row::new("throughput (notes/s)", "≤ 2 % lower")
                .measured(format!("{cr:.0} ({:+.1} %)", -t))
                .reference(format!("{rr:.0}"))
                .ratio(ratio(cr, rr))
                .verdict(Verdict::check(cr >= 0.98 * rr)),
        );
    }
    if c.rate
        .zip(rd.rate)
        .is_some_and(|((cr, _), (rr, _))| cr > 1.1 * rr)
    {
        s.notes.push(
            "The plugin is faster than the built-in here, the opposite of a boundary cost: \
             the built-in links librdkafka 2.12.1 (rdkafka-sys 4.10, built by cmake), the \
             plugin the system's librdkafka 2.0.2, and the rdkafka crate's ThreadedProducer \
             adds its own polling thread. Worth a profile of the built-in producer (`perf` \
             on `kmidi-bench kafka --transports rdkafka`); 4a bounds the boundary's own cost."
                .to_string(),
        );
    }
    if s.missed() {
        s.notes.push(
            "A miss here is not the boundary's cost (4a: below a µs per note): on this \
             shared 2-core machine the built-in/plugin ratio swings by tens of % between \
             runs, either way, and the two link different librdkafka versions (2.12.1 built \
             in, the system's 2.0.2 in the plugin). Closing it: build the C plugin against \
             the rdkafka crate's librdkafka, and alternate the two (A/B/A/B, median of \
             several rounds) instead of one round each."
                .to_string(),
        );
    }
    Some(s)
}
