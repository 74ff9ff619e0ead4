//! Runs an `Interp` as a scheduler task on its own stack (DESIGN.md §6).
//!
//! The tree walker is recursive, so a task that blocks deep inside an
//! evaluation must keep its native stack: each task runs on a stackful
//! coroutine (`corosensei`). Blocking is `Yielder::suspend`, which returns to
//! the worker; the scheduler resumes the coroutine later, possibly on another
//! worker thread.
//!
//! Invariants (cited by the `SAFETY` comment below):
//! 1. Everything the coroutine's stack holds across a suspension is `Send`:
//!    `Value`s, `Arc`s, the task's `Interp`, references into the leaked
//!    program. No lock guard is held across `Host::suspend`.
//! 2. Thread-locals are never read across a suspension in one function frame:
//!    `suspend` is `#[inline(never)]`, and the scheduler's own thread-locals
//!    are reached only through `#[inline(never)]` functions (scheduler rule 3).
//! 3. The stack's lowest `RED_ZONE` bytes are never used by Forge calls: the
//!    interpreter raises `stack overflow` before reaching them (`Limits`), so
//!    the guard page below is a last line of defence, not a code path.

use std::sync::Arc;

use corosensei::stack::{DefaultStack, Stack};
use corosensei::{Coroutine, CoroutineResult, Yielder};
use parking_lot::Mutex;
use scheduler::{JoinCell, RunResult, Task, TaskRef, WaitReason};

use super::{Host, Interp, Limits, TaskState};
use crate::concurrency::TaskOutcome;
use crate::error::{ErrorKind, ForgeError, Unwind};
use crate::message::Message;
use crate::program::Program;
use crate::syntax::span::Span;
use crate::value::Value;

/// Stack space kept free below the interpreter's floor, for natives.
const RED_ZONE: usize = 256 * 1024;

/// Sizes and bounds for interpreter tasks.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub max_depth: usize,
    pub main_stack: usize,
    pub task_stack: usize,
    pub budget: u32,
}

impl Options {
    /// Defaults, overridden by `FORGE_MAX_DEPTH` (frames) and
    /// `FORGE_STACK_MB` (per task).
    pub fn from_env() -> Options {
        let env = |k: &str| std::env::var(k).ok().and_then(|v| v.trim().parse::<usize>().ok()).filter(|&n| n > 0);
        let max_depth = env("FORGE_MAX_DEPTH").unwrap_or(20_000);
        let per_frame = 2 * 1024;
        let needed = max_depth.saturating_mul(per_frame) + 2 * RED_ZONE;
        let task_stack = env("FORGE_STACK_MB").map(|mb| mb << 20).unwrap_or_else(|| needed.max(16 << 20));
        Options { max_depth, main_stack: task_stack.max(64 << 20), task_stack, budget: 2_000 }
    }
}

/// What a task runs.
pub enum Entry {
    /// The program's top level.
    Main,
    /// A function value applied to arguments (`spawn`).
    Call { f: Value, args: Vec<Value>, span: Span },
}

enum Suspend {
    Yield,
    Block(WaitReason),
}

struct CoHost<'y> {
    yielder: &'y Yielder<TaskRef, Suspend>,
    task: TaskRef,
    runtime: scheduler::Runtime,
}

impl Host for CoHost<'_> {
    #[inline(never)]
    fn suspend(&self, reason: Option<WaitReason>) {
        let s = match reason {
            Some(r) => Suspend::Block(r),
            None => Suspend::Yield,
        };
        self.yielder.suspend(s);
    }

    fn task(&self) -> &TaskRef {
        &self.task
    }

    fn runtime(&self) -> &scheduler::Runtime {
        &self.runtime
    }
}

/// The coroutine returns the deepest stack address its task reached.
type Co = Coroutine<TaskRef, Suspend, usize, DefaultStack>;

/// A coroutine that may be resumed on any worker.
struct SendCo(Co);

// SAFETY: by invariant 1 of this module everything on the coroutine's stack
// is `Send`, and by invariant 2 no thread-local address outlives a
// suspension; so resuming the coroutine on another thread is the same as
// moving the owned values it holds. `tests::tasks_migrate_between_workers`
// runs many blocking tasks on several workers to exercise this.
#[allow(unsafe_code)]
unsafe impl Send for SendCo {}

/// Stacks of finished tasks, kept for the next spawns: creating a stack
/// costs system calls and page faults, which dominate a program that spawns
/// many short tasks. Up to `POOL_MAX` stacks are kept (sharded so workers do
/// not contend); beyond that they are unmapped. A stack whose task recursed
/// deeply gives the pages below its usual depth back to the kernel first
/// (`MADV_DONTNEED`), so a pooled stack pins only a few pages.
const POOL_SHARDS: usize = 8;
const POOL_MAX: usize = 4096;
/// Pages a pooled stack may keep: a task's usual depth.
const KEEP_BYTES: usize = 64 * 1024;

