//! `--plot FILE.svg`: latency and onset error over the song, one series per instrument
//! (two for `compare`), with the audibility thresholds drawn (a shift under 6 ms is not
//! heard, past 20 ms it makes a wrong melody) and the churn events marked. `axis`
//! chooses each panel's y axis (log when the values span orders of magnitude),
//! `marks` places the events' labels, `legend` the legend under the panels, `load` the
//! `--scenario` load steps (shaded spans and a panel of their own).

mod axis;
mod legend;
mod load;
mod marks;
#[cfg(test)]
mod tests;

use std::path::Path;

use anyhow::{anyhow, Result};
use kmidi_engine::measure::Sample;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use self::axis::{Band, Kind, Scale};
use self::legend::{Entry, Key};
pub use self::load::Span;

/// A series' colour: A and B of a compare first; then more for a series per broker.
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
];
const INAUDIBLE: RGBColor = RGBColor(44, 160, 44);
const OUT_OF_TIME: RGBColor = RGBColor(255, 170, 0);
const WRONG_MELODY: RGBColor = RGBColor(200, 100, 0);

const WIDTH: u32 = 1000;
/// The height the two panels and the title share, as before the legend and the event
/// labels got their own strips (which are added to it).
const PANELS_H: u32 = 700;
const MARGIN: i32 = 12;
const Y_LABEL_AREA: i32 = 56;
/// A panel's plotting width, px: the canvas less the margins and the y labels.
const PLOT_W: f64 = (WIDTH as i32 - 2 * MARGIN - Y_LABEL_AREA) as f64;

type DrawResult<T> = Result<T, DrawingAreaErrorKind<std::io::Error>>;

/// A vertical line across both panels: a churn event of series `series`, at `at_s`
/// into the song.
pub struct Mark {
    pub series: usize,
    pub at_s: f64,
    pub label: String,
}

/// Draws one panel per figure (latency, onset error) with every named series, and the
/// marks (churn events) as dashed lines in their series' colour, labelled in a strip
/// above the panel; the legend goes in a strip of its own at the bottom. (Only the
/// tests draw without asking about load: the commands pass theirs, maybe none.)
#[cfg(test)]
pub fn draw(path: &Path, title: &str, series: &[(&str, &[Sample])], marks: &[Mark]) -> Result<()> {
    draw_with_load(path, title, series, marks, &[])
}

/// As [`draw`], and the applied load steps `spans` shaded across the panels and
/// labelled, with a third panel for the load itself; without spans, exactly [`draw`].
pub fn draw_with_load(
    path: &Path,
    title: &str,
    series: &[(&str, &[Sample])],
    marks: &[Mark],
    spans: &[Span],
) -> Result<()> {
    render(path, title, series, marks, spans)
        .map_err(|e| anyhow!("drawing {}: {e}", path.display()))
}

/// What every panel shares.
struct Frame<'a> {
    series: &'a [(&'a str, &'a [Sample])],
    marks: &'a [Mark],
    /// Each mark's row of labels.
    rows: Vec<usize>,
    spans: &'a [Span],
    /// Each span's row of labels, below the marks' rows.
    span_rows: Vec<usize>,
    /// Height of the label strip above each panel, px.
    strip_h: i32,
    x_end: f64,
}

