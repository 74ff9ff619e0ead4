//! `Proto`: one compiled function (a chunk): its code, constant pool, line
//! table (a span per instruction), register count, captures, nested
//! functions and exception handlers. Protos are built once per program and
//! shared by every task and worker (`&'static`).

use arcstr::ArcStr;

use super::op::Instr;
use crate::syntax::ast::{Capture, EnumDef, FnDef, InterfaceDef, Module, StructDef};
use crate::syntax::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    Int(i64),
    Float(f64),
    Str(ArcStr),
}

/// A protected range of code (`try` or `safe`).
#[derive(Clone, Copy, Debug)]
pub struct Handler {
    /// `[start, end)` instruction indexes covered.
    pub start: u32,
    pub end: u32,
    /// Where execution continues after an error in the range.
    pub target: u32,
    /// Register that receives the error object (`try`); `None` for `safe`,
    /// whose handler code sets the result to `null`.
    pub error_reg: Option<u8>,
}

/// What an `impl` block attaches.
#[derive(Debug)]
pub struct ImplDef {
    pub type_name: ArcStr,
    pub interface: Option<ArcStr>,
    /// Method names, in the order of the registers holding their closures.
    pub methods: Vec<ArcStr>,
}

/// An import: the module's top level and the slots to copy afterwards.
#[derive(Debug)]
pub struct ImportDef {
    pub module: &'static Module,
    pub main: &'static Proto,
    pub bindings: &'static [(u32, u32)],
}

#[derive(Debug)]
pub struct Proto {
    pub name: ArcStr,
    /// The function this chunk was compiled from (closures crossing tiers
    /// and tasks are described by their `FnDef`).
    pub def: &'static FnDef,
    pub code: Vec<Instr>,
    pub consts: Vec<Const>,
    /// Names read by 8-bit operands: fields, methods, variants.
    pub names: Vec<ArcStr>,
    /// The source span of each instruction (same length as `code`).
    pub spans: Vec<Span>,
    pub nregs: u32,
    pub nparams: u32,
    pub required: u32,
    /// Parameters captured by closures: (parameter register, cell register).
    pub cell_params: Vec<(u8, u8)>,
    /// For each parameter with a default: where its default's code starts
    /// (evaluated when the argument is missing, FORGE.md §4.7).
    pub default_starts: Vec<u32>,
    /// Where the body starts (after the defaults' code).
    pub body_start: u32,
    pub captures: Vec<Capture>,
    /// Register of each captured local's cell, indexed like `FnDef` cells.
    pub cell_base: u32,
    pub children: Vec<&'static Proto>,
    pub handlers: Vec<Handler>,
    pub structs: Vec<&'static StructDef>,
    pub enums: Vec<&'static EnumDef>,
    pub interfaces: Vec<&'static InterfaceDef>,
    pub impls: Vec<ImplDef>,
    pub imports: Vec<ImportDef>,
    /// Whether this is a module's top level (`?` on `Err` is fatal there).
    pub is_main: bool,
}

impl Proto {
    /// The innermost handler covering instruction `pc` (ranges nest, so
    /// it is the narrowest covering one).
    pub fn handler_at(&self, pc: usize) -> Option<&Handler> {
        self.handlers.iter().filter(|h| (h.start as usize) <= pc && pc < h.end as usize).min_by_key(|h| h.end - h.start)
    }
}
