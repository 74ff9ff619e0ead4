//! The per-task garbage-collected heap (DESIGN.md §4, seed "GC Algorithm").
//!
//! | file | owns |
//! |---|---|
//! | `heap.rs` | the object table, allocation, the free list, sizes, limits |
//! | `trace.rs` | marking (an explicit work list) and sweeping |
//! | `../machine/roots.rs` | the one list of roots of a task's heap (it reads the machine's fields) |
//!
//! Rules, cited by number elsewhere:
//! 1. An `ObjRef` never leaves its heap. A value that crosses to another
//!    task is copied out into a `Message` (`machine/convert.rs`).
//! 2. The collector runs only at safepoints of the dispatch loop, after the
//!    running frame's `pc` was saved; so code between safepoints (natives,
//!    opcode handlers) never has to protect its temporaries.
//! 3. A native that calls back into Forge keeps the handles it holds in the
//!    machine's `native_roots` for the duration of the call.
//! 4. A blocked task's roots are exactly its `Machine`: registers of every
//!    frame, globals, materialised constants, native roots.
//! 5. Freed slots are reused through a free list; a stale `ObjRef` is a bug
//!    that `Heap::verify` (debug builds, stress mode) reports, never undefined
//!    behaviour: the table is plain safe Rust.

pub mod heap;

pub mod trace;

pub use heap::{GcTotals, Heap, HeapObj, HeapStats};
