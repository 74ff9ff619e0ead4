//! The object table of one task.
//!
//! Objects live in a `Vec<HeapObj>` indexed by `ObjRef`; free slots hold
//! `HeapObj::Free` and are recycled through `free`. Mark bits live in a
//! separate bit set so sweeping touches one word per 64 objects it keeps.
//! Sizes are estimates (table slot plus owned buffers) used for the
//! collection threshold and the heap limit, not exact accounting.
//!
//! Under a heap limit (`FORGE_MAX_HEAP`) what a task keeps alive outside
//! its heap counts toward its limit too ([`Heap::charge`]): each live task
//! it spawned, [`TASK_BYTES`] each (their own heaps have limits of their
//! own), and each copy of its globals that its children inherit (a spawn
//! after the globals changed makes a new copy, and a parked child keeps
//! its copy). Without these charges a task could spawn parked tasks until
//! the machine runs out of memory and never reach its limit. A charge is
//! given back when its holder ends, through the `released` counter (a child
//! may finish on another worker while this heap's task runs); the heap
//! takes those back when it next needs room.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arcstr::ArcStr;
use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;

use crate::concurrency::{ChannelRef, TaskHandle};
use crate::error::{Ctrl, ErrorKind};
use crate::value::{TypeValue, VariantCtor};
use crate::vm::bytecode::chunk::Proto;
use crate::vm::value::{ObjRef, Val};

pub type FieldMap = IndexMap<ArcStr, Val, FxBuildHasher>;

/// An array: its elements and the copy-on-write flag (see `vm/mod.rs`).
#[derive(Clone, Debug, Default)]
pub struct ArrayObj {
    pub items: Vec<Val>,
    pub shared: bool,
}

#[derive(Clone, Debug, Default)]
pub struct ObjectObj {
    pub tag: Option<ArcStr>,
    pub fields: FieldMap,
    pub shared: bool,
}

#[derive(Clone, Debug)]
pub struct ClosureObj {
    pub proto: &'static Proto,
    /// Cells (`HeapObj::Cell`) of the captured variables.
    pub upvals: Box<[ObjRef]>,
}

#[derive(Clone, Debug)]
pub struct EnumObj {
    pub enum_name: ArcStr,
    pub variant: ArcStr,
    pub payload: Box<[Val]>,
}

#[derive(Clone, Debug)]
pub enum HeapObj {
    Free,
    Str(ArcStr),
    Array(ArrayObj),
    Object(Box<ObjectObj>),
    Closure(ClosureObj),
    /// A captured variable.
    Cell(Val),
    Enum(Box<EnumObj>),
    Ok(Val),
    Err(Val),
    Some(Val),
    Channel(ChannelRef),
    Task(Arc<TaskHandle>),
    Type(Arc<TypeValue>),
    Variant(Arc<VariantCtor>),
}

impl HeapObj {
    /// An estimate of the memory this object holds.
    pub fn size(&self) -> usize {
        let slot = std::mem::size_of::<HeapObj>();
        slot + match self {
            HeapObj::Str(s) => s.len(),
            HeapObj::Array(a) => a.items.capacity() * std::mem::size_of::<Val>(),
            HeapObj::Object(o) => 64 + o.fields.capacity() * 48,
            HeapObj::Closure(c) => 16 + c.upvals.len() * 4,
            HeapObj::Enum(e) => 48 + e.payload.len() * 16,
            _ => 0,
        }
    }
}

/// Collections of one heap and their pauses. Kept by the heap's owner, not
/// the heap: most tasks never collect, and a parked task carries only
/// what it uses (`Machine::rare`).
#[derive(Clone, Copy, Debug, Default)]
pub struct GcTotals {
    pub collections: u64,
    pub total_pause_ns: u64,
    pub max_pause_ns: u64,
}

impl GcTotals {
    pub fn record(&mut self, pause: std::time::Duration) {
        let ns = pause.as_nanos().min(u64::MAX as u128) as u64;
        self.collections += 1;
        self.total_pause_ns = self.total_pause_ns.saturating_add(ns);
        self.max_pause_ns = self.max_pause_ns.max(ns);
    }
}

/// Counters for `--stats` and the `forge::gc` events.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeapStats {
    pub collections: u64,
    /// Pauses in nanoseconds, as `GcTotals` counts them.
    pub total_pause_ns: u64,
    pub max_pause_ns: u64,
    pub peak_bytes: usize,
    pub allocations: u64,
}

/// What a live spawned task costs its spawner's heap limit: about what a
/// parked VM task holds (machine, frames, a compacted register window,
/// scheduler cell, join cell), measured with `../shared/bench/idle_tasks`
/// (963 bytes).
pub const TASK_BYTES: usize = 1024;

