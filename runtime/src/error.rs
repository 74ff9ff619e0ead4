//! Runtime errors and the non-local control flow that travels with them.
//!
//! `Ctrl` is the `Err` side of every evaluation step: a Forge error, or a
//! `return`/`break`/`continue` unwinding to its target, or a cancellation
//! (a `squad` sibling failed) that no `try` may catch.

use super::syntax::span::Span;

/// The `type` of a caught error object (FORGE.md §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Reference,
    Runtime,
    Index,
    Arithmetic,
    Assertion,
}

impl ErrorKind {
    pub fn type_name(self) -> &'static str {
        match self {
            ErrorKind::Reference => "ReferenceError",
            ErrorKind::Runtime => "RuntimeError",
            ErrorKind::Index => "IndexError",
            ErrorKind::Arithmetic => "ArithmeticError",
            ErrorKind::Assertion => "AssertionError",
        }
    }
}

/// A Forge runtime error: message, kind and (once known) where it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct ForgeError {
    pub kind: ErrorKind,
    pub message: String,
    pub span: Option<Span>,
    /// The calls that were active (function name, call site), innermost
    /// first; at most `MAX_TRACE` entries.
    pub trace: Vec<(arcstr::ArcStr, Span)>,
    /// For `task failed: …`: the awaited task that failed and where its
    /// error happened, then the task that one awaited if it failed the same
    /// way, and so on (at most `MAX_TRACE` entries). Reports print one line
    /// per entry, so the root cause has a location even though the error is
    /// raised at the `await`.
    pub failed_tasks: Vec<(scheduler::TaskId, Option<Span>)>,
}

/// Call lines kept in an error report.
pub const MAX_TRACE: usize = 8;

impl ForgeError {
    /// The error a task ends with when the runtime itself panicked in it:
    /// `internal error: MESSAGE` (a bug, reported instead of a crash).
    pub fn internal(what: impl std::fmt::Display) -> ForgeError {
        ForgeError::new(ErrorKind::Runtime, format!("internal error: {what}"))
    }

    /// `internal` for the payload of a caught panic.
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> ForgeError {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        ForgeError::internal(what)
    }

    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ForgeError {
        ForgeError { kind, message: message.into(), span: None, trace: Vec::new(), failed_tasks: Vec::new() }
    }

    /// The error raised in a task that awaits task `id`, which failed with
    /// `cause` (FORGE.md §7.2: `task failed: MSG`).
    pub fn task_failed(id: scheduler::TaskId, cause: &ForgeError) -> ForgeError {
        let mut e = ForgeError::new(ErrorKind::Runtime, format!("task failed: {}", cause.message));
        e.failed_tasks.push((id, cause.span));
        e.failed_tasks.extend(cause.failed_tasks.iter().take(MAX_TRACE - 1).copied());
        e
    }
}

impl std::fmt::Display for ForgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Why evaluation stopped early.
#[derive(Debug)]
pub enum Unwind {
    Error(ForgeError),
    /// `return` (or `?` on an `Err`) escaping from inside an expression.
    Return(crate::value::Value),
    Break,
    Continue,
    /// The task was cancelled (a `squad` sibling failed): unwinds to the task
    /// boundary; `try` and `safe` let it pass.
    Cancelled,
    /// The VM tier asks to be resumed later, and says why the task waits
    /// (never seen by the interpreter).
    Blocked(scheduler::WaitReason),
}

/// The `Err` side of every evaluation step. A single pointer, so that
/// `Result<Value, Ctrl>` is two words and comes back in registers; the
/// common control flow of statements (`return`, `break`) travels as
/// `interp::Flow` instead and never allocates.
#[derive(Debug)]
pub struct Ctrl(pub Box<Unwind>);

pub type EvalResult<T = crate::value::Value> = Result<T, Ctrl>;

impl Ctrl {
    pub fn new(u: Unwind) -> Ctrl {
        Ctrl(Box::new(u))
    }

    pub fn error(kind: ErrorKind, message: impl Into<String>) -> Ctrl {
        Ctrl::new(Unwind::Error(ForgeError::new(kind, message)))
    }

    pub fn runtime(message: impl Into<String>) -> Ctrl {
        Ctrl::error(ErrorKind::Runtime, message)
    }

    pub fn cancelled() -> Ctrl {
        Ctrl::new(Unwind::Cancelled)
    }

    pub fn from_error(e: ForgeError) -> Ctrl {
        Ctrl::new(Unwind::Error(e))
    }

    pub fn is_error(&self) -> bool {
        matches!(*self.0, Unwind::Error(_))
    }

    /// Whether this only asks to suspend the task (the VM tier).
    pub fn is_blocked(&self) -> bool {
        matches!(*self.0, Unwind::Blocked(_))
    }

    /// `Ok(why)` when this only asks to suspend the task; itself otherwise.
    pub fn into_wait(self) -> Result<scheduler::WaitReason, Ctrl> {
        if !self.is_blocked() {
            return Err(self);
        }
        match *self.0 {
            Unwind::Blocked(why) => Ok(why),
            _ => unreachable!("checked above"),
        }
    }

    pub fn as_error(&self) -> Option<&ForgeError> {
        match &*self.0 {
            Unwind::Error(e) => Some(e),
            _ => None,
        }
    }

    /// Attaches a location to an error that has none yet.
    pub fn at(mut self, span: Span) -> Ctrl {
        if let Unwind::Error(e) = &mut *self.0 {
            if e.span.is_none() {
                e.span = Some(span);
            }
        }
        self
    }
}

/// Shorthands for the messages of FORGE.md §7.2, so every tier words them
/// the same way.
pub mod msg {
    use super::{Ctrl, ErrorKind};

    pub fn undefined(name: &str) -> Ctrl {
        Ctrl::error(ErrorKind::Reference, format!("undefined variable: {name}"))
    }
    pub fn immutable(name: &str) -> Ctrl {
        Ctrl::runtime(format!("cannot assign to immutable variable '{name}'"))
    }
    pub fn division_by_zero() -> Ctrl {
        Ctrl::error(ErrorKind::Arithmetic, "division by zero")
    }
    pub fn overflow() -> Ctrl {
        Ctrl::error(ErrorKind::Arithmetic, "integer overflow")
    }
    pub fn arity(name: &str, min: usize, max: usize, got: usize) -> Ctrl {
        let expected = if min == max {
            format!("{min} argument{}", if min == 1 { "" } else { "s" })
        } else {
            format!("{min} to {max} arguments")
        };
        Ctrl::runtime(format!("{name}() expected {expected} but got {got}"))
    }
    pub fn not_callable(type_name: &str) -> Ctrl {
        Ctrl::runtime(format!("cannot call non-function value of type {type_name}"))
    }
    pub fn stack_overflow() -> Ctrl {
        Ctrl::runtime("stack overflow")
    }
    pub fn index_out_of_bounds(index: i64, what: &str, len: usize) -> Ctrl {
        Ctrl::error(ErrorKind::Index, format!("index out of bounds: index {index} on {what} of length {len}"))
    }
    pub fn invalid_index() -> Ctrl {
        Ctrl::error(ErrorKind::Index, "invalid index operation")
    }
}
