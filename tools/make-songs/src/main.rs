//! Regenerates the songs kmidi ships: `cargo run -p kmidi-make-songs -- songs/`.
//! The music itself lives in this crate's library, so its tests can check the committed
//! files against it.

use std::error::Error;
use std::path::PathBuf;

use kmidi_midi::score::Score;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "songs".to_owned()),
    );
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    let written = kmidi_make_songs::write_all(&dir)
        .map_err(|e| format!("{}: cannot write songs: {e}", dir.display()))?;
    for path in written {
        // Loading back what was written proves the player will accept it.
        let score = Score::load(&path)?;
        println!(
            "{}: {} events, {:.2} s",
            path.display(),
            score.events.len(),
            score.duration().as_secs_f64()
        );
    }
    Ok(())
}
