//! The machine: one per VM task. Frames and registers live in `Vec`s, so a
//! task is suspended by returning from the dispatch loop with its state
//! saved here (stackless), and resumed by entering the loop again.
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | `Machine`, frames, construction, resuming |
//! | `dispatch.rs` | the dispatch loop, and nothing else |
//! | `ops.rs` | opcode handlers too large for the loop |
//! | `intrinsics.rs` | built-ins answered from the heap without copying |
//! | `call.rs` | calls, returns, methods, error unwinding |
//! | `convert.rs` | values between the heap and `Value`s / `Message`s |
//! | `cell_map.rs` | the cells already copied during one conversion |
//! | `native_cx.rs` | the native-function interface for built-ins |
//! | `types.rs` | structs, methods and interfaces of the task |
//! | `on_demand.rs` | fields allocated on first write (a parked task stays small) |
//! | `tasks.rs` | spawn, await, squads, the scheduler task |
//! | `roots.rs` | the roots of the task's heap |

mod access;
mod call;
mod cell_map;
mod convert;
mod dispatch;
mod intrinsics;
mod native_cx;
mod on_demand;
mod ops;
pub mod roots;
pub mod tasks;
#[cfg(test)]
mod tests;
mod types;

use std::sync::Arc;

use super::bytecode::chunk::{ImportDef, Proto};
use super::compiler::VmProgram;
use super::gc::Heap;
use super::value::{ObjRef, Val};
use crate::concurrency::TaskHandle;
use crate::syntax::span::Span;
use types::VmTypes;

/// What a frame returns to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FrameKind {
    /// An ordinary call: the result goes to the caller's register `ret`.
    Call,
    /// A module's top level run by `import`: copy its definitions after.
    Import(&'static ImportDef),
}

/// One activation.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    pub proto: &'static Proto,
    pub pc: usize,
    pub base: usize,
    pub closure: Option<ObjRef>,
    /// Absolute register receiving the result.
    pub ret: usize,
    pub kind: FrameKind,
}

/// How a run of the dispatch loop ended.
#[derive(Debug)]
pub(crate) enum Exit {
    /// The frame the run started with returned this value.
    Returned(Val),
    /// Out of budget: resume later.
    Yielded,
    /// Waiting: the task's waker was registered; resume when it fires.
    Blocked(scheduler::WaitReason),
}

/// Bounds that turn runaway programs into errors.
#[derive(Clone, Copy, Debug)]
pub struct VmLimits {
    pub max_depth: usize,
    pub budget: u32,
    pub max_heap: usize,
    pub gc_stress: bool,
}

impl VmLimits {
    /// Defaults, overridden by `FORGE_MAX_DEPTH`, `FORGE_MAX_HEAP` (bytes,
    /// with an optional K/M/G suffix) and `FORGE_GC_STRESS=1`.
    pub fn from_env() -> VmLimits {
        let depth = std::env::var("FORGE_MAX_DEPTH").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(20_000);
        let max_heap = std::env::var("FORGE_MAX_HEAP").ok().and_then(|v| parse_size(&v)).unwrap_or(usize::MAX);
        let gc_stress = std::env::var("FORGE_GC_STRESS").is_ok_and(|v| v.trim() == "1");
        VmLimits { max_depth: depth, budget: 2_000, max_heap, gc_stress }
    }
}

fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (digits, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1 << 10),
        'm' | 'M' => (&s[..s.len() - 1], 1 << 20),
        'g' | 'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits.trim().parse::<usize>().ok()?.checked_mul(mult)
}

/// What every task of one run shares: the compiled program, its limits and
/// where its figures go. Made once per run, so that a machine holds one
/// pointer for all three (a parked task's size is counted in words).
pub struct VmRun {
    pub vm: &'static VmProgram,
    pub limits: VmLimits,
    /// Where each task's figures go when it finishes (`--stats` only).
    pub stats: Option<Arc<crate::vm::stats::VmStats>>,
}

