//! The load of `--scenario` on the plot: each applied step shaded across every panel
//! and labelled in the label strips (on rows below the churn events'), and a third,
//! smaller panel with the load itself in MB/s, the rate asked and the rate achieved as
//! step lines. A panel of its own rather than a right-hand axis on the latency panel:
//! that panel is often log-scaled and crowded with both sides' points, and two unrelated
//! scales in one frame are easy to misread; below it the load keeps a plain linear axis
//! from zero and the shading lines it up with the music above.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{DrawResult, Frame, Mark, MARGIN, Y_LABEL_AREA};

/// The shading of an applied step, and the achieved rate's line.
pub const LOAD: RGBColor = RGBColor(148, 103, 189);
/// The asked rate's (dashed) line.
pub const ASKED: RGBColor = RGBColor(90, 90, 90);
/// How opaque a step's shading is: light, the points stay readable through it.
pub const SHADE_ALPHA: f64 = 0.12;
/// The load panel's height, px, besides its label strip.
pub const PANEL_H: u32 = 190;
pub const Y_DESC: &str = "load (MB/s)";

/// One applied load step.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// Song time, s.
    pub start_s: f64,
    /// `None`: still running when the song ended; drawn to the plot's right edge.
    pub end_s: Option<f64>,
    /// Short: printed in the label strips.
    pub label: String,
    pub asked_mb_s: f64,
    /// `None` when the driver reported nothing for the step.
    pub achieved_mb_s: Option<f64>,
}

impl Span {
    fn end(&self, x_end: f64) -> f64 {
        self.end_s.unwrap_or(x_end).min(x_end)
    }
}

/// The spans' labels as marks, for `marks::label_rows` (one group: they are the run's
/// load, not a side's).
pub fn label_marks(spans: &[Span]) -> Vec<Mark> {
    spans
        .iter()
        .map(|s| Mark {
            series: 0,
            at_s: s.start_s,
            label: s.label.clone(),
        })
        .collect()
}

/// The corners of a step line from 0 to `x_end` of the load `rate` picks from each
/// span: zero outside the spans, and the rates of overlapping spans added (they load the
/// cluster together). A span whose `rate` is `None` adds nothing.
pub fn step_line(spans: &[Span], rate: fn(&Span) -> Option<f64>, x_end: f64) -> Vec<(f64, f64)> {
    let mut cuts: Vec<f64> = vec![0.0, x_end];
    for s in spans {
        cuts.extend([s.start_s.clamp(0.0, x_end), s.end(x_end).max(0.0)]);
    }
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let mut points = Vec::new();
    for w in cuts.windows(2) {
        let mid = (w[0] + w[1]) / 2.0;
        let v: f64 = spans
            .iter()
            .filter(|s| s.start_s <= mid && mid < s.end(x_end))
            .filter_map(rate)
            .sum();
        points.extend([(w[0], v), (w[1], v)]);
    }
    points
}

/// The load axis's top, MB/s: a little over the highest load, asked or achieved.
pub fn y_top(spans: &[Span], x_end: f64) -> f64 {
    let asked = step_line(spans, |s| Some(s.asked_mb_s), x_end);
    let achieved = step_line(spans, |s| s.achieved_mb_s, x_end);
    let max = asked
        .iter()
        .chain(&achieved)
        .map(|&(_, v)| v)
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    if max > 0.0 {
        max * 1.15
    } else {
        1.0
    }
}

/// Each span shaded, in pixels on the whole panel `area`: from the top of its label's
/// row in the strip (so that the label sits in its span's shade) down to the x axis.
pub fn shade<Y: Ranged<ValueType = f64>>(
    area: &DrawingArea<SVGBackend, Shift>,
    chart: &ChartContext<SVGBackend, Cartesian2d<RangedCoordf64, Y>>,
    frame: &Frame,
    bottom_y: f64,
) -> DrawResult<()> {
    let screen = area.use_screen_coord();
    let (_, ys) = chart.plotting_area().get_pixel_range();
    for (s, &row) in frame.spans.iter().zip(&frame.span_rows) {
        let (x0, _) = chart.backend_coord(&(s.start_s.clamp(0.0, frame.x_end), bottom_y));
        let (x1, _) = chart.backend_coord(&(s.end(frame.x_end), bottom_y));
        let top = ys.start - frame.strip_h + row as i32 * super::marks::ROW_PX;
        screen.draw(&Rectangle::new(
            [(x0, top), (x1.max(x0 + 1), ys.end)],
            LOAD.mix(SHADE_ALPHA).filled(),
        ))?;
    }
    Ok(())
}

/// The load panel on `area`: the spans shaded and labelled, the churn events marked,
/// the achieved rate solid and the asked rate dashed.
pub fn panel(area: &DrawingArea<SVGBackend, Shift>, frame: &Frame) -> DrawResult<()> {
    let x_end = frame.x_end;
    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .margin_top(MARGIN + frame.strip_h)
        .x_label_area_size(34)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(0f64..x_end, 0f64..y_top(frame.spans, x_end))?;
    chart
        .configure_mesh()
        .x_desc("song time (s)")
        .y_desc(Y_DESC)
        .y_labels(5)
        .draw()?;
    shade(area, &chart, frame, 0.0)?;
    super::draw_marks(area, &chart, frame, 0.0)?;
    // The asked line on top: where the load achieved what it asked, the dashes show
    // over the solid line.
    if frame.spans.iter().any(|s| s.achieved_mb_s.is_some()) {
        chart.draw_series(std::iter::once(PathElement::new(
            step_line(frame.spans, |s| s.achieved_mb_s, x_end),
            LOAD.stroke_width(2),
        )))?;
    }
    chart.draw_series(std::iter::once(DashedPathElement::new(
        step_line(frame.spans, |s| Some(s.asked_mb_s), x_end),
        6,
        4,
        ASKED.stroke_width(2),
    )))?;
    Ok(())
}
