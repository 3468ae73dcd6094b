//! Names unique to one run: a run id for the notes a player sends, and suffixes for the
//! topics and groups a command makes for itself.

/// Eight hex digits, random per call.
pub fn new_run_id() -> String {
    format!("{:08x}", rand::random::<u32>())
}
