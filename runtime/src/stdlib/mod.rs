//! The standard-library modules (FORGE.md §10): global objects whose
//! members are natives (`math.sqrt`) or constants (`math.pi`).
//!
//! | file | module |
//! |---|---|
//! | `math.rs` | `math` |
//! | `json.rs` | `json` |
//! | `fs.rs` | `fs` |
//! | `io.rs` | `io`, `env`, `log` |
//! | `time.rs` | `time` |
//! | `regex.rs` | `regex` |
//! | `csv.rs` | `csv` |
//! | `crypto.rs` | `crypto` |

pub mod io;

use crate::builtins::Builder;

/// Names `import NAME` accepts as built-in modules.
pub const MODULES: &[&str] = &["math", "json", "fs", "io", "env", "log", "time", "regex", "csv", "crypto"];

pub fn is_module_name(name: &str) -> bool {
    MODULES.contains(&name)
}

pub fn register(_b: &mut Builder) {}
