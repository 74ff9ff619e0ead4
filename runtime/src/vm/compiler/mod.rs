//! The compiler: resolved AST → bytecode (`Proto`s).
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | the program compiler, the per-function emitter, constants, jumps |
//! | `regalloc.rs` | register layout of a frame and temporaries |
//! | `expr.rs` | expressions |
//! | `stmt.rs` | statements, loops, handlers |
//! | `place.rs` | assignments and in-place updates |
//! | `pattern.rs` | `match` arms |
//!
//! Frame layout: registers `0 .. locals` are the function's locals
//! (parameters first, the resolver's `Local` slots), `locals .. locals +
//! cells` hold the cells of captured locals, temporaries follow.
//!
//! Sharing. Arrays and objects are values, but registers hold handles, so
//! two variables could name one heap object. The compiler marks an object
//! `shared` (`Share`) whenever a value read from a variable, a field, an
//! element or a cell is stored somewhere that outlives the expression: a
//! variable, a field or element, an argument of a Forge function, a return
//! value. A write through a place first makes the object unshared
//! (`Unique`, `GetFieldW`, `GetIndexW`), copying it if needed. Values
//! built by an expression (literals, results of calls and operators) are
//! fresh and need no mark.

mod expr;
mod pattern;
mod place;
mod regalloc;
mod stmt;

use std::collections::HashMap;
use std::sync::Arc;

use arcstr::ArcStr;

use super::bytecode::chunk::{Const, Handler, ImplDef, ImportDef, Proto};
use super::bytecode::op::{Instr, Op, MAX_JUMP};
use crate::program::Program;
use crate::syntax::ast::{EnumDef, FnDef, GlobalInfo, InterfaceDef, Module, Slot, StructDef};
use crate::syntax::diagnostic::SyntaxError;
use crate::syntax::span::Span;
use regalloc::Regs;

/// Compiled functions by the address of their definition (looked up for
/// every closure a task imports: a fast hash, not SipHash).
pub type ProtoMap = rustc_hash::FxHashMap<usize, &'static Proto>;

/// A register index.
pub type Reg = u8;

/// The compiled program: every function's chunk, built once.
pub struct VmProgram {
    pub program: &'static Program,
    pub main: &'static Proto,
    /// The chunk of every function, by its definition (closures that arrive
    /// from another task are rebuilt from their `FnDef`).
    pub protos: ProtoMap,
    /// By global slot: whether code that a spawned task may run can touch
    /// the slot ([`task_globals`]). A spawn copies only these globals.
    pub task_globals: Vec<bool>,
}

impl VmProgram {
    pub fn proto_of(&self, def: &FnDef) -> Option<&'static Proto> {
        self.protos.get(&(def as *const FnDef as usize)).copied()
    }
}

/// Compiles a loaded program. Errors are limits of the bytecode format (a
/// function with more than 200 live registers, say), reported like syntax
/// errors.
pub fn compile_program(program: &'static Program) -> Result<&'static VmProgram, SyntaxError> {
    let mut protos = ProtoMap::default();
    let main = compile_module(&program.main, &program.globals, &mut protos)?;
    let task_globals = task_globals(main, &protos, program.globals.len());
    Ok(Box::leak(Box::new(VmProgram { program, main, protos, task_globals })))
}

/// The global slots a spawned task may ever touch. A task runs functions,
/// methods, spawn blocks and imported modules' top levels — every chunk but
/// the main file's top level — so a global named only there (say, the
/// array of handles a top-level loop fills while it spawns) is never read
/// by a task, and a spawn need not copy it: copying it would make every
/// spawn cost as much as that array, and every task that stays parked keep
/// its own copy (memory quadratic in the number of tasks).
///
/// Conservative: every slot a global instruction of any other chunk names,
/// and every slot an `import` writes, wherever the import is.
fn task_globals(main: &'static Proto, protos: &ProtoMap, slots: usize) -> Vec<bool> {
    let mut used = vec![false; slots];
    let mut mark = |slot: usize| {
        if let Some(u) = used.get_mut(slot) {
            *u = true;
        }
    };
    for proto in protos.values().copied().chain(std::iter::once(main)) {
        for def in &proto.imports {
            def.bindings.iter().for_each(|&(src, dst)| {
                mark(src as usize);
                mark(dst as usize);
            });
            def.module.globals.iter().for_each(|(_, slot)| mark(*slot as usize));
        }
        if std::ptr::eq(proto, main) {
            continue;
        }
        for ins in &proto.code {
            if matches!(ins.op(), Op::GetGlobal | Op::SetGlobal | Op::DefGlobal) {
                mark(ins.bx());
            }
        }
    }
    used
}

fn compile_module(
    module: &'static Module,
    globals: &'static [GlobalInfo],
    protos: &mut ProtoMap,
) -> Result<&'static Proto, SyntaxError> {
    let def: &'static FnDef = &module.main;
    let mut c = FnCompiler::new(def, true, globals, protos);
    c.program_main = true;
    c.finish_function()
}

