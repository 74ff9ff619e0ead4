//! (being written) channels, select, await helpers, wait.

use super::Builder;
use super::NativeCx;
use crate::error::{Ctrl, EvalResult};
use crate::value::Value;

/// `wait(s)` / `time.sleep(s)`: suspends the task for `s` seconds.
pub fn wait_native(_cx: &mut dyn NativeCx, _args: &mut [Value]) -> EvalResult {
    Err(Ctrl::runtime("wait is not available yet"))
}

pub fn register(_b: &mut Builder) {}