static STACK_POOL: [Mutex<Vec<DefaultStack>>; POOL_SHARDS] = [const { Mutex::new(Vec::new()) }; POOL_SHARDS];
static POOL_NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn pool_shard() -> &'static Mutex<Vec<DefaultStack>> {
    let i = POOL_NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % POOL_SHARDS;
    &STACK_POOL[i]
}

fn get_stack(size: usize) -> std::io::Result<DefaultStack> {
    for _ in 0..POOL_SHARDS {
        let mut pool = pool_shard().lock();
        if let Some(i) = pool.iter().rposition(|s| s.base().get() - s.limit().get() >= size) {
            return Ok(pool.swap_remove(i));
        }
    }
    DefaultStack::new(size)
}

/// Returns a stack to the pool; `low_water` is the deepest address the
/// finished task's calls reached.
fn put_stack(s: DefaultStack, low_water: usize) {
    let hi = s.base().get();
    // Natives may have gone up to the red zone below the last call.
    let used_low = low_water.saturating_sub(RED_ZONE);
    if hi.saturating_sub(used_low) > KEEP_BYTES + RED_ZONE {
        let lo = (used_low & !4095).max(s.limit().get());
        let keep_from = (hi - KEEP_BYTES) & !4095;
        if lo < keep_from {
            // SAFETY: `[lo, keep_from)` lies inside the stack's own writable
            // mapping and the stack is unused (its coroutine finished), so
            // discarding those pages cannot affect live data; the range stays
            // mapped and reads back as zeros when the stack is reused.
            unsafe {
                libc::madvise(lo as *mut libc::c_void, keep_from - lo, libc::MADV_DONTNEED);
            }
        }
    }
    let mut pool = pool_shard().lock();
    if pool.len() < POOL_MAX / POOL_SHARDS {
        pool.push(s);
    }
}

/// A scheduler task that runs Forge code.
pub struct InterpTask {
    co: Option<SendCo>,
}

impl InterpTask {
    pub fn new(
        program: &'static Program,
        state: TaskState,
        entry: Entry,
        result: JoinCell<TaskOutcome>,
        options: Options,
        runtime: scheduler::Runtime,
        is_main: bool,
    ) -> std::io::Result<InterpTask> {
        let size = if is_main { options.main_stack } else { options.task_stack };
        let stack = get_stack(size)?;
        let floor = stack.limit().get() + RED_ZONE;
        let limits = Limits { max_depth: options.max_depth, stack_floor: floor, budget: options.budget };
        let co = Coroutine::with_stack(stack, move |yielder: &Yielder<TaskRef, Suspend>, task: TaskRef| {
            let host = CoHost { yielder, task, runtime };
            let (outcome, low_water) = run_entry(program, state, entry, limits, &host);
            result.complete(outcome);
            low_water
        });
        Ok(InterpTask { co: Some(SendCo(co)) })
    }
}

fn run_entry(
    program: &'static Program,
    state: TaskState,
    entry: Entry,
    limits: Limits,
    host: &CoHost<'_>,
) -> (TaskOutcome, usize) {
    let mut interp = Interp::new(program, state, limits, host);
    let run = std::panic::AssertUnwindSafe(|| match entry {
        Entry::Main => interp.run_main(),
        Entry::Call { f, args, span } => interp.call_function(&f, args, span),
    });
    let outcome = match std::panic::catch_unwind(run) {
        Ok(Ok(v)) => Ok(Message::new(&v)),
        Ok(Err(c)) => match *c.0 {
            Unwind::Error(e) => Err(Arc::new(e)),
            Unwind::Return(v) => Ok(Message::new(&v)),
            Unwind::Cancelled => Err(Arc::new(ForgeError::new(ErrorKind::Runtime, "task cancelled"))),
            other => Err(internal(format!("unexpected {other:?}"))),
        },
        Err(panic) => Err(Arc::new(ForgeError::from_panic(&*panic))),
    };
    (outcome, interp.low_water)
}

fn internal(what: String) -> Arc<ForgeError> {
    Arc::new(ForgeError::internal(what))
}

impl Task for InterpTask {
    fn run(&mut self, me: &TaskRef) -> RunResult {
        let Some(co) = self.co.as_mut() else {
            return RunResult::Finished;
        };
        match co.0.resume(me.clone()) {
            CoroutineResult::Yield(Suspend::Yield) => RunResult::Yielded,
            CoroutineResult::Yield(Suspend::Block(r)) => RunResult::Blocked(r),
            CoroutineResult::Return(low_water) => {
                if let Some(done) = self.co.take() {
                    put_stack(done.0.into_stack(), low_water);
                }
                RunResult::Finished
            }
        }
    }
}