impl VmRun {
    /// Leaks the settings for the rest of the process, like the program.
    pub fn new(
        vm: &'static VmProgram,
        limits: VmLimits,
        stats: Option<Arc<crate::vm::stats::VmStats>>,
    ) -> &'static VmRun {
        Box::leak(Box::new(VmRun { vm, limits, stats }))
    }
}

/// The scheduler side of a running task.
pub(crate) struct TaskLink {
    /// Also the way to the runtime (`TaskCell::runtime`), for the rare
    /// calls that need it (spawns, timers, blocking jobs).
    pub task: scheduler::TaskRef,
    /// `task`'s waker, made once: every channel registration clones it.
    pub waker: std::task::Waker,
}

/// A squad being run: the frame that started it and its members.
pub(crate) struct Squad {
    pub frame: usize,
    pub members: Vec<Arc<TaskHandle>>,
}

pub struct Machine {
    pub(crate) run: &'static VmRun,
    pub(crate) heap: Heap,
    pub(crate) regs: Vec<Val>,
    pub(crate) frames: Vec<Frame>,
    /// By slot; grown on the first write past its end, so a spawned task
    /// that never sets a global holds no table (read with `global`).
    pub(crate) globals: Vec<Option<Val>>,
    /// Bumped by every write that can change what the globals hold, so a
    /// spawn can reuse the last exported snapshot.
    pub(crate) globals_version: u64,
    /// The parent's globals, read into this heap on first use (`tasks.rs`).
    pub(crate) inherited: Option<Arc<tasks::Snapshot>>,
    pub(crate) types: on_demand::OnDemand<VmTypes>,
    /// String constants and built-in modules materialised in this heap.
    pub(crate) interned: on_demand::OnDemand<on_demand::Interned>,
    /// Fields few tasks write (squads, snapshot, natives' roots, blocking
    /// calls, collection totals).
    pub(crate) rare: on_demand::OnDemand<on_demand::Rare>,
    /// Frames allowed on the stack: `FORGE_MAX_DEPTH` calls, plus the
    /// program's top level for the main task (it is not a call).
    pub(crate) frame_limit: usize,
    pub(crate) budget: u32,
    pub(crate) link: Option<TaskLink>,
    /// Depth of native → Forge callbacks in progress.
    pub(crate) callbacks: u32,
    pub(crate) instructions: u64,
    /// How many times the task blocked (see `parked`).
    pub(crate) parks: u32,
    /// The span of the instruction being executed (for natives).
    pub(crate) span: Span,
    /// The registration a channel instruction (`ChanSend`/`ChanRecv`) left
    /// in place while the task is suspended; a native's registrations are
    /// in `rare.pending_waiters`.
    pub(crate) chan_wait: Option<(crate::concurrency::ChannelRef, scheduler::channel::WaiterId)>,
    /// `spawn f(x)` with a native `f` that waited: the native is in
    /// register 0 and this many arguments after it, and the next run calls
    /// it again (a native restarts after a wait; there is no instruction to
    /// re-run here).
    pub(crate) native_call: Option<u32>,
}

impl Machine {
    pub fn new(run: &'static VmRun) -> Machine {
        let limits = run.limits;
        Machine {
            run,
            heap: Heap::new(limits.gc_stress, limits.max_heap),
            // The first frame's window starts past register 0 (the callee
            // slot): room for it without a reallocation (a 4 KB copy).
            regs: Vec::with_capacity(dispatch::WINDOW + 16),
            frames: Vec::with_capacity(4),
            globals: Vec::new(),
            globals_version: 0,
            inherited: None,
            types: Default::default(),
            interned: Default::default(),
            rare: Default::default(),
            frame_limit: limits.max_depth,
            budget: limits.budget,
            link: None,
            callbacks: 0,
            instructions: 0,
            parks: 0,
            span: Span::default(),
            chan_wait: None,
            native_call: None,
        }
    }

