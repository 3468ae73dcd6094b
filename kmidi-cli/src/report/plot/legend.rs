//! The legend, in its own strip under the panels: drawn over a panel it hid the points
//! (a long `compare` side name made it as wide as half the plot).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::DrawResult;

/// Height of a row of entries, px.
const ROW_PX: i32 = 16;
/// Width of a character, px: an over-estimate, as for the event labels.
const CHAR_PX: f64 = 6.0;
/// The key (swatch, dot or line) and the gap after it, px.
const KEY_PX: f64 = 20.0;
/// Between two entries of a row, px.
const SPACING_PX: f64 = 24.0;

/// What an entry shows before its text.
pub enum Key {
    Band(RGBAColor),
    Line(RGBColor),
    /// A dashed line: too short for a dash pattern, so two dashes drawn apart.
    Dashed(RGBColor),
    Dot(RGBColor),
}

pub struct Entry {
    pub key: Key,
    pub text: String,
    /// Starts a row: the series and the thresholds each keep to their own rows.
    pub new_row: bool,
}

/// Each entry's row and x (px from the strip's left), flowing left to right, wrapping
/// at `width` and where an entry asks for a new row.
pub fn layout(entries: &[Entry], width: f64) -> Vec<(usize, f64)> {
    let (mut row, mut x) = (0, 0.0);
    entries
        .iter()
        .map(|e| {
            let w = KEY_PX + CHAR_PX * e.text.chars().count() as f64;
            if x > 0.0 && (e.new_row || x + w > width) {
                (row, x) = (row + 1, 0.0);
            }
            let at = (row, x);
            x += w + SPACING_PX;
            at
        })
        .collect()
}

/// The strip's height for a layout, px.
pub fn height(placed: &[(usize, f64)]) -> i32 {
    let rows = placed.iter().map(|(r, _)| r + 1).max().unwrap_or(0);
    rows as i32 * ROW_PX + 8
}

/// Draws the entries on `area`, starting `left` px in.
pub fn draw(
    area: &DrawingArea<SVGBackend, Shift>,
    entries: &[Entry],
    placed: &[(usize, f64)],
    left: i32,
) -> DrawResult<()> {
    for (e, &(row, x)) in entries.iter().zip(placed) {
        let x = left + x as i32;
        let y = 4 + row as i32 * ROW_PX + ROW_PX / 2;
        match e.key {
            Key::Band(color) => area.draw(&Rectangle::new(
                [(x, y - 5), (x + 12, y + 5)],
                color.filled(),
            ))?,
            Key::Line(color) => area.draw(&PathElement::new(
                vec![(x, y), (x + 12, y)],
                color.stroke_width(2),
            ))?,
            Key::Dashed(color) => {
                for x in [x, x + 8] {
                    area.draw(&PathElement::new(
                        vec![(x, y), (x + 4, y)],
                        color.stroke_width(2),
                    ))?;
                }
            }
            Key::Dot(color) => area.draw(&Circle::new((x + 6, y), 4, color.filled()))?,
        }
        let font =
            TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(e.text.clone(), (x + KEY_PX as i32, y), font))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str) -> Entry {
        Entry {
            key: Key::Dot(BLACK),
            text: text.to_string(),
            new_row: false,
        }
    }

    #[test]
    fn entries_wrap_when_a_row_is_full() {
        let entries = [entry("aaaaaaaaaa"), entry("bbbbbbbbbb"), entry("c")];
        // 80 px an entry, 24 between: two fit in 200, the third wraps.
        let placed = layout(&entries, 200.0);
        assert_eq!(placed, vec![(0, 0.0), (0, 104.0), (1, 0.0)]);
        assert_eq!(height(&placed), 2 * ROW_PX + 8);
        // An entry wider than the strip still gets a row of its own.
        let placed = layout(&[entry(&"x".repeat(100)), entry("y")], 200.0);
        assert_eq!(placed, vec![(0, 0.0), (1, 0.0)]);
        // A group's first entry starts a row, though there is room.
        let group = Entry {
            new_row: true,
            ..entry("c")
        };
        let placed = layout(&[entry("a"), group, entry("d")], 1000.0);
        assert_eq!(placed, vec![(0, 0.0), (1, 0.0), (1, 50.0)]);
    }
}