fn render(
    path: &Path,
    title: &str,
    series: &[(&str, &[Sample])],
    marks: &[Mark],
    spans: &[Span],
) -> DrawResult<()> {
    // The marks and the load count too: an event or a step after the last note heard
    // is still shown.
    let x_max = series
        .iter()
        .flat_map(|(_, s)| s.iter().map(|p| p.at_s))
        .chain(marks.iter().map(|m| m.at_s))
        .chain(
            spans
                .iter()
                .flat_map(|s| [Some(s.start_s), s.end_s])
                .flatten(),
        )
        .filter(|v| v.is_finite())
        .fold(1.0f64, f64::max);
    let x_end = x_max * 1.02;
    let rows = marks::label_rows(marks, PLOT_W / x_end, PLOT_W);
    let churn_rows = marks::row_count(&rows);
    let span_rows: Vec<usize> =
        marks::label_rows(&load::label_marks(spans), PLOT_W / x_end, PLOT_W)
            .into_iter()
            .map(|r| r + churn_rows)
            .collect();
    let label_rows = churn_rows.max(marks::row_count(&span_rows)) as i32;
    let strip_h = if label_rows == 0 {
        0
    } else {
        label_rows * marks::ROW_PX + 4
    };
    let entries = legend_entries(series, spans);
    let placed = legend::layout(&entries, PLOT_W);
    let legend_h = legend::height(&placed);
    // The load panel, with its own label strip, when there is load.
    let load_h = if spans.is_empty() {
        0
    } else {
        load::PANEL_H as i32 + strip_h
    };
    let height = PANELS_H + (2 * strip_h + legend_h + load_h) as u32;

    let base = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    base.fill(&WHITE)?;
    let root = base.titled(title, ("sans-serif", 22))?;
    let root_h = root.dim_in_pixel().1 as i32;
    let (upper, lower) = root.split_vertically(root_h - legend_h);
    let (upper, load_area) = upper.split_vertically(root_h - legend_h - load_h);
    let frame = Frame {
        series,
        marks,
        rows,
        spans,
        span_rows,
        strip_h,
        x_end,
    };
    type Pick = fn(&Sample) -> Option<f64>;
    let picks: [(Kind, Pick); 2] = [
        (Kind::Latency, |s| s.latency_ms),
        (Kind::Onset, |s| Some(s.onset_ms)),
    ];
    for (area, (kind, pick)) in upper.split_evenly((2, 1)).iter().zip(picks) {
        let values: Vec<f64> = series
            .iter()
            .flat_map(|(_, s)| s.iter().filter_map(pick))
            .collect();
        let scale = Scale::choose(&values, kind);
        match scale {
            Scale::Linear { lo, hi } => panel(area, lo..hi, &frame, scale, kind, pick)?,
            // A hair wider than the decades, so that plotters' tick search (which
            // rounds the floor's logarithm up) labels the floor too.
            Scale::Log { floor, hi } => {
                let y_spec = (floor * 0.999..hi * 1.001).log_scale();
                panel(area, y_spec, &frame, scale, kind, pick)?
            }
        }
    }
    if !spans.is_empty() {
        load::panel(&load_area, &frame)?;
    }
    legend::draw(&lower, &entries, &placed, MARGIN + Y_LABEL_AREA)?;
    base.present()?;
    Ok(())
}

/// A dot per series, then the thresholds on a row of their own, then the load's.
fn legend_entries(series: &[(&str, &[Sample])], spans: &[Span]) -> Vec<Entry> {
    let (shift, flip) = (axis::shift_ms(), axis::flip_ms());
    let mut entries: Vec<Entry> = series
        .iter()
        .enumerate()
        .map(|(i, (name, _))| Entry {
            key: Key::Dot(COLORS[i % COLORS.len()]),
            text: name.to_string(),
            new_row: false,
        })
        .collect();
    entries.extend([
        Entry {
            key: Key::Band(INAUDIBLE.mix(0.3)),
            text: format!("inaudible (within {shift} ms)"),
            new_row: true,
        },
        Entry {
            key: Key::Band(OUT_OF_TIME.mix(0.3)),
            text: format!("onset error {shift}-{flip} ms: heard out of time"),
            new_row: false,
        },
        Entry {
            key: Key::Line(WRONG_MELODY),
            text: format!("onset error past {flip} ms: a wrong melody"),
            new_row: false,
        },
    ]);
    if !spans.is_empty() {
        entries.extend([
            Entry {
                key: Key::Band(load::LOAD.mix(load::SHADE_ALPHA * 2.0)),
                text: "load step applied".into(),
                new_row: true,
            },
            Entry {
                key: Key::Dashed(load::ASKED),
                text: "load asked (MB/s)".into(),
                new_row: false,
            },
        ]);
        if spans.iter().any(|s| s.achieved_mb_s.is_some()) {
            entries.push(Entry {
                key: Key::Line(load::LOAD),
                text: "load achieved (MB/s)".into(),
                new_row: false,
            });
        }
    }
    entries
}

