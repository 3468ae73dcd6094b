//! Section 5: the throughput ceiling per transport, against ProducerPerformance.

use anyhow::Result;

use super::{Options, Perf, BIG_BATCH};
use crate::plugin::Measured;
use crate::report::{Row, Section, Verdict};
use crate::stats::ratio;
use crate::throughput::{self, RECORD_SIZE};

pub(super) fn section(o: &Options, measured: &[Measured], jt: &Result<Perf>) -> Section {
    let mut tput = Section::new(
        &format!(
            "5. Throughput ceiling, {} KB notes, no pauses (Kafka {})",
            RECORD_SIZE / 1024,
            o.version
        ),
        &format!(
            "{} notes of {RECORD_SIZE} bytes (JSON padded with `extra_payload`, encoded \
             beforehand) sent back to back, timed from the first send to the end of flush, in {} rounds \
             taken in turn (every transport once per round), the median shown, with the \
             CPU the kmidi-bench process used per note over the rounds. \
             MB = MiB, as ProducerPerformance prints.",
            o.records, o.rounds
        ),
        "ProducerPerformance (`kafka-producer-perf-test`) on the same broker, same record \
         count and size, acks=all, linger.ms=0, enable.idempotence=true (kmidi's producer \
         settings), run twice: with Java's default batch.size (16 KiB: one 10 KB record \
         per batch) and with librdkafka's (1 MB); the better of the two is the reference",
        &o.command,
    );
    let ((drate, dmb), (brate, bmb)) = match &jt {
        Ok(v) => *v,
        Err(e) => {
            tput.notes
                .push(format!("ProducerPerformance failed: {e:#}"));
            ((0.0, 0.0), (0.0, 0.0))
        }
    };
    let (jrate, jmb) = if brate > drate {
        (brate, bmb)
    } else {
        (drate, dmb)
    };
    let jref = format!(
        "{jrate:.0} ({jmb:.1}); Java batch.size default: {drate:.0} ({dmb:.1}), \
         {BIG_BATCH}: {brate:.0} ({bmb:.1})"
    );
    for m in measured {
        if m.error
            .as_deref()
            .is_some_and(|e| e.contains("MessageSizeTooLarge"))
        {
            tput.notes.push(format!(
                "{}: no figure. Its producer thread puts every queued record into one \
                 produce request, so 10 KB notes sent back to back exceed the broker's \
                 message.max.bytes (1 MiB) and are refused. What would close it: cap a \
                 kafka-rust batch at message.max.bytes (transports/kafka-rust/src/producer.rs).",
                m.name
            ));
        }
        let Some((rate, mb)) = m.rate else { continue };
        let rd = m.name == "rdkafka" && jt.is_ok();
        tput.rows.push(
            Row::new(
                format!("{} notes/s (MB/s)", m.name),
                if rd { "≥ 0.8 × Java" } else { "" },
            )
            .measured(format!(
                "{rate:.0} ({mb:.1}){}{}",
                throughput::spread(&m.rounds),
                m.cpu_us_per_note
                    .map_or(String::new(), |c| format!("; CPU {c:.1} µs/note"))
            ))
            .reference(jref.clone())
            .ratio(ratio(rate, jrate))
            .verdict(if rd {
                Verdict::check(rate >= 0.8 * jrate)
            } else {
                Verdict::Info
            }),
        );
    }
    if let Some(p) = measured.iter().filter_map(|m| m.steal_pct).reduce(f64::max) {
        tput.notes.push(format!(
            "CPU steal during the rounds: {p:.0} % of the machine's CPU time went to other \
             guests of the hypervisor. Wall-clock figures (notes/s) move with it between \
             rounds and runs; CPU per note much less."
        ));
    }
    tput
}