/// A jump whose target is patched later.
#[derive(Clone, Copy)]
pub(crate) struct JumpHole(usize);

pub(crate) struct LoopCtx {
    breaks: Vec<JumpHole>,
    continues: Vec<JumpHole>,
}

/// Compiles one function.
pub(crate) struct FnCompiler<'p> {
    pub(crate) def: &'static FnDef,
    pub(crate) code: Vec<Instr>,
    pub(crate) spans: Vec<Span>,
    consts: Vec<Const>,
    const_index: HashMap<ConstKey, u16>,
    /// Field, method and variant names (8-bit operands), apart from the
    /// constants so that many string literals never crowd them out.
    names: Vec<ArcStr>,
    name_index: HashMap<ArcStr, u8>,
    pub(crate) regs: Regs,
    pub(crate) span: Span,
    pub(crate) loops: Vec<LoopCtx>,
    pub(crate) children: Vec<&'static Proto>,
    pub(crate) handlers: Vec<Handler>,
    pub(crate) structs: Vec<&'static StructDef>,
    pub(crate) enums: Vec<&'static EnumDef>,
    pub(crate) interfaces: Vec<&'static InterfaceDef>,
    pub(crate) impls: Vec<ImplDef>,
    pub(crate) imports: Vec<ImportDef>,
    /// A module's top level (its functions are hoisted).
    pub(crate) is_main: bool,
    /// The program's own top level (`?` on `Err` is fatal there).
    pub(crate) program_main: bool,
    pub(crate) protos: &'p mut ProtoMap,
    /// The program's global slots (for the immutability of imported names).
    pub(crate) globals: &'static [GlobalInfo],
    pub(crate) error: Option<SyntaxError>,
    /// Set just before compiling a `push`/`pop` on a place whose result
    /// stays in that place or is dropped; otherwise the result, which is
    /// the place's own array, is marked shared (see `place_call`).
    pub(crate) place_result_kept: bool,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum ConstKey {
    Int(i64),
    Float(u64),
    Str(ArcStr),
}

