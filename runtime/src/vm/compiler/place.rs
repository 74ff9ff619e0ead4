//! Writes through places (FORGE.md §2, §4.1): `v = e`, `v.f[i] op= e`,
//! and `push`/`pop` on a place. Every container on the path is made
//! unshared first (copy on write), so a write never shows through another
//! variable.

use super::{FnCompiler, Reg};
use crate::syntax::ast::*;
use crate::vm::bytecode::op::Op;

fn arith(op: BinOp) -> Op {
    match op {
        BinOp::Add => Op::Add,
        BinOp::Sub => Op::Sub,
        BinOp::Mul => Op::Mul,
        BinOp::Div => Op::Div,
        BinOp::Mod => Op::Mod,
        BinOp::Eq => Op::Eq,
        BinOp::Ne => Op::Ne,
        BinOp::Lt => Op::Lt,
        BinOp::Le => Op::Le,
        BinOp::Gt => Op::Gt,
        BinOp::Ge => Op::Ge,
    }
}

/// Whether two places name the same storage (`v = push(v, x)`).
fn same_place(a: &Place, b: &Place) -> bool {
    a.root.slot == b.root.slot
        && a.path.len() == b.path.len()
        && a.path.iter().zip(&b.path).all(|(x, y)| matches!((x, y), (PathSeg::Field(p), PathSeg::Field(q)) if p == q))
}

/// Where a place's root lives, once loaded into a register.
enum Root {
    /// A local: the register is the variable.
    Local(Reg),
    /// Loaded into a temporary; written back with the given store.
    Loaded(Reg),
}

