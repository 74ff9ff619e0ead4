//! Placeholder until the stdlib branch lands: stdin line reading.

/// Writes `prompt`, reads one line from stdin without its line ending.
pub fn read_line(prompt: Option<&str>) -> String {
    if let Some(p) = prompt {
        crate::output::write(p);
    }
    crate::output::flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    line
}
