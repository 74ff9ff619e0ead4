//! The tree-walking interpreter: the reference semantics of Forge.
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | `Interp` (one per task), frames, `TaskState`, limits |
//! | `eval.rs` | expressions |
//! | `exec.rs` | statements and blocks |
//! | `call.rs` | calling functions, natives and methods; field and index reads |
//! | `place.rs` | assignment to places (`v.f[i] = x`, `push(v, x)`) |
//! | `pattern.rs` | `match` patterns |
//! | `types.rs` | structs, methods and interfaces declared by the program |
//! | `tasks.rs` | `spawn`, `await`, `squad` |
//! | `native_cx.rs` | the native-function interface seen by built-ins |
//! | `coroutine.rs` | running an `Interp` as a scheduler task on its own stack |
//!
//! Memory follows the seed model: values are Rust-owned (`Value`), cloned on
//! read, copy-on-write for arrays and objects. Variables live in slots the
//! resolver chose: locals in `stack` (one window per frame), captured locals
//! in `cells`, globals in the task's `TaskState`, so no variable is looked up
//! by name at run time.

pub mod call;
#[allow(unsafe_code)]
pub mod coroutine;
pub mod eval;
pub mod exec;
pub mod native_cx;
pub mod pattern;
pub mod place;
pub mod tasks;
#[cfg(test)]
mod tests;
pub mod types;

use std::sync::Arc;

use crate::concurrency::TaskHandle;
use crate::error::{msg, Ctrl, EvalResult};
use crate::program::Program;
use crate::syntax::ast::FnDef;
use crate::syntax::span::Span;
use crate::value::{CellRef, Closure, Value};

pub use types::TypeRegistry;

/// The part of a task's memory that is not on its stack: its copy of the
/// program's globals and type registry. Both are copy-on-write, so a spawn
/// takes a snapshot in O(1) when no closure cells are involved.
#[derive(Clone)]
pub struct TaskState {
    pub globals: Arc<Vec<Option<Value>>>,
    pub types: Arc<TypeRegistry>,
    /// Whether any closure with captured cells may be reachable from this
    /// task's globals or registry; if so a spawn must detach them.
    pub has_cells: bool,
}

impl TaskState {
    pub fn new(program: &Program) -> TaskState {
        TaskState {
            globals: Arc::new(vec![None; program.globals.len()]),
            types: Arc::new(TypeRegistry::default()),
            has_cells: false,
        }
    }
}

/// Bounds that turn runaway programs into Forge errors.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Maximum depth of Forge calls (`stack overflow` beyond it).
    pub max_depth: usize,
    /// The lowest stack address the interpreter may use; calls below it
    /// raise `stack overflow` before the real stack runs out.
    pub stack_floor: usize,
    /// Reductions (calls, loop iterations) between yields to the scheduler.
    pub budget: u32,
}

/// The interface to whatever runs the interpreter (see `coroutine.rs`).
pub trait Host {
    /// Gives the worker back: `None` to be resumed as soon as possible
    /// (budget spent), `Some(reason)` to wait until the task's waker fires.
    fn suspend(&self, reason: Option<scheduler::WaitReason>);
    fn task(&self) -> &scheduler::TaskRef;
    fn runtime(&self) -> &scheduler::Runtime;
}

/// One activation of a function.
pub(crate) struct Frame {
    pub base: usize,
    pub cell_base: usize,
    pub closure: Option<Arc<Closure>>,
}

/// The interpreter state of one task.
pub struct Interp<'h> {
    pub program: &'static Program,
    pub state: TaskState,
    pub(crate) stack: Vec<Value>,
    pub(crate) cells: Vec<Option<CellRef>>,
    pub(crate) frame: Frame,
    pub(crate) depth: usize,
    pub(crate) limits: Limits,
    pub(crate) budget: u32,
    /// Members of the `squad` blocks being run, innermost last.
    pub(crate) squads: Vec<Vec<Arc<TaskHandle>>>,
    pub(crate) host: &'h dyn Host,
    /// The call being run by a native (for wait reasons and messages).
    pub(crate) native_span: Span,
    /// The timer armed by the native call in progress (`NativeCx::arm_timer`).
    pub(crate) call_timer: Option<scheduler::TimerKey>,
    /// The value of a `return`, or of the last block run for its value
    /// (see `Flow`).
    pub(crate) ret: Value,
    /// The deepest stack address a call reached (how much stack was used).
    pub(crate) low_water: usize,
}

