//! The broker and exec steps' part of every export: the `--report` section is
//! [`FaultOutcome`] itself (top level: one cluster for every side); here are the
//! printed table and the `--plot` marks.

use std::fmt::Write as _;

use super::plot::Mark;
use crate::faults::FaultOutcome;

fn s(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1} s"))
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1}"))
}

/// Each step: what was done to which broker, when, and how long until the ISR was
/// full; then per side the notes late, lost, duplicated and reordered, and the longest
/// silences per partition and per broker.
pub fn table(f: &FaultOutcome) -> String {
    let mut out = format!("faults: {}\n  by {}\n", f.scenario, f.driver);
    for step in &f.steps {
        let _ = write!(out, "  {}: {}", step.label, step.outcome);
        if let Some(b) = &step.broker_name {
            let _ = write!(out, ", broker {} {b}", step.broker.unwrap_or_default());
        }
        let _ = write!(
            out,
            ", at {}, back at {}, full ISR after {}",
            s(step.started_s),
            s(step.restored_s),
            s(step.time_to_full_isr_s)
        );
        if let Some(e) = &step.exec {
            let _ = write!(out, ", {}", e.outcome.ended);
        }
        if let Some(r) = &step.reason {
            let _ = write!(out, " ({r})");
        }
        out.push('\n');
        for side in &step.sides {
            let c = &side.charge;
            let d = &c.during;
            let silences = |list: &[kmidi_lab::fault::Silence], partition: bool| {
                list.iter()
                    .map(|x| {
                        let who = if partition {
                            format!("p{}", x.partition.unwrap_or_default())
                        } else {
                            format!("b{}", x.broker.unwrap_or_default())
                        };
                        format!("{who} {:.2} s", x.longest_s)
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                out,
                "    {}: onset p99 {} → {} → {} ms (before → during → after), late {}, \
                 lost {}, duplicates {}, reordered {}; longest silence per partition: {}; \
                 per broker: {}",
                side.side,
                opt_ms(c.before.onset_p99_ms),
                opt_ms(d.onset_p99_ms),
                opt_ms(c.after.onset_p99_ms),
                d.late,
                d.lost,
                c.duplicates,
                c.reordered,
                silences(&c.partitions, true),
                silences(&c.brokers, false),
            );
        }
    }
    for line in &f.released {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// A dashed line per step that started, labelled, in a row below the sides' events.
pub fn marks(f: &FaultOutcome, sides: usize) -> Vec<Mark> {
    f.steps
        .iter()
        .filter_map(|step| {
            let at_s = step.started_s?;
            let who = step.broker.map(|b| format!(" (b{b})")).unwrap_or_default();
            Some(Mark {
                series: sides,
                at_s,
                label: format!("{}{who}", step.label),
            })
        })
        .collect()
}
