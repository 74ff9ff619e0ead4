//! Loading a program: read the main file, parse and resolve it and every
//! file it imports, and keep the result for the rest of the process.
//!
//! A loaded `Program` is leaked on purpose: the AST must outlive every task
//! and every closure that points into it, and a program runs until the
//! process ends. Code may therefore hold `&'static FnDef` freely.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::syntax::ast::{GlobalInfo, Module};
use crate::syntax::diagnostic::{render, SyntaxError};
use crate::syntax::parser::parse;
use crate::syntax::resolve::{resolve, ModuleLoader};
use crate::syntax::span::{SourceMap, Span};

pub struct Program {
    pub sources: Arc<SourceMap>,
    pub main: Arc<Module>,
    /// Every global slot of every module.
    pub globals: Vec<GlobalInfo>,
    /// Arguments after the script path (`io.args()`).
    pub args: Vec<String>,
}

/// Why a program could not be loaded; `render` gives the report.
pub struct LoadFailure {
    pub sources: Arc<SourceMap>,
    pub errors: Vec<SyntaxError>,
    /// An error reading the main file (no source location).
    pub io: Option<String>,
}

impl LoadFailure {
    pub fn render(&self) -> String {
        if let Some(io) = &self.io {
            return format!("error: {io}\n");
        }
        self.errors.iter().map(|e| render(&self.sources, &e.message, Some(e.span), &[])).collect::<Vec<_>>().join("\n")
    }
}

/// Reads a source file; invalid UTF-8 is an error naming the first bad byte.
fn read_source(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "cannot read {}: the file is not valid UTF-8 (first bad byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// Loads the program in `path`.
pub fn load_file(path: &str, args: Vec<String>) -> Result<&'static Program, LoadFailure> {
    let sources = Arc::new(SourceMap::new());
    let text = read_source(Path::new(path)).map_err(|io| LoadFailure {
        sources: sources.clone(),
        errors: Vec::new(),
        io: Some(io),
    })?;
    load_source(path, text, args, sources)
}

/// Loads a program from text (`path` names it in messages and anchors imports).
pub fn load_source(
    path: &str,
    text: String,
    args: Vec<String>,
    sources: Arc<SourceMap>,
) -> Result<&'static Program, LoadFailure> {
    let mut loader = FileLoader { sources: sources.clone(), loading: Vec::new(), cache: HashMap::new() };
    let mut globals = Vec::new();
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path));
    loader.loading.push(canonical);
    let module = loader.parse_and_resolve(path, text, &mut globals);
    loader.loading.pop();
    match module {
        Ok(main) => Ok(Box::leak(Box::new(Program { sources, main: Arc::new(main), globals, args }))),
        Err(errors) => Err(LoadFailure { sources, errors, io: None }),
    }
}

struct FileLoader {
    sources: Arc<SourceMap>,
    /// Files being loaded, outermost first (cycle detection).
    loading: Vec<PathBuf>,
    cache: HashMap<PathBuf, Arc<Module>>,
}

impl FileLoader {
    fn parse_and_resolve(
        &mut self,
        name: &str,
        text: String,
        globals: &mut Vec<GlobalInfo>,
    ) -> Result<Module, Vec<SyntaxError>> {
        let len = text.len();
        let file = self.sources.add(name.to_string(), text);
        let source = self.sources.get(file);
        let (block, errors) = parse(&source.text, file);
        if !errors.is_empty() {
            return Err(errors);
        }
        let span = Span::new(file, 0, len);
        resolve(block, span, name, crate::builtins::lookup, self, globals)
    }

    fn find(from: &str, path: &str) -> Option<PathBuf> {
        let base = Path::new(from).parent().unwrap_or(Path::new("."));
        let direct = base.join(path);
        let candidates =
            [direct.clone(), direct.with_extension("fg"), base.join("forge_modules").join(path).join("main.fg")];
        candidates.into_iter().find(|p| p.is_file())
    }
}

impl ModuleLoader for FileLoader {
    fn load(
        &mut self,
        from: &str,
        path: &str,
        span: Span,
        globals: &mut Vec<GlobalInfo>,
    ) -> Result<Option<Arc<Module>>, SyntaxError> {
        let found = Self::find(from, path)
            .ok_or_else(|| SyntaxError::new(format!("cannot import '{path}': file not found"), span))?;
        let canonical = std::fs::canonicalize(&found).unwrap_or_else(|_| found.clone());
        if self.loading.contains(&canonical) {
            return Ok(None);
        }
        if let Some(m) = self.cache.get(&canonical) {
            return Ok(Some(m.clone()));
        }
        let text = read_source(&found).map_err(|e| SyntaxError::new(format!("cannot import '{path}': {e}"), span))?;
        self.loading.push(canonical.clone());
        let module = self.parse_and_resolve(&found.to_string_lossy(), text, globals);
        self.loading.pop();
        match module {
            Ok(m) => {
                let m = Arc::new(m);
                self.cache.insert(canonical, m.clone());
                Ok(Some(m))
            }
            Err(mut errors) => {
                let first = errors.remove(0);
                Err(SyntaxError::new(format!("in imported file '{path}': {}", first.message), first.span))
            }
        }
    }
}
