//! The instrument's live status line, redrawn by its own thread from the figures the
//! listening loop leaves in [`Live`], so drawing never delays a note; and the one
//! warning a listener needs while nothing arrives: its group gave it no partition.

use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use kmidi_engine::listen::{Live, LiveFigures};

/// How long a consumer that reports its assignment may hold no partition, having heard
/// nothing, before the instrument says why it is silent.
pub const UNASSIGNED_AFTER: Duration = Duration::from_secs(5);

/// What the status thread says about the group while nothing is assigned.
pub struct GroupWatch {
    pub group: String,
    pub topic: String,
    pub partitions: i32,
}

/// A spinner line redrawn by its own thread (hidden when `quiet`); the thread also
/// warns, once, when `watch` is given and the group leaves this instrument without a
/// partition for [`UNASSIGNED_AFTER`].
pub fn status_line(quiet: bool, live: Arc<Live>, watch: Option<GroupWatch>) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    };
    let b = bar.clone();
    std::thread::spawn(move || {
        let mut warned = false;
        while !b.is_finished() {
            let figures = live.snapshot();
            b.set_message(match &figures {
                Some(f) if f.played > 0 || f.bad > 0 => line(f),
                _ => "waiting for notes...".to_string(),
            });
            if let (Some(w), Some(f), false) = (&watch, &figures, warned) {
                if unassigned(f) {
                    warned = true;
                    b.suspend(|| eprintln!("warning: {}", unassigned_warning(w)));
                }
            }
            b.tick();
            std::thread::sleep(Duration::from_millis(250));
        }
    });
    bar
}

/// Whether the figures show a member its group has left without a partition.
fn unassigned(f: &LiveFigures) -> bool {
    f.assigned == Some(0) && f.played == 0 && f.bad == 0 && f.listening >= UNASSIGNED_AFTER
}

fn unassigned_warning(w: &GroupWatch) -> String {
    format!(
        "no partition of {} has been assigned to this instrument in group {} after {} s: \
         the group's {} partition(s) appear to be held by other members (another instrument, or a \
         stale one, in group {}?). To listen alongside them, give this instrument a group \
         of its own with -g GROUP; otherwise stop the other member",
        w.topic,
        w.group,
        UNASSIGNED_AFTER.as_secs(),
        w.partitions,
        w.group
    )
}

/// `tempo 99.8%  latency p50 1.2 ms p99 3.4 ms  late 0  lost 0  ...`
pub fn line(f: &LiveFigures) -> String {
    let tempo = f.tempo.map_or("tempo –".to_string(), |t| {
        format!("tempo {:5.1}%", t * 100.0)
    });
    let latency = match (f.latency_p50_us, f.latency_p99_us) {
        (Some(p50), Some(p99)) => format!(
            "latency p50 {:.1} ms p99 {:.1} ms",
            p50 as f64 / 1000.0,
            p99 as f64 / 1000.0
        ),
        _ => "latency –".to_string(),
    };
    format!(
        "{tempo}  {latency}  late {}  lost {}  reordered {}  bad {}  played {}",
        f.late, f.lost, f.reordered, f.bad, f.played
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures() -> LiveFigures {
        LiveFigures {
            assigned: Some(0),
            listening: Duration::from_secs(6),
            ..LiveFigures::default()
        }
    }

    #[test]
    fn the_line_shows_figures_and_dashes_for_what_is_unmeasured() {
        let f = LiveFigures {
            tempo: Some(0.98),
            latency_p50_us: Some(1_200),
            latency_p99_us: Some(3_400),
            played: 7,
            ..LiveFigures::default()
        };
        assert_eq!(
            line(&f),
            "tempo  98.0%  latency p50 1.2 ms p99 3.4 ms  late 0  lost 0  reordered 0  bad 0  \
             played 7"
        );
        assert!(line(&LiveFigures::default()).starts_with("tempo –  latency –"));
    }

    #[test]
    fn a_member_without_partitions_is_warned_about_only_after_a_while_and_silence() {
        assert!(unassigned(&figures()));
        let early = LiveFigures {
            listening: Duration::from_secs(2),
            ..figures()
        };
        assert!(!unassigned(&early));
        let heard = LiveFigures {
            played: 1,
            ..figures()
        };
        assert!(!unassigned(&heard));
        let unknown = LiveFigures {
            assigned: None,
            ..figures()
        };
        assert!(
            !unassigned(&unknown),
            "a library that does not say is not warned about"
        );
        let w = GroupWatch {
            group: "kmidi".into(),
            topic: "midi_notes".into(),
            partitions: 1,
        };
        let text = unassigned_warning(&w);
        assert!(
            text.contains("group kmidi") && text.contains("-g GROUP"),
            "{text}"
        );
    }
}