impl<'p> FnCompiler<'p> {
    pub(crate) fn new(
        def: &'static FnDef,
        is_main: bool,
        globals: &'static [GlobalInfo],
        protos: &'p mut ProtoMap,
    ) -> FnCompiler<'p> {
        FnCompiler {
            def,
            code: Vec::new(),
            spans: Vec::new(),
            consts: Vec::new(),
            const_index: HashMap::new(),
            names: Vec::new(),
            name_index: HashMap::new(),
            regs: Regs::new(def.locals, def.cells),
            span: def.span,
            loops: Vec::new(),
            children: Vec::new(),
            handlers: Vec::new(),
            structs: Vec::new(),
            enums: Vec::new(),
            interfaces: Vec::new(),
            impls: Vec::new(),
            imports: Vec::new(),
            is_main,
            program_main: false,
            protos,
            globals,
            error: None,
            place_result_kept: false,
        }
    }

    /// Records the first error of this function (compilation goes on so the
    /// code stays well-formed; the error is returned at the end).
    pub(crate) fn fail(&mut self, message: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(SyntaxError::new(message, self.span));
        }
    }

    // ---- emission -------------------------------------------------------

    pub(crate) fn emit(&mut self, i: Instr) -> usize {
        self.code.push(i);
        self.spans.push(self.span);
        self.code.len() - 1
    }

    pub(crate) fn abc(&mut self, op: Op, a: Reg, b: u8, c: u8) -> usize {
        self.emit(Instr::abc(op, a, b, c))
    }

    pub(crate) fn abx(&mut self, op: Op, a: Reg, bx: u16) -> usize {
        self.emit(Instr::abx(op, a, bx))
    }

    pub(crate) fn here(&self) -> usize {
        self.code.len()
    }

    /// Emits a jump (or conditional jump on `a`) to be patched.
    pub(crate) fn jump(&mut self, op: Op, a: Reg) -> JumpHole {
        JumpHole(self.emit(Instr::asbx(op, a, 0)))
    }

    /// Points a jump at the current position.
    pub(crate) fn patch_here(&mut self, hole: JumpHole) {
        let target = self.here();
        self.patch_to(hole, target);
    }

    pub(crate) fn patch_to(&mut self, hole: JumpHole, target: usize) {
        let offset = target as i64 - (hole.0 as i64 + 1);
        if offset.abs() > MAX_JUMP as i64 {
            self.fail("function too large: a jump spans more than 32767 instructions");
            return;
        }
        self.code[hole.0] = self.code[hole.0].with_sbx(offset as i32);
    }

    /// A backward jump to `target`.
    /// The back edge of a loop: a jump that is also the loop's safepoint
    /// (every iteration passes it, so a loop can be preempted and collected).
    pub(crate) fn jump_back(&mut self, target: usize) {
        let hole = self.jump(Op::Loop, 0);
        self.patch_to(hole, target);
    }

    // ---- constants ------------------------------------------------------

    fn constant(&mut self, key: ConstKey, value: Const) -> u16 {
        if let Some(&i) = self.const_index.get(&key) {
            return i;
        }
        if self.consts.len() >= u16::MAX as usize {
            self.fail("function too large: more than 65535 constants");
            return 0;
        }
        let i = self.consts.len() as u16;
        self.consts.push(value);
        self.const_index.insert(key, i);
        i
    }

    pub(crate) fn k_str(&mut self, s: &ArcStr) -> u16 {
        self.constant(ConstKey::Str(s.clone()), Const::Str(s.clone()))
    }

    pub(crate) fn k_int(&mut self, n: i64) -> u16 {
        self.constant(ConstKey::Int(n), Const::Int(n))
    }

    pub(crate) fn k_float(&mut self, f: f64) -> u16 {
        self.constant(ConstKey::Float(f.to_bits()), Const::Float(f))
    }

    /// The index of a field, method or variant name in the chunk's name
    /// table (an 8-bit operand); more than 256 distinct names in one
    /// function is a limit.
    pub(crate) fn k_name(&mut self, s: &ArcStr) -> u8 {
        if let Some(&i) = self.name_index.get(s) {
            return i;
        }
        if self.names.len() > u8::MAX as usize {
            self.fail("function too large: more than 256 distinct field or method names");
            return 0;
        }
        let i = self.names.len() as u8;
        self.names.push(s.clone());
        self.name_index.insert(s.clone(), i);
        i
    }

    // ---- functions ------------------------------------------------------

    /// Compiles a nested function and returns its index among the children.
    pub(crate) fn child(&mut self, def: &'static Arc<FnDef>) -> u16 {
        let def: &'static FnDef = def;
        let compiled = FnCompiler::new(def, false, self.globals, self.protos).finish_function();
        match compiled {
            Ok(p) => {
                self.children.push(p);
                (self.children.len() - 1) as u16
            }
            Err(e) => {
                if self.error.is_none() {
                    self.error = Some(e);
                }
                0
            }
        }
    }

    /// Compiles the whole function body and builds its `Proto`.
    pub(crate) fn finish_function(mut self) -> Result<&'static Proto, SyntaxError> {
        let def = self.def;
        // Parameter defaults: evaluated into their register when the
        // argument is missing; the machine starts at the first default
        // that is needed.
        let mut default_starts = Vec::new();
        for (i, p) in def.params.iter().enumerate() {
            if let Some(d) = &p.default {
                default_starts.push(self.here() as u32);
                self.span = d.span;
                self.expr_to(d, i as Reg);
            }
        }
        let body_start = self.here() as u32;
        // Every call passes a safepoint: recursion allocates without loops.
        // (A call made by the `Call` opcode checks the budget itself and
        // enters at `body_start + 1`: this instruction must stay first.)
        self.abc(Op::Safepoint, 0, 0, 0);
        if let Some((r, n)) = self.regs.spill_array() {
            self.abx(Op::NewSpill, r, n as u16);
        }
        if def.params.len() as u32 > self.regs.kept() {
            self.fail(format!("function '{}' has too many parameters", def.name));
        }
        let mut cell_params = Vec::new();
        for (i, p) in def.params.iter().enumerate() {
            if let Slot::Cell(c) = p.decl.slot {
                let cell = self.regs.cell(c);
                cell_params.push((i as u8, cell));
                self.abc(Op::NewCell, cell, i as u8, 0);
            }
        }
        if self.is_main {
            self.hoist(&def.body);
        }
        let result = self.regs.temp();
        self.block_value(&def.body, Some(result));
        self.span = def.span;
        self.abc(Op::Return, result, 0, 0);
        if self.regs.overflowed() {
            self.fail(format!(
                "function '{}' is too large for the VM: more than {} local variables, or an expression nested too deeply",
                def.name,
                regalloc::MAX_SPILLED + 150
            ));
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let proto: &'static Proto = Box::leak(Box::new(Proto {
            name: def.name.clone(),
            def,
            code: self.code,
            consts: self.consts,
            names: self.names,
            spans: self.spans,
            nregs: self.regs.max_used(),
            nparams: def.params.len() as u32,
            required: def.required_params() as u32,
            cell_params,
            default_starts,
            body_start,
            captures: def.captures.clone(),
            cell_base: self.regs.cell(0) as u32,
            children: self.children,
            handlers: self.handlers,
            structs: self.structs,
            enums: self.enums,
            interfaces: self.interfaces,
            impls: self.impls,
            imports: self.imports,
            is_main: self.is_main,
        }));
        self.protos.insert(def as *const FnDef as usize, proto);
        Ok(proto)
    }
}
