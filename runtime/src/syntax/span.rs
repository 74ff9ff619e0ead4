//! Source positions: a `Span` is a byte range in one source file; the
//! `SourceMap` owns every loaded file's text and turns spans into
//! `file:line:col` for diagnostics.
//!
//! Spans are plain data (12 bytes) so every AST node can carry one cheaply.

use std::sync::Arc;

/// Index of a file in the `SourceMap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range `[start, end)` in one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span { file, start: start as u32, end: end as u32 }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// One loaded source file.
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: String, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile { name, text, line_starts }
    }

    /// 1-based line and column (column counted in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = self.text.get(start..offset).map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }
}

/// Every file of one program (the main file and its imports). Shared by all
/// tasks; files are only ever added, never changed.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: parking_lot::RwLock<Vec<Arc<SourceFile>>>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&self, name: String, text: String) -> FileId {
        let mut files = self.files.write();
        files.push(Arc::new(SourceFile::new(name, text)));
        FileId((files.len() - 1) as u32)
    }

    pub fn get(&self, id: FileId) -> Arc<SourceFile> {
        self.files.read()[id.0 as usize].clone()
    }

    pub fn all(&self) -> Vec<Arc<SourceFile>> {
        self.files.read().clone()
    }

    /// `name:line:col` of a span's start.
    pub fn location(&self, span: Span) -> String {
        let file = self.get(span.file);
        let (line, col) = file.line_col(span.start as usize);
        format!("{}:{}:{}", file.name, line, col)
    }

    /// A span's start as a wait site, described only if a report needs it.
    pub fn site(&'static self, span: Span) -> scheduler::Site {
        scheduler::Site::new(self, (span.file.0 as u64) << 32 | span.start as u64)
    }
}

impl scheduler::SiteNames for SourceMap {
    fn describe(&self, pos: u64) -> String {
        let start = pos as u32;
        self.location(Span { file: FileId((pos >> 32) as u32), start, end: start })
    }
}