/// How a statement ended. `Return` leaves its value in `Interp::ret`, so
/// the common control flow of statements never allocates (errors and the
/// rare `return` from inside an expression travel as `Ctrl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Normal,
    Break,
    Continue,
    Return,
}

impl<'h> Interp<'h> {
    pub fn new(program: &'static Program, state: TaskState, limits: Limits, host: &'h dyn Host) -> Interp<'h> {
        Interp {
            program,
            state,
            stack: Vec::with_capacity(256),
            cells: Vec::new(),
            frame: Frame { base: 0, cell_base: 0, closure: None },
            depth: 0,
            limits,
            budget: limits.budget,
            squads: Vec::new(),
            host,
            native_span: Span::default(),
            call_timer: None,
            ret: Value::Null,
            low_water: usize::MAX,
        }
    }

    /// `file:line:col` of a span.
    pub fn location(&self, span: Span) -> String {
        self.program.sources.location(span)
    }

    /// Spends one reduction; yields to the scheduler when the budget is
    /// gone. Also where cancellation is noticed.
    #[inline]
    pub(crate) fn tick(&mut self) -> Result<(), Ctrl> {
        self.budget -= 1;
        if self.budget == 0 {
            self.budget = self.limits.budget;
            self.host.suspend(None);
            if self.host.task().is_cancelled() {
                return Err(Ctrl::cancelled());
            }
        }
        Ok(())
    }

    /// `enter_call` and `tick` together: the checks every Forge call makes.
    #[inline(always)]
    pub(crate) fn enter_call_and_tick(&mut self) -> Result<(), Ctrl> {
        self.depth += 1;
        let sp = stack_pointer();
        self.low_water = self.low_water.min(sp);
        self.budget -= 1;
        if self.depth > self.limits.max_depth || sp < self.limits.stack_floor || self.budget == 0 {
            return self.enter_call_slow();
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn enter_call_slow(&mut self) -> Result<(), Ctrl> {
        self.budget += 1;
        let r = if self.depth > self.limits.max_depth || stack_pointer() < self.limits.stack_floor {
            Err(msg::stack_overflow())
        } else {
            self.tick()
        };
        if r.is_err() {
            self.depth -= 1;
        }
        r
    }

    /// Checks depth and remaining native stack before a call.
    #[inline]
    pub(crate) fn enter_call(&mut self) -> Result<(), Ctrl> {
        self.depth += 1;
        let sp = stack_pointer();
        self.low_water = self.low_water.min(sp);
        if self.depth > self.limits.max_depth || sp < self.limits.stack_floor {
            self.depth -= 1;
            return Err(msg::stack_overflow());
        }
        Ok(())
    }

    /// Runs a function value with arguments (the entry point for tasks).
    pub fn call_function(&mut self, f: &Value, args: Vec<Value>, span: Span) -> EvalResult {
        let argc = args.len();
        self.stack.extend(args);
        self.call_value(f, argc, span)
    }
}

/// An address in the current stack frame: how deep the native stack is.
#[inline(always)]
pub(crate) fn stack_pointer() -> usize {
    let marker = 0u8;
    std::ptr::addr_of!(marker) as usize
}

impl Interp<'_> {
    /// Runs the program's top level (depth 0; a top-level `return` ends it).
    pub fn run_main(&mut self) -> EvalResult {
        let def: &'static FnDef = &self.program.main.main;
        self.frame = Frame { base: 0, cell_base: 0, closure: None };
        self.stack.resize(def.locals as usize, Value::Null);
        self.cells.resize(def.cells as usize, None);
        self.hoist(&def.body);
        self.exec_block_tail(&def.body)?;
        Ok(std::mem::take(&mut self.ret))
    }
}
