//! The Kafka versions under test, spelled one way for the whole workspace:
//! `KMIDI_KAFKA_VERSIONS` (space-separated), as `scripts/test.sh`, `scripts/bench.sh` and
//! the plugins' C harnesses read it. A test binary asks for a major version (each test
//! file is about one: `kafka_3_9.rs`, `kafka_4.rs`) and gets the exact one to start.

/// What `KMIDI_KAFKA_VERSIONS` means when unset.
pub const DEFAULT_KAFKA_VERSIONS: &str = "3.9.2 4.3.1";

/// The entry of `KMIDI_KAFKA_VERSIONS` whose major version is `major` (`"3"`, `"4"`),
/// else the default's; panics if neither has one (a test asking for a version nobody
/// fetched could only fail later, less clearly).
pub fn kafka_version(major: &str) -> String {
    let listed = std::env::var("KMIDI_KAFKA_VERSIONS").unwrap_or_default();
    of_major(&listed, major)
        .or_else(|| of_major(DEFAULT_KAFKA_VERSIONS, major))
        .unwrap_or_else(|| {
            panic!(
                "no Kafka {major}.x in KMIDI_KAFKA_VERSIONS={listed:?} \
                 nor in the default {DEFAULT_KAFKA_VERSIONS:?}"
            )
        })
}

/// The first version in the space-separated `versions` whose major is `major`.
fn of_major(versions: &str, major: &str) -> Option<String> {
    versions
        .split_whitespace()
        .find(|v| v.split('.').next() == Some(major))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_of_the_asked_major_is_found_by_its_first_number() {
        assert_eq!(of_major("3.8.1 4.0.0", "4").as_deref(), Some("4.0.0"));
        assert_eq!(of_major("3.8.1 4.0.0", "3").as_deref(), Some("3.8.1"));
        // "3" is the major of 3.9.2, not a prefix match of 39.x.
        assert_eq!(of_major("39.0.0", "3"), None);
        assert_eq!(of_major("", "3"), None);
    }

    #[test]
    fn the_default_names_both_majors_under_test() {
        assert_eq!(
            of_major(DEFAULT_KAFKA_VERSIONS, "3").as_deref(),
            Some("3.9.2")
        );
        assert_eq!(
            of_major(DEFAULT_KAFKA_VERSIONS, "4").as_deref(),
            Some("4.3.1")
        );
    }
}
