//! A real SVG, drawn to a file: the decisions of `axis`, `marks` and `legend` show in
//! it (the pixels themselves are plotters' business).

use kmidi_engine::measure::Sample;

use super::load::{self, step_line};
use super::{draw, draw_with_load, Mark, Span};

fn samples(values: &[(f64, f64)]) -> Vec<Sample> {
    values
        .iter()
        .enumerate()
        .map(|(seq, &(at_s, ms))| {
            let mut s = Sample::heard(seq as u64, 0, at_s, 0.0);
            s.latency_ms = Some(ms);
            s.onset_ms = -ms;
            s
        })
        .collect()
}

/// The y of the `<text>` element holding `text`, and its fill.
fn text_at(svg: &str, text: &str) -> Option<(f64, String)> {
    let end = svg.find(&format!(">\n{text}\n</text>"))?;
    let start = svg[..end].rfind("<text")?;
    let attr = |name: &str| {
        let tag = &svg[start..end];
        let from = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let to = from + tag[from..].find('"')?;
        Some(tag[from..to].to_string())
    };
    Some((attr("y")?.parse().ok()?, attr("fill")?))
}

#[test]
fn both_sides_labels_at_one_time_are_drawn_apart_and_the_legend_under_the_data() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("plot.svg");
    // A spread of orders of magnitude (log axes), a zero and a negative latency
    // (clamped), and the same churn event on both sides.
    let a = samples(&[(0.0, 0.0), (1.0, 0.4), (5.5, 2500.0), (9.0, -1.0)]);
    let b = samples(&[(0.5, 1.2), (6.0, 300.0), (10.0, 3.0)]);
    let series: Vec<(&str, &[Sample])> = vec![("A (one)", &a), ("B (two)", &b)];
    let marks = vec![
        Mark {
            series: 0,
            at_s: 5.0,
            label: "A join@5s".into(),
        },
        Mark {
            series: 1,
            at_s: 5.0,
            label: "B join@5s".into(),
        },
    ];
    draw(&path, "test", &series, &marks).expect("the plot is drawn");
    let svg = std::fs::read_to_string(&path).expect("the plot is written");

    let (a_y, a_fill) = text_at(&svg, "A join@5s").expect("A's label");
    let (b_y, b_fill) = text_at(&svg, "B join@5s").expect("B's label");
    assert!(a_y < b_y, "A's label ({a_y}) above B's ({b_y})");
    assert_eq!(a_fill, "#1F77B4");
    assert_eq!(b_fill, "#D62728");

    assert!(svg.contains("end-to-end latency (ms, log)"));
    assert!(svg.contains("|onset error| vs the score (ms, log)"));
    // Every point is drawn (the zero and the negative latency clamped, not dropped).
    assert_eq!(
        svg.matches("<circle").count(),
        2 * 7 + 2,
        "7 points a panel, 2 keys"
    );

    // The legend's entries lie below every point.
    let lowest_point = svg
        .split("<circle")
        .skip(1)
        .filter(|c| c.contains(" r=\"2\""))
        .filter_map(|c| {
            let from = c.find(" cy=\"")? + 5;
            c[from..from + c[from..].find('"')?].parse::<f64>().ok()
        })
        .fold(0.0f64, f64::max);
    let (legend_y, _) = text_at(&svg, "A (one)").expect("A in the legend");
    assert!(
        legend_y >= lowest_point,
        "legend {legend_y} under {lowest_point}"
    );
}

#[test]
fn an_empty_run_and_a_late_event_still_draw() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("empty.svg");
    draw(&path, "empty", &[], &[]).expect("an empty plot is drawn");
    let none: Vec<Sample> = Vec::new();
    let one = samples(&[(1.0, 2.0)]);
    let series: Vec<(&str, &[Sample])> = vec![("notes", &one), ("B", &none)];
    let late = [Mark {
        series: 1,
        at_s: 40.0,
        label: "B kill@40s".into(),
    }];
    draw(&path, "late", &series, &late).expect("the plot is drawn");
    let svg = std::fs::read_to_string(&path).expect("the plot is written");
    let (y, _) = text_at(&svg, "B kill@40s").expect("the late event's label");
    assert!(y > 0.0);
    assert!(svg.contains("end-to-end latency (ms)"), "one value: linear");
}

fn span(start_s: f64, end_s: Option<f64>, label: &str, asked: f64, got: Option<f64>) -> Span {
    Span {
        start_s,
        end_s,
        label: label.into(),
        asked_mb_s: asked,
        achieved_mb_s: got,
    }
}

/// The `<rect>`s filled with the load's shading.
fn shaded_rects(svg: &str) -> usize {
    svg.split("<rect")
        .skip(1)
        .filter(|r| r.contains("fill=\"#9467BD\"") && r.contains("opacity=\"0.12\""))
        .count()
}

