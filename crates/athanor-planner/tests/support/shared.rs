//! Where the project's shared reference data lives (`../shared/data` beside the checkout), and
//! what a test does when it is absent: skip with a message on a developer's machine, fail in CI
//! (where `ATHANOR_REQUIRE_SHARED_DATA` is set), so that no check silently stops running.

use std::path::PathBuf;

/// The shared data directory, or `None` (after saying so) when it is absent and not required.
pub fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("../shared/data"))
        .find(|d| d.is_dir());
    match dir {
        Some(d) => Some(d),
        None if std::env::var_os("ATHANOR_REQUIRE_SHARED_DATA").is_some() => {
            panic!("{test}: ../shared/data is required (ATHANOR_REQUIRE_SHARED_DATA is set) but not found")
        }
        None => {
            eprintln!("{test}: skipped, ../shared/data not found beside the checkout");
            None
        }
    }
}
