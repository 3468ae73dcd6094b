//! Terminal output while a command runs and when it ends: the player's progress bar
//! (`progress`), the instrument's live status line (`status`), and the end-of-run
//! summary lines (`summary`). The engines hand figures; only this module and `report`
//! turn them into text. Everything goes to stderr, so stdout stays for data.

pub mod progress;
pub mod status;
pub mod summary;
