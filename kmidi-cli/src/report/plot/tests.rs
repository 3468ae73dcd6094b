//! A real SVG, drawn to a file: the decisions of `axis`, `marks` and `legend` show in
//! it (the pixels themselves are plotters' business).

use kmidi_engine::measure::Sample;

use super::{draw, Mark};

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
