//! The roots of a task's heap (seed memory model, "GC Roots"), listed once.
//! A new `Machine` field that can hold a `Val` or an `ObjRef` must be added
//! here (GC rule 4: a blocked task's roots are exactly its `Machine`).

use super::Machine;
use crate::vm::gc::trace::collect;

impl Machine {
    /// Collects this task's heap (only at safepoints, GC rule 2).
    pub(crate) fn collect_garbage(&mut self) {
        let top = self.frames.last().map_or(0, |f| f.base + f.proto.nregs as usize + 1).min(self.regs.len());
        let Machine { heap, regs, frames, globals, types, interned, rare, .. } = self;
        let start = std::time::Instant::now();
        let stress = self.run.limits.gc_stress;
        let (objs_before, objs_after, bytes_before, bytes_after) = collect(heap, stress, |t| {
            t.values(&regs[..top]); // registers of every frame on the task's stack
            frames.iter().filter_map(|f| f.closure).for_each(|c| t.object(c)); // closures being run
            globals.iter().flatten().for_each(|v| t.value(*v)); // the task's globals
            interned.consts.values().for_each(|r| t.object(*r)); // constants materialised from chunks
            interned.builtins.values().for_each(|v| t.value(*v)); // built-in modules materialised
            types.values().for_each(|v| t.value(v)); // struct defaults and methods
            rare.native_roots.iter().for_each(|v| t.value(*v)); // values held by natives in progress
            rare.exported.iter().for_each(|(_, r)| t.object(*r)); // closures handed to natives
            rare.inherited_cells.values().for_each(|r| t.object(*r)); // cells of inherited closures
        });
        let pause = start.elapsed();
        self.rare.gc.record(pause);
        let task = self.link.as_ref().map_or(0, |l| l.task.id().0);
        trace_collection(task, objs_before, objs_after, bytes_before, bytes_after, pause);
        if cfg!(debug_assertions) && stress {
            if let Err(e) = self.heap.verify() {
                panic!("heap corrupted after collection: {e}");
            }
        }
    }
}

/// One `forge::gc` event per collection.
#[inline(never)]
fn trace_collection(
    task: u64,
    objs_before: usize,
    objs_after: usize,
    bytes_before: usize,
    bytes_after: usize,
    pause: std::time::Duration,
) {
    tracing::debug!(
        target: observability::names::GC,
        event = observability::names::event::GC_COLLECT,
        task.id = task,
        heap.objects_before = objs_before,
        heap.objects_after = objs_after,
        heap.bytes_before = bytes_before,
        heap.bytes_after = bytes_after,
        gc.pause_us = pause.as_micros() as u64,
    );
}
