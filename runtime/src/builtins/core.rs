//! (being written) output, conversions, len, typeof, assertions, exit.

use super::Builder;
use crate::value::display::write_display;
use crate::value::Value;

/// Writes the display forms of `args` separated by spaces (and a newline),
/// as one atomic output call.
pub fn print_values(args: &[Value], newline: bool) {
    let mut line = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        write_display(&mut line, a);
    }
    if newline {
        line.push('\n');
    }
    crate::output::write(&line);
}

pub fn register(_b: &mut Builder) {}
