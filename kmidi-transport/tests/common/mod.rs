//! What the tests that load the real testkit plugin share: where cargo put its `.so`.

use std::path::PathBuf;

/// The testkit `.so` cargo built for this test run (a dev-dependency of this crate):
/// next to the test binary in `deps/`, or uplifted one level up by a workspace build.
pub fn testkit_so() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe path");
    let deps = exe.parent().expect("deps dir").to_path_buf();
    let mut candidates: Vec<PathBuf> = [deps.clone(), deps.join("..")]
        .iter()
        .map(|d| d.join("libkmidi_plugin_testkit.so"))
        .filter(|p| p.exists())
        .collect();
    candidates.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    candidates.pop().expect(
        "libkmidi_plugin_testkit.so next to the test binary (cargo builds it as a dev-dependency)",
    )
}
