//! Helpers shared by the integration tests that run `forge` as a child
//! process (included with `#[path] mod support;`).

use std::process::{Child, Output};
use std::time::{Duration, Instant};

/// Waits for `child` at most `limit`; after that kills it and fails the test
/// naming `what`, so a hang fails the test instead of stalling CI.
pub fn wait_or_kill(mut child: Child, limit: Duration, what: &str) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("output")
}
