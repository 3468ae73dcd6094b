//! Writing the exports a command was asked for: `--report` (the typed document as
//! JSON) and `--plot` (the SVG), from one [`Document`].

use std::path::Path;

use anyhow::{Context, Result};
use kmidi_engine::measure::Sample;

use super::plot::{self, Mark};
use super::Document;
use crate::cli::OutputArgs;

/// `--report` and `--plot`, if asked for: the plot has a series per side.
pub fn write_outputs(out: &OutputArgs, doc: &Document, title: &str) -> Result<()> {
    if let Some(path) = &out.report {
        write_json(path, doc)?;
    }
    if let Some(path) = &out.plot {
        let series: Vec<(&str, &[Sample])> = match doc.sides.as_slice() {
            [one] => vec![("notes", one.instrument.samples)],
            sides => sides
                .iter()
                .map(|s| (s.label.as_str(), s.instrument.samples))
                .collect(),
        };
        let marks: Vec<Mark> = doc
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
        plot::draw(path, title, &series, &marks)?;
        eprintln!("plot: {}", path.display());
    }
    Ok(())
}

fn write_json(path: &Path, doc: &Document) -> Result<()> {
    let text = serde_json::to_string_pretty(doc).context("encoding the report")?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("report: {}", path.display());
    Ok(())
}