/// Bytes held outside this heap on behalf of its task — a live spawned
/// task, or the copy of the globals its children inherit — charged against
/// the heap limit; dropping it gives the bytes back.
#[derive(Debug)]
pub struct HeapCharge {
    released: Option<Arc<AtomicUsize>>,
    bytes: usize,
}

impl Drop for HeapCharge {
    fn drop(&mut self) {
        give_back(self.released.take(), self.bytes);
    }
}

/// Returns `bytes` to the heap that charged them (it takes them off its
/// total at its next check, `Heap::fits_after_release`).
fn give_back(released: Option<Arc<AtomicUsize>>, bytes: usize) {
    if let Some(r) = released {
        r.fetch_add(bytes, Ordering::AcqRel);
    }
}

/// A live spawned task's charge: a [`HeapCharge`] of [`TASK_BYTES`], one
/// word long because its size is known (every task body holds one, and a
/// parked task's size is counted in words). `TaskCharge::default()` holds
/// nothing; dropping or replacing a charge gives its bytes back.
#[derive(Debug, Default)]
pub struct TaskCharge(Option<Arc<AtomicUsize>>);

impl Drop for TaskCharge {
    fn drop(&mut self) {
        give_back(self.0.take(), TASK_BYTES);
    }
}

/// Smallest collection threshold, in bytes.
const MIN_THRESHOLD: usize = 1 << 20;
/// The next collection happens when the heap reaches this multiple of what
/// survived the last one.
const GROWTH: usize = 2;

pub struct Heap {
    pub(crate) objs: Vec<HeapObj>,
    free: Vec<u32>,
    /// Estimated bytes held by live (not yet freed) objects.
    pub(crate) bytes: usize,
    /// `should_collect` once `bytes` exceeds it. Stress mode keeps it at the
    /// bytes left by the last collection: every allocation adds at least one
    /// slot's size, so any allocation since then makes a collection due.
    threshold: usize,
    /// `FORGE_MAX_HEAP`: allocation beyond it raises `out of memory`.
    pub max_bytes: usize,
    /// Bytes charged for what the task keeps alive outside the heap
    /// (`charge`), counted against `max_bytes` but not toward the
    /// collection threshold.
    children: usize,
    /// Charges given back, not yet taken off `children`.
    released: Option<Arc<AtomicUsize>>,
    /// Allocations made, and the most bytes held at once.
    pub(crate) allocations: u64,
    pub(crate) peak_bytes: usize,
}

impl Default for Heap {
    fn default() -> Self {
        Heap::new(false, usize::MAX)
    }
}

impl Heap {
    pub fn new(stress: bool, max_bytes: usize) -> Heap {
        Heap {
            // A small task allocates a few objects: no growth steps for them.
            objs: Vec::with_capacity(8),
            free: Vec::new(),
            bytes: 0,
            threshold: if stress { 0 } else { MIN_THRESHOLD.min(max_bytes / 2) },
            max_bytes,
            children: 0,
            // Made by the first charge: a task under no heap limit, or
            // that spawns nothing, never needs it.
            released: None,
            allocations: 0,
            peak_bytes: 0,
        }
    }

    /// Whether `size` more bytes fit under the limit once the charges of
    /// finished children are taken back. Out of line: only reached near the
    /// limit.
    #[cold]
    fn fits_after_release(&mut self, size: usize) -> bool {
        let released = self.released.as_ref().map_or(0, |r| r.swap(0, Ordering::AcqRel));
        self.children = self.children.saturating_sub(released);
        self.bytes + self.children + size <= self.max_bytes
    }

    /// The heap-limit error; it says how much of the limit the task's
    /// spawned tasks hold, since the program may not expect that.
    #[cold]
    fn out_of_memory(&self) -> Ctrl {
        let message = if self.children == 0 {
            "out of memory (heap limit reached)".to_string()
        } else {
            format!(
                "out of memory (heap limit reached; {} KB of it held by live tasks this task spawned)",
                self.children.div_ceil(1024)
            )
        };
        Ctrl::error(ErrorKind::Runtime, message)
    }

    /// Charges `bytes` kept alive outside the heap against the heap limit
    /// (see the module docs). `Err` with `out of memory` when they do not fit.
    pub fn charge(&mut self, bytes: usize) -> Result<HeapCharge, Ctrl> {
        if self.max_bytes == usize::MAX || bytes == 0 {
            return Ok(HeapCharge { released: None, bytes: 0 });
        }
        if self.bytes + self.children + bytes > self.max_bytes && !self.fits_after_release(bytes) {
            return Err(self.out_of_memory());
        }
        self.children += bytes;
        let released = self.released.get_or_insert_with(|| Arc::new(AtomicUsize::new(0)));
        Ok(HeapCharge { released: Some(released.clone()), bytes })
    }

