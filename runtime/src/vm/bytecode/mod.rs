//! Bytecode: the opcode table, compiled functions and the disassembler.
//!
//! | file | owns |
//! |---|---|
//! | `op.rs` | THE opcode table: enum, operand formats, meanings, encoding |
//! | `chunk.rs` | `Proto` (one compiled function): code, constants, lines, handlers |
//! | `disasm.rs` | `forge disasm`: a chunk printed with its source lines |

pub mod chunk;
pub mod disasm;
pub mod op;
