//! `--plot FILE.svg`: latency and onset error over the song, with the audibility band
//! (±6 ms) drawn, one series per instrument (two for `compare`).

use std::path::Path;

use anyhow::{anyhow, Result};
use kmidi_engine::measure::{Sample, AUDIBLE_SHIFT_US};
use plotters::prelude::*;

const COLORS: [RGBColor; 2] = [RGBColor(31, 119, 180), RGBColor(214, 39, 40)];

/// A vertical line across both panels: a churn event of series `series`, at `at_s`
/// into the song.
pub struct Mark {
    pub series: usize,
    pub at_s: f64,
    pub label: String,
}

/// Draws one panel per figure (latency, onset error) with every named series, and the
/// marks (churn events) as dashed lines in their series' colour.
pub fn draw(path: &Path, title: &str, series: &[(&str, &[Sample])], marks: &[Mark]) -> Result<()> {
    let err = |e: Box<dyn std::error::Error>| anyhow!("drawing {}: {e}", path.display());
    let root = SVGBackend::new(path, (1000, 700)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(Box::new(e)))?;
    let root = root
        .titled(title, ("sans-serif", 22))
        .map_err(|e| err(Box::new(e)))?;
    let panels = root.split_evenly((2, 1));
    let x_max = series
        .iter()
        .flat_map(|(_, s)| s.iter().map(|p| p.at_s))
        .fold(1.0f64, f64::max);
    let band = AUDIBLE_SHIFT_US as f64 / 1000.0;
    type Pick = fn(&Sample) -> Option<f64>;
    let picks: [(&str, Pick); 2] = [
        ("end-to-end latency (ms)", |s| s.latency_ms),
        ("onset error vs the score (ms)", |s| Some(s.onset_ms)),
    ];
    for (area, (label, pick)) in panels.iter().zip(picks) {
        let values: Vec<f64> = series
            .iter()
            .flat_map(|(_, s)| s.iter().filter_map(pick))
            .collect();
        let lo = values.iter().copied().fold(-band * 1.5, f64::min);
        let hi = values.iter().copied().fold(band * 1.5, f64::max);
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..x_max * 1.02, lo..hi)
            .map_err(|e| err(Box::new(e)))?;
        chart
            .configure_mesh()
            .x_desc("song time (s)")
            .y_desc(label)
            .draw()
            .map_err(|e| err(Box::new(e)))?;
        // The band within which a shift is not heard.
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, -band), (x_max * 1.02, band)],
                RGBColor(44, 160, 44).mix(0.12).filled(),
            )))
            .map_err(|e| err(Box::new(e)))?
            .label(format!("inaudible (±{band} ms)"))
            .legend(|(x, y)| {
                Rectangle::new(
                    [(x, y - 5), (x + 12, y + 5)],
                    RGBColor(44, 160, 44).mix(0.3).filled(),
                )
            });
        for m in marks {
            let color = COLORS[m.series % COLORS.len()];
            chart
                .draw_series(DashedLineSeries::new(
                    [(m.at_s, lo), (m.at_s, hi)],
                    6,
                    4,
                    color.stroke_width(1),
                ))
                .map_err(|e| err(Box::new(e)))?;
            chart
                .draw_series(std::iter::once(Text::new(
                    m.label.clone(),
                    (m.at_s, hi),
                    ("sans-serif", 12).into_font().color(&color),
                )))
                .map_err(|e| err(Box::new(e)))?;
        }
        for (i, (name, samples)) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            chart
                .draw_series(
                    samples.iter().filter_map(|s| {
                        pick(s).map(|v| Circle::new((s.at_s, v), 2, color.filled()))
                    }),
                )
                .map_err(|e| err(Box::new(e)))?
                .label(name.to_string())
                .legend(move |(x, y)| Circle::new((x + 6, y), 4, color.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(Box::new(e)))?;
    }
    root.present().map_err(|e| err(Box::new(e)))?;
    Ok(())
}
