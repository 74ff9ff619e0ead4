//! `OnDemand<T>`: a machine field that costs one pointer until it is first
//! written. Most tasks never declare a type or materialise a string
//! constant, and a parked task's size is what the `idle_tasks` benchmark
//! measures (the allocator rounds a `Machine` up to its size class, so every
//! word counts). Reads of a field never written see a shared empty value.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rustc_hash::FxHashMap;

use super::cell_map::CellMap;
use super::tasks::Snapshot;
use super::types::VmTypes;
use super::Squad;
use crate::builtins::JobOutput;
use crate::vm::gc::GcTotals;
use crate::vm::value::{ObjRef, Val};

/// A value with a shared, immutable empty instance for reads.
pub(crate) trait Empty: Default + Sync + 'static {
    fn empty() -> &'static Self;
}

#[derive(Default)]
pub(crate) struct OnDemand<T>(Option<Box<T>>);

impl<T: Empty> Deref for OnDemand<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.0 {
            Some(t) => t,
            None => T::empty(),
        }
    }
}

impl<T: Empty> DerefMut for OnDemand<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

impl<T> OnDemand<T> {
    /// The value, if it was ever written: for code that only clears or
    /// takes, and must not allocate to find nothing there.
    pub(crate) fn written(&mut self) -> Option<&mut T> {
        self.0.as_deref_mut()
    }

    /// The value, if it was ever written: one load and a null check, for
    /// hot paths that must not reach the shared empty value.
    #[inline(always)]
    pub(crate) fn get(&self) -> Option<&T> {
        self.0.as_deref()
    }

    /// Whether the field was ever written.
    #[cfg(test)]
    pub(crate) fn is_allocated(&self) -> bool {
        self.0.is_some()
    }
}

/// Machine fields that few tasks ever write: all of them cost a parked
/// task one pointer until one is written. Code that only clears a field
/// reads it first (`OnDemand::written`), so clearing never allocates.
#[derive(Default)]
pub(crate) struct Rare {
    /// The squads being run, innermost last.
    pub squads: Vec<Squad>,
    /// Collections of this task's heap and their pauses (`--stats`).
    pub gc: GcTotals,
    /// The last copy of the globals made for spawned children, and the
    /// `globals_version` it was made at (`tasks.rs`).
    pub snapshot: Option<(u64, Arc<Snapshot>)>,
    /// Cells of inherited closures already imported, by the address of the
    /// parent's cell, so closures sharing a cell still share it here.
    pub inherited_cells: CellMap<usize, ObjRef>,
    /// Globals reset by an `import` in this task: never inherited.
    pub disinherited: Vec<bool>,
    /// Handles held by natives in progress (GC rule 3).
    pub native_roots: Vec<Val>,
    /// Closures handed to natives as `Value`s, by the address of the
    /// `Value` closure, so a callback or a returned closure maps back to
    /// its object.
    pub exported: Vec<(usize, ObjRef)>,
    /// Channel registrations a native left in place while suspended.
    pub pending_waiters: Vec<(crate::concurrency::ChannelRef, scheduler::channel::WaiterId)>,
    /// The deadline of the blocking call in progress, kept across its
    /// restarts (see `native_cx.rs`).
    pub pending_deadline: Option<Instant>,
    /// The timer of the blocking call in progress, kept across its restarts
    /// and disarmed when it ends (`end_blocking_call`).
    pub pending_timer: Option<scheduler::TimerKey>,
    /// The job on the blocking pool of the native call in progress, kept
    /// across its restarts until its output is taken or the call ends.
    pub pending_job: Option<scheduler::BlockingJob<JobOutput>>,
}

impl Empty for Rare {
    fn empty() -> &'static Self {
        static EMPTY: OnceLock<Rare> = OnceLock::new();
        EMPTY.get_or_init(Rare::default)
    }
}

/// Heap objects materialised from the program once per task.
#[derive(Default)]
pub(crate) struct Interned {
    /// String constants, by (chunk, index).
    pub consts: FxHashMap<(usize, u16), ObjRef>,
    /// Built-in module objects, by built-in index.
    pub builtins: FxHashMap<u32, Val>,
}

impl Empty for Interned {
    fn empty() -> &'static Self {
        static EMPTY: OnceLock<Interned> = OnceLock::new();
        EMPTY.get_or_init(Interned::default)
    }
}

impl Empty for VmTypes {
    fn empty() -> &'static Self {
        static EMPTY: OnceLock<VmTypes> = OnceLock::new();
        EMPTY.get_or_init(VmTypes::default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_do_not_allocate_and_writes_do() {
        let mut t: OnDemand<Interned> = OnDemand::default();
        assert!(!t.consts.contains_key(&(1, 2)));
        assert!(!t.is_allocated());
        t.consts.insert((1, 2), ObjRef(7));
        assert!(t.is_allocated());
        assert_eq!(t.consts.get(&(1, 2)), Some(&ObjRef(7)));
        // The shared empty value stays empty.
        assert!(Interned::empty().consts.is_empty());
    }
}
