//! The player's progress bar: where it is in the song, and how many notes it sent.

use std::sync::atomic::Ordering;

use indicatif::{ProgressBar, ProgressStyle};
use kmidi_engine::perform::Progress;

/// A bar for the player, hidden when `quiet`.
pub fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(1);
    bar.set_style(
        ProgressStyle::with_template("{msg:24!} [{bar:40}] {prefix} ")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// Redraws `bar` from the scheduler's progress.
pub fn update_bar(bar: &ProgressBar, progress: &Progress) {
    let pos = progress.position_ms.load(Ordering::Relaxed);
    let len = progress.length_ms.load(Ordering::Relaxed).max(1);
    bar.set_length(len);
    bar.set_position(pos.min(len));
    bar.set_prefix(format!(
        "{} / {}  {} sent",
        clock(pos),
        clock(len),
        progress.sent.load(Ordering::Relaxed)
    ));
    if let Ok(song) = progress.song.lock() {
        bar.set_message(song.clone());
    }
}

fn clock(ms: u64) -> String {
    format!("{}:{:02}", ms / 60_000, (ms / 1000) % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_reads_minutes_and_seconds() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(61_999), "1:01");
    }
}
