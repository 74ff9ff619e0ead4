//! Statements: bindings, loops, `try`, declarations, imports.

use super::{FnCompiler, LoopCtx, Reg};
use crate::syntax::ast::*;
use crate::vm::bytecode::chunk::{Handler, ImplDef, ImportDef};
use crate::vm::bytecode::op::Op;

impl FnCompiler<'_> {
    /// Runs a block; with `dst`, leaves its value (FORGE.md §4.3) there.
    pub(crate) fn block_value(&mut self, b: &'static Block, dst: Option<Reg>) {
        let Some((last, rest)) = b.stmts.split_last() else {
            if let Some(d) = dst {
                self.abc(Op::LoadNull, d, 0, 0);
            }
            return;
        };
        for s in rest {
            self.stmt(s);
        }
        match (&last.kind, dst) {
            (StmtKind::Expr(e), Some(d)) => self.with_span(last.span, |c| c.expr_to(e, d)),
            _ => {
                self.stmt(last);
                if let Some(d) = dst {
                    self.abc(Op::LoadNull, d, 0, 0);
                }
            }
        }
    }

    /// Binds every top-level function before the first statement runs.
    pub(crate) fn hoist(&mut self, body: &'static Block) {
        for s in &body.stmts {
            if let StmtKind::Fn { decl, def, .. } = &s.kind {
                if let Slot::Global(g) = decl.slot {
                    let mark = self.regs.mark();
                    let t = self.regs.temp();
                    self.with_span(s.span, |c| c.closure_to(def, t));
                    self.abx(Op::DefGlobal, t, g as u16);
                    self.regs.release(mark);
                }
            }
        }
    }

    /// Binds `decl` to the value of `value` (stored: marked shared if needed).
    pub(crate) fn bind_expr(&mut self, decl: &'static VarDecl, value: &'static Expr) {
        match decl.slot {
            Slot::Local(i) if self.regs.local_reg(i).is_some() => {
                let r = self.regs.local(i);
                self.expr_store(value, r);
            }
            _ => {
                let t = self.expr_store_any(value);
                self.bind_reg(decl, t);
            }
        }
    }

    /// Binds `decl` to the value in register `r`.
    pub(crate) fn bind_reg(&mut self, decl: &'static VarDecl, r: Reg) {
        match decl.slot {
            Slot::Local(i) => match (self.regs.local_reg(i), self.regs.spill_slot(i)) {
                (Some(l), _) if l != r => {
                    self.abc(Op::Move, l, r, 0);
                }
                (Some(_), _) => {}
                (None, Some((s, k))) => {
                    self.abc(Op::SetSpill, s, k, r);
                }
                (None, None) => unreachable!("a local is kept or spilled"),
            },
            Slot::Cell(c) => {
                let cell = self.regs.cell(c);
                self.abc(Op::NewCell, cell, r, 0);
            }
            Slot::Global(g) => {
                self.abx(Op::DefGlobal, r, g as u16);
            }
            other => unreachable!("cannot bind {other:?}"),
        }
    }

    pub(crate) fn stmt(&mut self, s: &'static Stmt) {
        let saved = std::mem::replace(&mut self.span, s.span);
        let mark = self.regs.mark();
        self.stmt_kind(s);
        self.regs.release(mark);
        self.span = saved;
    }

    fn stmt_kind(&mut self, s: &'static Stmt) {
        match &s.kind {
            StmtKind::Expr(e) => match &e.kind {
                ExprKind::If { cond, then, otherwise } => {
                    self.with_span(e.span, |c| c.if_expr(cond, then, otherwise.as_ref(), None))
                }
                ExprKind::Match { subject, arms } => self.with_span(e.span, |c| c.match_expr(subject, arms, None)),
                _ => {
                    let t = self.regs.temp();
                    // `a.push(x)` as a statement: its result is dropped.
                    self.place_result_kept =
                        matches!(e.kind, ExprKind::PlaceCall { .. } | ExprKind::MethodCall { place: Some(_), .. });
                    self.expr_to(e, t);
                }
            },
            StmtKind::Let { decl, value } => self.bind_expr(decl, value),
            StmtKind::LetTuple { decls, value } => {
                let r = self.expr_any(value);
                for (i, d) in decls.iter().enumerate() {
                    let t = self.regs.temp();
                    self.abc(Op::GetIndexOr, t, r, i.min(255) as u8);
                    self.abc(Op::Share, t, 0, 0);
                    self.bind_reg(d, t);
                }
            }
            StmtKind::Assign { place, op, value } => self.assign(place, *op, value),
            StmtKind::Fn { decl, def, .. } => {
                if !matches!(decl.slot, Slot::Global(_)) {
                    let t = self.regs.temp();
                    self.closure_to(def, t);
                    match decl.slot {
                        Slot::Cell(c) => {
                            let cell = self.regs.cell(c);
                            self.abc(Op::NewCell, cell, t, 1);
                        }
                        _ => self.bind_reg(decl, t),
                    }
                }
            }
            StmtKind::Return(v) => {
                // A local variable's value needs no mark: every other place
                // that could hold it was marked when it was bound (the
                // binding rules in mod.rs), and the variable dies here.
                let (r, share) = match v {
                    Some(e @ Expr { kind: ExprKind::Var(VarRef { slot: Slot::Local(i), .. }), .. })
                        if self.regs.local_reg(*i).is_some() =>
                    {
                        (self.expr_any(e), 0)
                    }
                    Some(e) => (self.expr_any(e), Self::is_aliasing(e) as u8),
                    None => {
                        let t = self.regs.temp();
                        self.abc(Op::LoadNull, t, 0, 0);
                        (t, 0)
                    }
                };
                self.abc(Op::Return, r, share, 0);
            }
            StmtKind::While { cond, body } => {
                let top = self.here();
                let exit = self.cond_jump(cond);
                self.loop_body(body, top);
                self.patch_here(exit);
                self.finish_loop();
            }
            StmtKind::Loop(body) => {
                let top = self.here();
                self.loop_body(body, top);
                self.finish_loop();
            }
            StmtKind::For { first, second, iter, body } => self.for_stmt(first, second.as_ref(), iter, body),
            StmtKind::Repeat { count, body } => {
                let it = self.regs.temps(4);
                let n = self.expr_any(count);
                self.abc(Op::IterInit, it, n, 1);
                let top = self.here();
                self.abc(Op::IterNext, it, 0, 0);
                let exit = self.jump(Op::Jump, 0);
                self.loop_body(body, top);
                self.patch_here(exit);
                self.finish_loop();
            }
            StmtKind::Break | StmtKind::Continue => {
                let hole = self.jump(Op::Jump, 0);
                let is_break = matches!(s.kind, StmtKind::Break);
                match self.loops.last_mut() {
                    Some(l) if is_break => l.breaks.push(hole),
                    Some(l) => l.continues.push(hole),
                    None => self.fail("'break' or 'continue' outside of a loop"),
                }
            }
            StmtKind::Print { kind, value } => {
                let r = self.expr_any(value);
                let k = match kind {
                    PrintKind::Say => 0,
                    PrintKind::Yell => 1,
                    PrintKind::Whisper => 2,
                };
                self.abc(Op::Print, r, k, 0);
            }
            StmtKind::Struct(def) => {
                let defaults: Vec<&'static Expr> = def.fields.iter().filter_map(|f| f.default.as_ref()).collect();
                let base = self.regs.temps(defaults.len().max(1) as u32);
                for (i, d) in defaults.iter().enumerate() {
                    self.expr_store(d, base + i as u8);
                }
                self.structs.push(def);
                let idx = (self.structs.len() - 1) as u16;
                self.abx(Op::DefStruct, base, idx);
                self.bind_reg(&def.decl, base);
            }
            StmtKind::Enum { decl, def } => {
                let base = self.regs.temps(1 + def.variants.len() as u32);
                self.enums.push(def);
                let idx = (self.enums.len() - 1) as u16;
                self.abx(Op::DefEnum, base, idx);
                self.bind_reg(decl, base);
                for (i, v) in def.variants.iter().enumerate() {
                    self.bind_reg(&v.decl, base + 1 + i as u8);
                }
            }
            StmtKind::Interface { decl, def } => {
                let t = self.regs.temp();
                self.interfaces.push(def);
                let idx = (self.interfaces.len() - 1) as u16;
                self.abx(Op::DefInterface, t, idx);
                self.bind_reg(decl, t);
            }
            StmtKind::Impl { type_name, interface, methods } => {
                let base = self.regs.temps(methods.len().max(1) as u32);
                for (i, m) in methods.iter().enumerate() {
                    self.closure_to(m, base + i as u8);
                }
                self.impls.push(ImplDef {
                    type_name: type_name.clone(),
                    interface: interface.clone(),
                    methods: methods.iter().map(|m| m.name.clone()).collect(),
                });
                let idx = (self.impls.len() - 1) as u16;
                self.abx(Op::Impl, base, idx);
            }
            StmtKind::Import { module, bindings, names, path } => match module {
                Some(m) => {
                    let m: &'static Module = m;
                    let main = match self.protos.get(&(&*m.main as *const FnDef as usize)).copied() {
                        Some(p) => Ok(p),
                        None => super::FnCompiler::new(&m.main, true, self.globals, self.protos).finish_function(),
                    };
                    match main {
                        Ok(main) => {
                            self.imports.push(ImportDef { module: m, main, bindings });
                            let idx = (self.imports.len() - 1) as u16;
                            self.abx(Op::Import, 0, idx);
                        }
                        Err(e) => {
                            if self.error.is_none() {
                                self.error = Some(e);
                            }
                        }
                    }
                }
                None if names.as_ref().is_some_and(|n| n.is_empty()) => {}
                None => {
                    let k = self.k_str(&arcstr::format!("cannot import '{path}': import cycle"));
                    self.abx(Op::Fail, 0, k);
                }
            },
            StmtKind::Wait(e) => {
                let r = self.expr_any(e);
                self.abc(Op::Sleep, r, 0, 0);
            }
            StmtKind::Unpack { pattern, value } => {
                let r = self.expr_any(value);
                match pattern {
                    UnpackPattern::Object(decls) => {
                        for d in decls {
                            let t = self.regs.temp();
                            let k = self.k_name(&d.name);
                            self.abc(Op::GetFieldOr, t, r, k);
                            self.abc(Op::Share, t, 0, 0);
                            self.bind_reg(d, t);
                        }
                    }
                    UnpackPattern::Array { items, rest } => {
                        for (i, d) in items.iter().enumerate() {
                            let t = self.regs.temp();
                            self.abc(Op::GetIndexOr, t, r, i.min(255) as u8);
                            self.abc(Op::Share, t, 0, 0);
                            self.bind_reg(d, t);
                        }
                        if let Some(d) = rest {
                            let t = self.regs.temp();
                            self.abc(Op::SliceFrom, t, r, items.len().min(255) as u8);
                            self.bind_reg(d, t);
                        }
                    }
                }
            }
            StmtKind::TryCatch { body, name, handler } => {
                let start = self.here() as u32;
                self.block_value(body, None);
                let end = self.here() as u32;
                let done = self.jump(Op::Jump, 0);
                let target = self.here() as u32;
                let err = self.regs.temp();
                self.handlers.push(Handler { start, end, target, error_reg: Some(err) });
                self.bind_reg(name, err);
                self.block_value(handler, None);
                self.patch_here(done);
            }
            StmtKind::Check { value, kind } => {
                let r = self.expr_any(value);
                match kind {
                    CheckKind::Truthy => {
                        self.abc(Op::Check, r, r, 0);
                    }
                    CheckKind::NotEmpty => {
                        self.abc(Op::Check, r, r, 1);
                    }
                    CheckKind::Between(lo, hi) => {
                        let ok = self.regs.temp();
                        let lo_r = self.expr_any(lo);
                        self.abc(Op::Ge, ok, r, lo_r);
                        let skip = self.jump(Op::JumpIfFalse, ok);
                        let hi_r = self.expr_any(hi);
                        self.abc(Op::Le, ok, r, hi_r);
                        self.patch_here(skip);
                        self.abc(Op::Check, r, ok, 0);
                    }
                }
            }
            StmtKind::Decorator(d) => {
                if d.name.as_str() == "server" {
                    let k = self.k_str(&arcstr::literal!(
                        "@server: HTTP services (forge serve) are not available yet in this version of forge"
                    ));
                    self.with_span(d.span, |c| c.abx(Op::Fail, 0, k));
                }
            }
        }
    }

    /// A loop body: `continue` jumps to `top`, the body ends with a jump back.
    fn loop_body(&mut self, body: &'static Block, top: usize) {
        self.loops.push(LoopCtx { breaks: Vec::new(), continues: Vec::new() });
        self.block_value(body, None);
        // `continue` goes through the back edge too: it is the loop's safepoint.
        let back = self.here();
        self.jump_back(top);
        let ctx = self.loops.last_mut().expect("pushed above");
        let continues = std::mem::take(&mut ctx.continues);
        for c in continues {
            self.patch_to(c, back);
        }
    }

    /// Points the loop's `break`s at the current position.
    fn finish_loop(&mut self) {
        if let Some(ctx) = self.loops.pop() {
            for b in ctx.breaks {
                self.patch_here(b);
            }
        }
    }

    fn for_stmt(
        &mut self,
        first: &'static VarDecl,
        second: Option<&'static VarDecl>,
        iter: &'static Expr,
        body: &'static Block,
    ) {
        if let (ExprKind::Range(lo, hi), None) = (&iter.kind, second) {
            // A counted loop: no array is built.
            let c = self.regs.temps(3);
            self.expr_to(lo, c);
            self.expr_to(hi, c + 1);
            self.with_span(iter.span, |cc| cc.abc(Op::ForRangePrep, c, 0, 0));
            let top = self.here();
            self.abc(Op::Lt, c + 2, c, c + 1);
            let exit = self.jump(Op::JumpIfFalse, c + 2);
            self.bind_reg(first, c);
            self.loops.push(LoopCtx { breaks: Vec::new(), continues: Vec::new() });
            self.block_value(body, None);
            let next = self.here();
            self.abc(Op::AddI, c, c, 1);
            self.jump_back(top);
            let ctx = self.loops.last_mut().expect("pushed above");
            let continues = std::mem::take(&mut ctx.continues);
            for h in continues {
                self.patch_to(h, next);
            }
            self.patch_here(exit);
            self.finish_loop();
            return;
        }
        let it = self.regs.temps(4);
        let src = self.expr_any(iter);
        self.with_span(iter.span, |c| c.abc(Op::IterInit, it, src, 0));
        let top = self.here();
        self.with_span(iter.span, |c| c.abc(Op::IterNext, it, 0, second.is_some() as u8));
        let exit = self.jump(Op::Jump, 0);
        match second {
            Some(s) => {
                self.bind_reg(first, it + 3);
                self.bind_reg(s, it + 2);
            }
            None => self.bind_reg(first, it + 2),
        }
        self.loop_body(body, top);
        self.patch_here(exit);
        self.finish_loop();
    }
}
