//! Where the churn events' labels go: in a strip above each panel, side A's row(s)
//! first and side B's below, so that two sides' events at one time (the same `--churn`
//! applied to both) are not printed over each other, and a side's events close in time
//! are staggered down a row.

use super::Mark;

/// Height of a row of labels, px.
pub const ROW_PX: i32 = 14;
/// Width of a character of a label, px: an over-estimate for a 12-point sans-serif
/// (the SVG backend cannot measure text), so that labels judged apart are apart.
const CHAR_PX: f64 = 6.0;
/// Between a dashed line and its label, and between two labels of a row, px.
const GAP_PX: f64 = 4.0;

/// The horizontal extent of `label` for an event `x` px into a plot `plot_w` px wide:
/// right of its line, or left of it when it would run past the plot's right edge.
pub fn label_span(x: f64, label: &str, plot_w: f64) -> (f64, f64) {
    let width = CHAR_PX * label.chars().count() as f64;
    if x + GAP_PX + width > plot_w && x - GAP_PX - width >= 0.0 {
        (x - GAP_PX - width, x - GAP_PX)
    } else {
        (x + GAP_PX, x + GAP_PX + width)
    }
}

/// The row of each mark's label (0 at the top). Each side gets its own rows, in side
/// order, sized to its events: within a side, a label goes on the first row where it
/// clears the labels already there, else on a new row.
pub fn label_rows(marks: &[Mark], px_per_s: f64, plot_w: f64) -> Vec<usize> {
    let mut rows = vec![0; marks.len()];
    let mut sides: Vec<usize> = marks.iter().map(|m| m.series).collect();
    sides.sort_unstable();
    sides.dedup();
    let mut first_row = 0;
    for side in sides {
        let mut order: Vec<usize> = (0..marks.len())
            .filter(|&i| marks[i].series == side)
            .collect();
        order.sort_by(|&a, &b| marks[a].at_s.total_cmp(&marks[b].at_s));
        // The right end of the last label of each of this side's rows.
        let mut ends: Vec<f64> = Vec::new();
        for i in order {
            let (start, end) = label_span(marks[i].at_s * px_per_s, &marks[i].label, plot_w);
            let row = match ends.iter().position(|&e| e + GAP_PX <= start) {
                Some(row) => row,
                None => {
                    ends.push(f64::NEG_INFINITY);
                    ends.len() - 1
                }
            };
            ends[row] = end;
            rows[i] = first_row + row;
        }
        first_row += ends.len();
    }
    rows
}

/// How many rows `rows` takes.
pub fn row_count(rows: &[usize]) -> usize {
    rows.iter().max().map_or(0, |r| r + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(series: usize, at_s: f64, label: &str) -> Mark {
        Mark {
            series,
            at_s,
            label: label.to_string(),
        }
    }

    #[test]
    fn two_sides_at_one_time_get_different_rows() {
        let marks = [mark(0, 5.0, "A join@5s"), mark(1, 5.0, "B join@5s")];
        assert_eq!(label_rows(&marks, 30.0, 900.0), vec![0, 1]);
    }

    #[test]
    fn close_events_of_one_side_stagger() {
        let marks = [
            mark(0, 5.2, "A kill@5.2s"),
            mark(0, 5.0, "A join@5s"),
            mark(0, 5.1, "A leave@5.1s"),
        ];
        assert_eq!(label_rows(&marks, 30.0, 900.0), vec![2, 0, 1]);
    }

    #[test]
    fn apart_events_share_a_row_and_b_starts_below_a() {
        // As docs/rebalance.svg: the same churn on both sides, 6 s apart, 30 px a second.
        let marks = [
            mark(0, 5.0, "A join@5s"),
            mark(0, 11.0, "A leave@11s"),
            mark(0, 17.0, "A kill@17s"),
            mark(1, 5.0, "B join@5s"),
            mark(1, 11.0, "B leave@11s"),
            mark(1, 17.0, "B kill@17s"),
        ];
        let rows = label_rows(&marks, 30.0, 900.0);
        assert_eq!(rows, vec![0, 0, 0, 1, 1, 1]);
        assert_eq!(row_count(&rows), 2);
        // B alone still takes the top row.
        assert_eq!(label_rows(&marks[3..], 30.0, 900.0), vec![0, 0, 0]);
        assert_eq!(row_count(&[]), 0);
    }

    #[test]
    fn a_label_at_the_right_edge_goes_left_of_its_line() {
        let (start, end) = label_span(890.0, "A kill@29s", 900.0);
        assert!(end < 890.0 && start > 0.0);
        let (start, _) = label_span(100.0, "A kill@29s", 900.0);
        assert!(start > 100.0);
    }
}