impl FnCompiler<'_> {
    /// `place op= value`.
    pub(crate) fn assign(&mut self, place: &'static Place, op: Option<BinOp>, value: &'static Expr) {
        if let Slot::Global(g) = place.root.slot {
            let info = &self.globals[g as usize];
            if info.imported && !info.mutable {
                let k = self.k_str(&arcstr::format!("cannot assign to immutable variable '{}'", place.root.name));
                self.abx(Op::Fail, 0, k);
                return;
            }
        }
        if place.path.is_empty() {
            return self.assign_var(place, op, value);
        }
        // The value first, then the path's indexes, then the walk (the
        // interpreter's order).
        let keeps_place = matches!(&value.kind, ExprKind::PlaceCall { place: p, .. } | ExprKind::MethodCall { place: Some(p), .. } if same_place(p, place));
        self.place_result_kept = keeps_place;
        let v = if keeps_place { self.expr_any(value) } else { self.expr_store_any(value) };
        let indexes = self.path_indexes(&place.path);
        let Some(root) = self.load_root(place) else { return };
        let r = self.root_reg(&root);
        self.with_span(place.span, |c| c.abc(Op::Unique, r, 0, 0));
        let (last, init) = place.path.split_last().expect("non-empty path");
        let mut cur = r;
        for (seg, idx) in init.iter().zip(&indexes) {
            let next = self.regs.temp();
            self.with_span(place.span, |c| c.walk_for_write(seg, *idx, cur, next));
            cur = next;
        }
        let idx = indexes[init.len()];
        self.with_span(place.span, |c| {
            let v = match op {
                None => v,
                Some(op) => {
                    let old = c.regs.temp();
                    c.read_seg(last, idx, cur, old);
                    c.abc(arith(op), old, old, v);
                    old
                }
            };
            match last {
                PathSeg::Field(name) => {
                    let k = c.k_name(name);
                    c.abc(Op::SetField, cur, k, v);
                }
                PathSeg::Index(_) => {
                    c.abc(Op::SetIndex, cur, idx, v);
                }
            }
        });
        self.store_root(place, root);
    }

    /// `v = e` / `v op= e` on a plain variable.
    fn assign_var(&mut self, place: &'static Place, op: Option<BinOp>, value: &'static Expr) {
        let root = &place.root;
        let keeps_place = matches!(&value.kind, ExprKind::PlaceCall { place: p, .. } | ExprKind::MethodCall { place: Some(p), .. } if same_place(p, place));
        match root.slot {
            Slot::Local(i) if self.regs.local_reg(i).is_some() => {
                let r = self.regs.local(i);
                match op {
                    None if keeps_place => {
                        self.place_result_kept = true;
                        self.expr_to(value, r)
                    }
                    None => self.expr_store(value, r),
                    Some(op) => self.compound_into(r, op, value),
                }
            }
            Slot::Undefined | Slot::Builtin(_) => {
                let k = self.k_str(&arcstr::format!("undefined variable: {}", root.name));
                self.abx(Op::Fail, 0, k);
            }
            _ => {
                let t = self.regs.temp();
                match op {
                    None if keeps_place => {
                        self.place_result_kept = true;
                        self.expr_to(value, t)
                    }
                    None => self.expr_store(value, t),
                    // The value first: evaluating it may change the
                    // variable (a closure over it), as in the interpreter.
                    Some(op) => {
                        let v = self.expr_any(value);
                        self.read_var(root, t);
                        self.with_span(place.span, |c| c.abc(arith(op), t, t, v));
                    }
                }
                self.write_var(root, t);
            }
        }
    }

    /// `r op= value` for a local register (`i += 1` compiles to `AddI`).
    fn compound_into(&mut self, r: Reg, op: BinOp, value: &'static Expr) {
        if let (BinOp::Add | BinOp::Sub, ExprKind::Int(n)) = (op, &value.kind) {
            if (-127..=127).contains(n) {
                let fop = if op == BinOp::Add { Op::AddI } else { Op::SubI };
                self.abc(fop, r, r, *n as i8 as u8);
                return;
            }
        }
        let v = self.expr_any(value);
        self.abc(arith(op), r, r, v);
    }

    /// Stores register `r` into a variable (not a declaration).
    pub(crate) fn write_var(&mut self, v: &'static VarRef, r: Reg) {
        self.with_span(v.span, |c| match v.slot {
            Slot::Local(i) => match (c.regs.local_reg(i), c.regs.spill_slot(i)) {
                (Some(l), _) if l != r => {
                    c.abc(Op::Move, l, r, 0);
                }
                (Some(_), _) => {}
                (None, Some((s, k))) => {
                    c.abc(Op::SetSpill, s, k, r);
                }
                (None, None) => unreachable!("a local is kept or spilled"),
            },
            Slot::Cell(i) => {
                let cell = c.regs.cell(i);
                c.abc(Op::SetCell, cell, r, 0);
            }
            Slot::Upvalue(u) => {
                c.abc(Op::SetUpval, u as u8, r, 0);
            }
            Slot::Global(g) => {
                c.abx(Op::SetGlobal, r, g as u16);
            }
            _ => {
                let k = c.k_str(&arcstr::format!("undefined variable: {}", v.name));
                c.abx(Op::Fail, 0, k);
            }
        })
    }

    /// Registers holding the evaluated index expressions of a path (0 for
    /// field steps).
    fn path_indexes(&mut self, path: &'static [PathSeg]) -> Vec<Reg> {
        path.iter()
            .map(|seg| match seg {
                PathSeg::Field(_) => 0,
                PathSeg::Index(e) => {
                    let t = self.regs.temp();
                    self.expr_to(e, t);
                    t
                }
            })
            .collect()
    }

    fn load_root(&mut self, place: &'static Place) -> Option<Root> {
        match place.root.slot {
            Slot::Local(i) if self.regs.local_reg(i).is_some() => Some(Root::Local(self.regs.local(i))),
            Slot::Undefined | Slot::Builtin(_) => {
                let k = self.k_str(&arcstr::format!("undefined variable: {}", place.root.name));
                self.abx(Op::Fail, 0, k);
                None
            }
            _ => {
                let t = self.regs.temp();
                self.read_var(&place.root, t);
                Some(Root::Loaded(t))
            }
        }
    }

    fn root_reg(&self, root: &Root) -> Reg {
        match root {
            Root::Local(r) | Root::Loaded(r) => *r,
        }
    }

    /// Writes a loaded root back (its handle may have changed when it was
    /// made unshared).
    fn store_root(&mut self, place: &'static Place, root: Root) {
        if let Root::Loaded(r) = root {
            self.write_var(&place.root, r);
        }
    }

    /// `next := cur.seg`, made unshared and written back into `cur`.
    fn walk_for_write(&mut self, seg: &PathSeg, idx: Reg, cur: Reg, next: Reg) {
        match seg {
            PathSeg::Field(name) => {
                let k = self.k_name(name);
                self.abc(Op::GetFieldW, next, cur, k);
            }
            PathSeg::Index(_) => {
                self.abc(Op::GetIndexW, next, cur, idx);
            }
        }
    }

    fn read_seg(&mut self, seg: &PathSeg, idx: Reg, cur: Reg, dst: Reg) {
        match seg {
            PathSeg::Field(name) => {
                let k = self.k_name(name);
                self.abc(Op::GetField, dst, cur, k);
            }
            PathSeg::Index(_) => {
                self.abc(Op::GetIndex, dst, cur, idx);
            }
        }
    }

    /// The current value of a place (a read).
    pub(crate) fn place_value(&mut self, place: &'static Place, dst: Reg) {
        let indexes = self.path_indexes(&place.path);
        self.read_var(&place.root, dst);
        for (seg, idx) in place.path.iter().zip(indexes) {
            self.with_span(place.span, |c| c.read_seg(seg, idx, dst, dst));
        }
    }

    /// `push(v, x)` / `v.push(x)` (and `pop`) on a place: updated in place.
    /// A user method or function field named like that wins at run time.
    pub(crate) fn place_call(
        &mut self,
        place: &'static Place,
        _builtin: Option<u32>,
        name: &'static arcstr::ArcStr,
        args: &'static [Expr],
        dst: Reg,
    ) {
        let kept = std::mem::take(&mut self.place_result_kept);
        if args.len() > 200 {
            self.fail("too many arguments in one call");
            return;
        }
        let indexes = self.path_indexes(&place.path);
        let Some(root) = self.load_root(place) else { return };
        let r = self.root_reg(&root);
        self.with_span(place.span, |c| c.abc(Op::Unique, r, 0, 0));
        let mut cur = r;
        for (seg, idx) in place.path.iter().zip(&indexes) {
            let next = self.regs.temp();
            self.with_span(place.span, |c| c.walk_for_write(seg, *idx, cur, next));
            cur = next;
        }
        self.store_root(place, root);
        let w = self.regs.temps(2 + args.len() as u32);
        self.abc(Op::Move, w + 1, cur, 0);
        for (i, a) in args.iter().enumerate() {
            self.expr_to(a, w + 2 + i as u8);
        }
        let k = self.k_name(name);
        self.abc(Op::CallPlace, w, args.len() as u8, k);
        // `push` returns the place's own array: used elsewhere, it has two
        // holders now.
        if !kept {
            self.abc(Op::Share, w, 0, 0);
        }
        if w != dst {
            self.abc(Op::Move, dst, w, 0);
        }
    }
}