fn band_color(band: Band) -> RGBAColor {
    match band {
        Band::Inaudible => INAUDIBLE.mix(0.12),
        Band::OutOfTime => OUT_OF_TIME.mix(0.12),
    }
}

/// One panel on `area`, its y axis `y_spec` (linear or log, as `scale`).
fn panel<Y>(
    area: &DrawingArea<SVGBackend, Shift>,
    y_spec: Y,
    frame: &Frame,
    scale: Scale,
    kind: Kind,
    pick: fn(&Sample) -> Option<f64>,
) -> DrawResult<()>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let x_end = frame.x_end;
    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .margin_top(MARGIN + frame.strip_h)
        .x_label_area_size(34)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(0f64..x_end, y_spec)?;
    let log_tick = |v: &f64| axis::log_tick(*v);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc("song time (s)").y_desc(scale.describe(kind));
    if scale.is_log() {
        mesh.y_label_formatter(&log_tick);
    }
    mesh.draw()?;
    for (from, to, band) in scale.bands(kind) {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, from), (x_end, to)],
            band_color(band).filled(),
        )))?;
    }
    for y in scale.lines(kind) {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, y), (x_end, y)],
            WRONG_MELODY.stroke_width(1),
        )))?;
    }
    load::shade(area, &chart, frame, scale.range().0)?;
    draw_marks(area, &chart, frame, scale.range().0)?;
    for (i, (_, samples)) in frame.series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart.draw_series(samples.iter().filter_map(|s| {
            pick(s).map(|v| Circle::new((s.at_s, scale.place(v, kind)), 2, color.filled()))
        }))?;
    }
    Ok(())
}

/// Each mark's dashed line, from its label's row in the strip above the plot down to
/// the x axis, and its label beside it, in its series' colour; and each load span's
/// label at its start. They are drawn on the whole panel `area` in pixels: the plotting
/// area would clip them to itself. `bottom_y` is the y axis's lowest value.
fn draw_marks<Y: Ranged<ValueType = f64>>(
    area: &DrawingArea<SVGBackend, Shift>,
    chart: &ChartContext<SVGBackend, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    frame: &Frame,
    bottom_y: f64,
) -> DrawResult<()> {
    let screen = area.use_screen_coord();
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    for (m, &row) in frame.marks.iter().zip(&frame.rows) {
        let color = COLORS[m.series % COLORS.len()];
        let (x, _) = chart.backend_coord(&(m.at_s, bottom_y));
        let (start, _) = marks::label_span(f64::from(x - xs.start), &m.label, PLOT_W);
        let top = ys.start - frame.strip_h + row as i32 * marks::ROW_PX;
        screen.draw(&DashedPathElement::new(
            vec![(x, top), (x, ys.end)],
            6,
            4,
            color.stroke_width(1),
        ))?;
        screen.draw(&Text::new(
            m.label.clone(),
            (xs.start + start as i32, top),
            ("sans-serif", 12).into_font().color(&color),
        ))?;
    }
    for (s, &row) in frame.spans.iter().zip(&frame.span_rows) {
        let (x, _) = chart.backend_coord(&(s.start_s.clamp(0.0, frame.x_end), bottom_y));
        let (start, _) = marks::label_span(f64::from(x - xs.start), &s.label, PLOT_W);
        let top = ys.start - frame.strip_h + row as i32 * marks::ROW_PX;
        screen.draw(&Text::new(
            s.label.clone(),
            (xs.start + start as i32, top),
            ("sans-serif", 12).into_font().color(&load::LOAD),
        ))?;
    }
    Ok(())
}
