//! Diagnostics: the error type of the front end and the one renderer used
//! for every user-facing error, syntax and runtime alike (FORGE.md §7.1):
//!
//! ```text
//! error: division by zero
//!   --> app.fg:4:13
//!   |
//! 4 | let ratio = total / count
//!   |             ^
//! ```
//!
//! Rendering is delegated to `codespan-reporting` in ASCII mode; this module
//! only maps Forge spans onto it.

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Chars, Config, DisplayStyle};

use super::span::{SourceMap, Span};

/// A syntax or static (resolution) error, reported before anything runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
}

impl SyntaxError {
    pub fn new(message: impl Into<String>, span: Span) -> SyntaxError {
        SyntaxError { message: message.into(), span }
    }
}

/// Renders `error: MESSAGE` with the source line and a caret under `span`,
/// followed by `notes` (for example `at f (app.fg:3:5)` call lines).
pub fn render(sources: &SourceMap, message: &str, span: Option<Span>, notes: &[String]) -> String {
    let Some(span) = span else {
        let mut out = format!("error: {message}\n");
        for note in notes {
            out.push_str(&format!("  {note}\n"));
        }
        return out;
    };
    let mut files = SimpleFiles::new();
    let mut ids = Vec::new();
    for file in sources.all() {
        ids.push(files.add(file.name.clone(), file.text.clone()));
    }
    let Some(&file_id) = ids.get(span.file.0 as usize) else {
        return format!("error: {message}\n");
    };
    let len = files.get(file_id).map(|f| f.source().len()).unwrap_or(0);
    let start = (span.start as usize).min(len);
    // A caret under the first character of the span: the error's column.
    let end = (start + 1).min(len).max(start);
    let diagnostic = Diagnostic::error()
        .with_message(message)
        .with_labels(vec![Label::primary(file_id, start..end)])
        .with_notes(notes.to_vec());
    let config = Config { display_style: DisplayStyle::Rich, chars: Chars::ascii(), ..Config::default() };
    match term::emit_into_string(&config, &files, &diagnostic) {
        Ok(text) => text,
        Err(_) => format!("error: {message}\n --> {}\n", sources.location(span)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_and_caret() {
        let map = SourceMap::new();
        let id = map.add("app.fg".into(), "let a = 1\nlet r = a / 0\n".into());
        let out = render(&map, "division by zero", Some(Span::new(id, 18, 23)), &[]);
        assert!(out.starts_with("error: division by zero\n"), "{out}");
        assert!(out.contains("app.fg:2:9"), "{out}");
        assert!(out.contains("let r = a / 0"), "{out}");
        assert!(out.contains('^'), "{out}");
    }
}
