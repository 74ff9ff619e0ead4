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

pub mod crypto;
pub mod csv;
pub mod fs;
pub mod io;
pub mod json;
pub mod math;
pub mod regex;
pub mod time;

pub use self::io::read_line;
pub use self::json::{from_json_str, to_json_compact, to_json_pretty};

use crate::builtins::Builder;

/// Names `import NAME` accepts as built-in modules.
pub const MODULES: &[&str] = &["math", "json", "fs", "io", "env", "log", "time", "regex", "csv", "crypto"];

pub fn is_module_name(name: &str) -> bool {
    MODULES.contains(&name)
}

/// Adds every standard-library module to the registry.
pub fn register(b: &mut Builder) {
    self::math::register(b);
    self::json::register(b);
    self::fs::register(b);
    self::io::register(b);
    self::time::register(b);
    self::regex::register(b);
    self::csv::register(b);
    self::crypto::register(b);
}
