//! The front end: source text → resolved AST.
//!
//! | file | owns |
//! |---|---|
//! | `span.rs` | byte spans, the source map, `file:line:col` |
//! | `token.rs` | tokens and the keyword table |
//! | `lexer.rs` | text → tokens (interpolation ranges included) |
//! | `parser.rs` | tokens → AST, with error recovery |
//! | `ast.rs` | the tree every tier consumes |
//! | `resolve.rs` | names → slots, static errors |
//! | `diagnostic.rs` | the error type and the one renderer |

pub mod ast;
pub mod diagnostic;
pub mod lexer;
pub mod parser;
pub mod resolve;
pub mod span;
pub mod token;