    /// Prepares the program's top level as the task's first frame.
    pub fn enter_main(&mut self) {
        self.frame_limit = self.run.limits.max_depth + 1;
        let proto = self.run.vm.main;
        // The top level defines the globals: the whole table at once.
        self.globals.resize(self.run.vm.program.globals.len(), None);
        self.regs.clear();
        self.regs.resize(proto.nregs as usize + 1, Val::Null);
        self.frames.push(Frame {
            proto,
            pc: 0,
            base: 0,
            closure: None,
            ret: proto.nregs as usize,
            kind: FrameKind::Call,
        });
    }

    /// Called each time the task blocks: compacts it on its 1st, 2nd, 4th,
    /// 8th… block. A task that parks once (an idle waiter) gives its memory
    /// back at once; one that blocks on every message (a ping-pong) would
    /// otherwise reallocate and refill its register window on every resume
    /// (a fifth of its instructions), and now does so a logarithmic number
    /// of times.
    pub(crate) fn parked(&mut self) {
        self.parks = self.parks.wrapping_add(1);
        if self.parks.is_power_of_two() {
            self.compact();
        }
    }

    /// The scheduler running this task, reached through the task (the
    /// machine keeps no reference of its own). `None` outside a task.
    pub(crate) fn scheduler(&self) -> Option<scheduler::Runtime> {
        self.link.as_ref().and_then(|l| l.task.runtime())
    }

    /// Global `slot` as this task set (or read) it; `None` when unset here,
    /// which may still mean inherited from the parent (`inherited_global`).
    #[inline]
    pub(crate) fn global(&self, slot: usize) -> Option<Val> {
        self.globals.get(slot).copied().flatten()
    }

    #[inline]
    pub(crate) fn set_global(&mut self, slot: usize, v: Option<Val>) {
        match self.globals.get_mut(slot) {
            Some(g) => *g = v,
            None => self.grow_globals(slot, v),
        }
    }

    #[cold]
    fn grow_globals(&mut self, slot: usize, v: Option<Val>) {
        if v.is_some() {
            self.globals.resize(slot + 1, None);
            self.globals[slot] = v;
        }
    }

    /// Ends the squads started by frames at `depth` and above (they
    /// returned or unwound).
    #[inline]
    pub(crate) fn end_squads_from(&mut self, depth: usize) {
        if let Some(rare) = self.rare.written() {
            rare.squads.retain(|s| s.frame < depth);
        }
    }

    /// Whether no squad was started by frame `fi` or above: its return
    /// then needs no squad bookkeeping.
    #[inline(always)]
    pub(crate) fn no_squad_from(&self, fi: usize) -> bool {
        self.rare.get().is_none_or(|r| r.squads.iter().all(|s| s.frame < fi))
    }

    /// Gives back memory a parked task does not need: the register window
    /// beyond the running frame (the dispatch loop grows it again on resume).
    pub(crate) fn compact(&mut self) {
        let top = self.frames.last().map_or(0, |f| f.base + f.proto.nregs as usize + 1);
        self.regs.truncate(top);
        self.regs.shrink_to_fit();
        self.frames.shrink_to_fit();
        self.heap.compact();
    }

    /// Adds this finished task's figures to the run's totals, when they
    /// are wanted (`--stats`): otherwise every finishing task would write
    /// the same shared counters, a cache line the workers pass around.
    pub(crate) fn record_stats(&self) {
        if let Some(stats) = &self.run.stats {
            stats.record(&self.heap_stats(), self.instructions);
        }
    }

    pub fn heap_stats(&self) -> crate::vm::gc::HeapStats {
        let gc = self.rare.gc;
        crate::vm::gc::HeapStats {
            collections: gc.collections,
            total_pause_ns: gc.total_pause_ns,
            max_pause_ns: gc.max_pause_ns,
            peak_bytes: self.heap.peak_bytes,
            allocations: self.heap.allocations,
        }
    }

    pub fn instructions(&self) -> u64 {
        self.instructions
    }
}
