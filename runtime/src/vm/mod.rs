//! The bytecode VM: the second tier, with a mark-sweep garbage collector
//! (SEED-memory-model.txt, "VM Memory").
//!
//! | folder / file | owns |
//! |---|---|
//! | `value.rs` | `Val`: a register value, scalars inline, heap objects by handle |
//! | `bytecode/` | the opcode table (`op.rs`), compiled functions (`chunk.rs`), `disasm.rs` |
//! | `compiler/` | resolved AST → bytecode |
//! | `gc/` | the per-task heap: object table, roots, marking, sweeping |
//! | `machine/` | the dispatch loop, frames, calls, the native bridge, tasks |
//! | `stats.rs` | run totals for `forge run --stats` |
//!
//! Values have the same semantics as in the interpreter. Arrays and objects
//! are values: the VM keeps one heap object per array and a sticky `shared`
//! bit on it; a write through a place copies a shared object first (copy on
//! write), and the compiler marks an object shared whenever a second place
//! may come to hold it (see `compiler/mod.rs`, "Sharing").

pub mod bytecode;
pub mod compiler;
pub mod gc;
pub mod machine;
pub mod stats;
pub mod value;