#[test]
fn load_steps_are_shaded_labelled_apart_and_drawn_on_their_own_axis() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("load.svg");
    let a = samples(&[(0.5, 1.0), (3.0, 4.0), (9.0, 2.0)]);
    let series: Vec<(&str, &[Sample])> = vec![("notes", &a)];
    let churn = [Mark {
        series: 0,
        at_s: 2.0,
        label: "A join@2s".into(),
    }];
    // Two ramp levels back to back (their labels would overlap on one row) and a step
    // still running when the song ended.
    let spans = [
        span(2.0, Some(2.4), "L1 1MB/s", 1.0, Some(0.9)),
        span(2.4, Some(2.8), "L2 2MB/s", 2.0, Some(1.5)),
        span(8.0, None, "load@8s:rate=500KB/s", 0.5, None),
    ];
    draw_with_load(&path, "load", &series, &churn, &spans).expect("the plot is drawn");
    let svg = std::fs::read_to_string(&path).expect("the plot is written");

    // Each span shaded on each of the three panels.
    assert_eq!(shaded_rects(&svg), 3 * 3);
    assert!(
        svg.contains(">\nload (MB/s)\n</text>"),
        "the load axis caption"
    );
    // The labels, once a panel each, in the load's colour, on rows below the churn's.
    assert_eq!(svg.matches(">\nL1 1MB/s\n</text>").count(), 3);
    let (churn_y, _) = text_at(&svg, "A join@2s").expect("the churn label");
    let (l1_y, fill) = text_at(&svg, "L1 1MB/s").expect("L1's label");
    let (l2_y, _) = text_at(&svg, "L2 2MB/s").expect("L2's label");
    let (l3_y, _) = text_at(&svg, "load@8s:rate=500KB/s").expect("the third label");
    assert_eq!(fill, "#9467BD");
    assert!(churn_y < l1_y, "churn {churn_y} above the load {l1_y}");
    assert!(l1_y < l2_y, "L2 ({l2_y}) staggered below L1 ({l1_y})");
    assert_eq!(l1_y, l3_y, "apart labels share a row");
    // The legend has the load's entries.
    for entry in [
        "load step applied",
        "load asked (MB/s)",
        "load achieved (MB/s)",
    ] {
        assert!(text_at(&svg, entry).is_some(), "legend entry {entry}");
    }
    // The asked line is dashed: many short segments in its colour.
    assert!(svg.matches("stroke=\"#5A5A5A\"").count() > 10);
}

#[test]
fn no_load_draws_no_load_panel() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (plain, empty) = (dir.path().join("a.svg"), dir.path().join("b.svg"));
    let a = samples(&[(0.5, 1.0), (3.0, 4.0)]);
    let series: Vec<(&str, &[Sample])> = vec![("notes", &a)];
    draw(&plain, "t", &series, &[]).expect("drawn");
    draw_with_load(&empty, "t", &series, &[], &[]).expect("drawn");
    let plain = std::fs::read_to_string(&plain).expect("written");
    assert_eq!(plain, std::fs::read_to_string(&empty).expect("written"));
    assert!(!plain.contains("load (MB/s)"));
    assert_eq!(shaded_rects(&plain), 0);
}

#[test]
fn the_load_line_adds_overlapping_steps_and_is_zero_between() {
    let spans = [
        span(1.0, Some(3.0), "a", 1.0, Some(0.5)),
        span(2.0, Some(4.0), "b", 2.0, None),
        span(6.0, None, "c", 4.0, Some(4.0)),
    ];
    let asked = step_line(&spans, |s| Some(s.asked_mb_s), 10.0);
    let at = |line: &[(f64, f64)], t: f64| {
        line.windows(2)
            .find(|w| w[0].0 <= t && t < w[1].0 && w[0].1 == w[1].1)
            .map(|w| w[0].1)
    };
    assert_eq!(at(&asked, 0.5), Some(0.0));
    assert_eq!(at(&asked, 1.5), Some(1.0));
    assert_eq!(at(&asked, 2.5), Some(3.0));
    assert_eq!(at(&asked, 3.5), Some(2.0));
    assert_eq!(at(&asked, 5.0), Some(0.0));
    assert_eq!(at(&asked, 9.0), Some(4.0), "running to the end");
    assert_eq!(asked.last(), Some(&(10.0, 4.0)));
    let achieved = step_line(&spans, |s| s.achieved_mb_s, 10.0);
    assert_eq!(
        at(&achieved, 2.5),
        Some(0.5),
        "nothing reported adds nothing"
    );
    assert!((load::y_top(&spans, 10.0) - 4.0 * 1.15).abs() < 1e-9);
    assert_eq!(load::y_top(&[], 10.0), 1.0);
}
