//! Writing the exports a command was asked for: `--report` (the typed document as
//! JSON) and `--plot` (the SVG), from one [`Document`].

use std::path::Path;

use anyhow::{Context, Result};
use kmidi_engine::measure::Sample;

use super::load::{LoadSection, StepDoc};
use super::plot::{self, Mark, Span};
use super::Document;
use crate::cli::OutputArgs;

/// `--report` and `--plot`, if asked for: the plot has a series per side.
pub fn write_outputs(out: &OutputArgs, doc: &Document, title: &str) -> Result<()> {
    if let Some(path) = &out.report {
        write_json(path, doc)?;
    }
    if let Some(path) = &out.plot {
        // One side with figures per broker: a series per broker.
        let per_broker = match doc.sides.as_slice() {
            [one] => one
                .brokers
                .as_ref()
                .map(|b| super::brokers::series(one.instrument.samples, b)),
            _ => None,
        };
        let series: Vec<(&str, &[Sample])> = match doc.sides.as_slice() {
            _ if per_broker.is_some() => per_broker
                .iter()
                .flatten()
                .map(|(name, s)| (name.as_str(), s.as_slice()))
                .collect(),
            [one] => vec![("notes", one.instrument.samples)],
            sides => sides
                .iter()
                .map(|s| (s.label.as_str(), s.instrument.samples))
                .collect(),
        };
        let mut marks: Vec<Mark> = doc
            .sides
            .iter()
            .enumerate()
            .flat_map(|(i, side)| {
                side.rebalance.iter().flat_map(move |r| {
                    r.events.iter().map(move |e| Mark {
                        series: i,
                        at_s: e.applied_at_s,
                        label: format!("{} {}", ["A", "B"][i.min(1)], e.event),
                    })
                })
            })
            .collect();
        if let Some(f) = &doc.faults {
            marks.extend(super::faults::marks(f, doc.sides.len()));
        }
        let spans = doc.load.as_ref().map(load_spans).unwrap_or_default();
        plot::draw_with_load(path, title, &series, &marks, &spans)?;
        eprintln!("plot: {}", path.display());
    }
    Ok(())
}

/// The load steps that ran, for the plot: a step skipped or failed loaded nothing.
fn load_spans(load: &LoadSection) -> Vec<Span> {
    load.steps
        .iter()
        .filter(|s| s.state == "done")
        .filter_map(|s| {
            Some(Span {
                start_s: s.started_s?,
                end_s: s.ended_s,
                label: short_label(s),
                asked_mb_s: s.asked_bytes_per_sec / 1e6,
                achieved_mb_s: s.achieved.as_ref().map(|a| a.achieved_bytes_per_sec / 1e6),
            })
        })
        .collect()
}

/// A step's label as written (`load@2s:rate=1MB/s:for=3s`), but a ramp's level as
/// `L2 3MB/s` (`R2 L2 3MB/s` for a second ramp): a ramp's levels are many and close
/// together, and its full label (`ramp@10s level 2/5: 3MB/s`) would take rows of them.
fn short_label(step: &StepDoc) -> String {
    let Some(rest) = step.label.strip_prefix("ramp") else {
        return step.label.clone();
    };
    let ramp = rest
        .split('@')
        .next()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map_or(String::new(), |n| format!("R{n} "));
    let level = rest
        .split_once(" level ")
        .and_then(|(_, l)| l.split('/').next())
        .map_or_else(|| (step.step + 1).to_string(), str::to_string);
    format!("{ramp}L{level} {}", step.asked)
}

fn write_json(path: &Path, doc: &Document) -> Result<()> {
    let text = serde_json::to_string_pretty(doc).context("encoding the report")?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("report: {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use kmidi_lab::{LoadReport, Rate};

    use super::*;

    fn step(step: usize, label: &str, state: &'static str, times: Option<(f64, f64)>) -> StepDoc {
        StepDoc {
            step,
            label: label.into(),
            state,
            reason: None,
            id: None,
            started_s: times.map(|t| t.0),
            ended_s: times.map(|t| t.1),
            asked: Rate::RecordsPerSec(100.0),
            record_size: 10_000,
            asked_bytes_per_sec: 1e6,
            asked_records_per_sec: 100.0,
            achieved: None,
        }
    }

    #[test]
    fn ramp_levels_get_short_labels() {
        let s = |label: &str| short_label(&step(3, label, "done", None));
        assert_eq!(s("load@2s:rate=1MB/s:for=3s"), "load@2s:rate=1MB/s:for=3s");
        assert_eq!(s("ramp@10s level 2/5: 100rec/s"), "L2 100rec/s");
        assert_eq!(s("ramp 2@1m level 1/3: 100rec/s"), "R2 L1 100rec/s");
    }

    #[test]
    fn only_the_steps_that_ran_are_spans() {
        let mut ran = step(0, "load@1s:rate=100rec/s", "done", Some((1.0, 4.0)));
        let mut report = LoadReport::nothing(0, ran.asked);
        report.achieved_bytes_per_sec = 500_000.0;
        ran.achieved = Some(report);
        let load = LoadSection {
            scenario: "x".into(),
            driver: "d".into(),
            steps: vec![
                ran,
                step(1, "skipped", "skipped", None),
                step(2, "failed", "failed", Some((5.0, 6.0))),
            ],
            stop_error: None,
        };
        let spans = load_spans(&load);
        assert_eq!(spans.len(), 1);
        assert_eq!((spans[0].start_s, spans[0].end_s), (1.0, Some(4.0)));
        assert_eq!(spans[0].asked_mb_s, 1.0, "100 rec/s of 10 KB");
        assert_eq!(spans[0].achieved_mb_s, Some(0.5));
    }
}