    /// Charges a live spawned task ([`TASK_BYTES`]), as `charge` does.
    pub fn charge_task(&mut self) -> Result<TaskCharge, Ctrl> {
        let mut charge = self.charge(TASK_BYTES)?;
        // Taken over by the `TaskCharge`, which gives back the same bytes.
        Ok(TaskCharge(charge.released.take()))
    }

    /// Allocates an object; `Err` when the heap limit would be exceeded.
    #[inline]
    pub fn alloc(&mut self, obj: HeapObj) -> Result<ObjRef, Ctrl> {
        let size = obj.size();
        if self.bytes + self.children + size > self.max_bytes && !self.fits_after_release(size) {
            return Err(self.out_of_memory());
        }
        self.bytes += size;
        self.allocations += 1;
        if self.bytes > self.peak_bytes {
            self.peak_bytes = self.bytes;
        }
        Ok(match self.free.pop() {
            Some(i) => {
                self.objs[i as usize] = obj;
                ObjRef(i)
            }
            None => {
                let i = self.objs.len() as u32;
                self.objs.push(obj);
                ObjRef(i)
            }
        })
    }

    /// Accounts for an object that grew in place (an array push).
    #[inline]
    pub fn grew(&mut self, bytes: usize) {
        self.bytes += bytes;
        if self.bytes > self.peak_bytes {
            self.peak_bytes = self.bytes;
        }
    }

    #[inline(always)]
    pub fn get(&self, r: ObjRef) -> &HeapObj {
        &self.objs[r.0 as usize]
    }

    #[inline(always)]
    pub fn get_mut(&mut self, r: ObjRef) -> &mut HeapObj {
        &mut self.objs[r.0 as usize]
    }

    /// Whether a collection is due (checked at safepoints only, rule 2).
    /// Stress mode collects at every safepoint reached after an allocation:
    /// a collection with nothing allocated since the previous one would
    /// find the same objects and no slot could have been reused in between.
    #[inline(always)]
    pub fn should_collect(&self) -> bool {
        self.bytes > self.threshold
    }

    /// Drops spare capacity (a parked task's heap is usually small).
    pub(crate) fn compact(&mut self) {
        self.objs.shrink_to_fit();
        self.free.shrink_to_fit();
    }

    /// Number of live objects.
    pub fn live_objects(&self) -> usize {
        self.objs.len() - self.free.len()
    }

    /// Frees every object not marked in `marks`, one bit per slot (the
    /// sweep phase), and sets the next collection's threshold: in stress
    /// mode (`FORGE_GC_STRESS=1`) the bytes left, so that any allocation
    /// makes a collection due.
    pub(crate) fn sweep(&mut self, marks: &[u64], stress: bool) {
        let mut freed_bytes = 0;
        for (w, word) in marks.iter().enumerate() {
            let mut unmarked = !word;
            while unmarked != 0 {
                let i = w * 64 + unmarked.trailing_zeros() as usize;
                unmarked &= unmarked - 1;
                let Some(obj) = self.objs.get_mut(i) else { break };
                if !matches!(obj, HeapObj::Free) {
                    freed_bytes += obj.size();
                    *obj = HeapObj::Free;
                    self.free.push(i as u32);
                }
            }
        }
        self.bytes = self.bytes.saturating_sub(freed_bytes);
        if stress {
            self.threshold = self.bytes;
            return;
        }
        // Under a heap limit, collect well before reaching it so that
        // garbage is never reported as "out of memory".
        let headroom = self.bytes + self.max_bytes.saturating_sub(self.bytes) / 2;
        self.threshold = (self.bytes * GROWTH).max(MIN_THRESHOLD).min(headroom);
    }

    /// Checks that every handle reachable from a live object names a live
    /// object (rule 5). Used after collections in stress mode.
    pub fn verify(&self) -> Result<(), String> {
        let live = |r: ObjRef| self.objs.get(r.0 as usize).is_some_and(|o| !matches!(o, HeapObj::Free));
        for (i, obj) in self.objs.iter().enumerate() {
            let mut bad = None;
            super::trace::children(obj, &mut |v| {
                if let Val::Obj(r) = v {
                    if !live(r) {
                        bad = Some(r);
                    }
                }
            });
            if let Some(r) = bad {
                return Err(format!("object {i} refers to freed object {}", r.0));
            }
        }
        Ok(())
    }
}
