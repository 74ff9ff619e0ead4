//! The Forge language: everything between source text and running tasks.
//!
//! | module | owns |
//! |---|---|
//! | `syntax` | lexer, parser, AST, resolver, diagnostics |
//! | `value` | the interpreter's `Value`, display, equality, task-crossing copies |
//! | `interp` | the tree-walking interpreter and its task executor |
//! | `builtins` | built-in functions behind the native-function interface |
//! | `stdlib` | the standard-library modules (`math`, `json`, `fs`, …) |
//! | `concurrency` | channel and task-handle values |
//! | `program` | loading a program: files, imports, resolution |
//! | `error` | runtime errors and control flow |
//! | `output` | the process's stdout, shared by every task |
//! | `run` | running a program to an exit status; error, deadlock and task-dump reports |
//! | `exit` | ending the process: flush stdout, at-exit hooks |
#![deny(unsafe_code)]

pub mod builtins;
pub mod concurrency;
pub mod error;
pub mod exit;
pub mod interp;
pub mod message;
pub mod ops;
pub mod output;
pub mod program;
pub mod run;
pub mod stdlib;
pub mod syntax;
pub mod value;
pub mod vm;
