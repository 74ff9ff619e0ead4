//! Expressions. `expr_to(e, dst)` leaves `e`'s value in register `dst`;
//! `expr_any(e)` returns a register holding it (a local's own register when
//! `e` is that local).

use std::sync::Arc;

use super::{FnCompiler, Reg};
use crate::syntax::ast::*;
use crate::vm::bytecode::op::{Instr, Op};

impl FnCompiler<'_> {
    pub(crate) fn with_span<T>(&mut self, span: crate::syntax::span::Span, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = std::mem::replace(&mut self.span, span);
        let r = f(self);
        self.span = saved;
        r
    }

    /// The register of `e` if it is a plain local, else `e` compiled into a
    /// new temporary.
    pub(crate) fn expr_any(&mut self, e: &'static Expr) -> Reg {
        if let ExprKind::Var(VarRef { slot: Slot::Local(i), .. }) = e.kind {
            if let Some(r) = self.regs.local_reg(i) {
                return r;
            }
        }
        let t = self.regs.temp();
        self.expr_to(e, t);
        t
    }

    /// Whether `e`'s value may also be held by another place (see "Sharing"
    /// in `mod.rs`): anything but a value the expression built itself.
    pub(crate) fn is_aliasing(e: &Expr) -> bool {
        !matches!(
            e.kind,
            ExprKind::Null
                | ExprKind::Bool(_)
                | ExprKind::Int(_)
                | ExprKind::Float(_)
                | ExprKind::Str(_)
                | ExprKind::Template(_)
                | ExprKind::Array(_)
                | ExprKind::Object(_)
                | ExprKind::Unary(..)
                | ExprKind::Binary(..)
                | ExprKind::And(..)
                | ExprKind::Or(..)
                | ExprKind::Range(..)
                | ExprKind::Call { .. }
                | ExprKind::MethodCall { .. }
                | ExprKind::Lambda(_)
                | ExprKind::StructLit { .. }
                | ExprKind::Spawn { .. }
                | ExprKind::Squad(_)
                | ExprKind::Await(_)
        )
    }

    /// Whether evaluating `e` may run code (a call of any kind) that changes
    /// variables or containers in place. An operand evaluated before such an
    /// operand must keep the value it had (`a + f()` where `f` pushes to
    /// `a`): see `operand` and `protect`.
    pub(crate) fn has_effects(e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Var(_)
            | ExprKind::Lambda(_) => false,
            ExprKind::Template(parts) => {
                parts.iter().any(|p| matches!(p, TemplatePart::Expr(x) if Self::has_effects(x)))
            }
            ExprKind::Array(items) => items.iter().any(|i| match i {
                ArrayItem::Item(x) | ArrayItem::Spread(x) => Self::has_effects(x),
            }),
            ExprKind::Object(items) => items.iter().any(|i| match i {
                ObjectItem::Field(_, x) | ObjectItem::Spread(x) => Self::has_effects(x),
            }),
            ExprKind::StructLit { fields, .. } => fields.iter().any(|(_, x)| Self::has_effects(x)),
            ExprKind::Unary(_, x) | ExprKind::Field(x, _) | ExprKind::Question(x) | ExprKind::Must(x) => {
                Self::has_effects(x)
            }
            ExprKind::Binary(_, a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Range(a, b)
            | ExprKind::Index(a, b) => Self::has_effects(a) || Self::has_effects(b),
            _ => true,
        }
    }

    /// After `e` was evaluated into `r`: when an operand still to come may
    /// change `e`'s variable in place, mark the value shared, so that change
    /// copies instead of showing through `r`.
    pub(crate) fn protect(&mut self, e: &Expr, r: Reg, later_effects: bool) {
        if later_effects && Self::is_aliasing(e) {
            self.abc(Op::Share, r, 0, 0);
        }
    }

    /// An operand in a register that keeps its value while the operands
    /// after it run (`later_effects`): a local variable's own register
    /// would see their writes, so it is copied first.
    pub(crate) fn operand(&mut self, e: &'static Expr, later_effects: bool) -> Reg {
        if later_effects && Self::is_aliasing(e) {
            let t = self.regs.temp();
            self.expr_to(e, t);
            self.abc(Op::Share, t, 0, 0);
            return t;
        }
        self.expr_any(e)
    }

    /// `e` into `dst`, marked shared when it may be held elsewhere too: for
    /// values that are about to be stored.
    pub(crate) fn expr_store(&mut self, e: &'static Expr, dst: Reg) {
        self.expr_to(e, dst);
        if Self::is_aliasing(e) {
            self.abc(Op::Share, dst, 0, 0);
        }
    }

    /// Like `expr_any`, for a value about to be stored.
    pub(crate) fn expr_store_any(&mut self, e: &'static Expr) -> Reg {
        let r = self.expr_any(e);
        if Self::is_aliasing(e) {
            self.abc(Op::Share, r, 0, 0);
        }
        r
    }

    pub(crate) fn load_int(&mut self, n: i64, dst: Reg) {
        if (-32767..=32767).contains(&n) {
            self.emit(Instr::asbx(Op::LoadI, dst, n as i32));
        } else {
            let k = self.k_int(n);
            self.abx(Op::LoadK, dst, k);
        }
    }

    pub(crate) fn read_var(&mut self, v: &'static VarRef, dst: Reg) {
        self.with_span(v.span, |c| match v.slot {
            Slot::Local(i) => match (c.regs.local_reg(i), c.regs.spill_slot(i)) {
                (Some(r), _) if r != dst => {
                    c.abc(Op::Move, dst, r, 0);
                }
                (Some(_), _) => {}
                (None, Some((s, k))) => {
                    c.abc(Op::GetSpill, dst, s, k);
                }
                (None, None) => unreachable!("a local is kept or spilled"),
            },
            Slot::Cell(i) => {
                let cell = c.regs.cell(i);
                c.abc(Op::GetCell, dst, cell, 0);
            }
            Slot::Upvalue(u) => {
                c.abc(Op::GetUpval, dst, u as u8, 0);
            }
            Slot::Global(g) => {
                c.abx(Op::GetGlobal, dst, g as u16);
            }
            Slot::Builtin(b) => {
                c.abx(Op::LoadBuiltin, dst, b as u16);
            }
            Slot::Undefined => {
                let k = c.k_str(&arcstr::format!("undefined variable: {}", v.name));
                c.abx(Op::Fail, 0, k);
            }
            Slot::Unresolved | Slot::Pending(_) => unreachable!("unresolved variable"),
        })
    }

    pub(crate) fn expr_to(&mut self, e: &'static Expr, dst: Reg) {
        let saved = std::mem::replace(&mut self.span, e.span);
        let mark = self.regs.mark();
        self.expr_kind(e, dst);
        self.regs.release(mark);
        self.span = saved;
    }

    fn expr_kind(&mut self, e: &'static Expr, dst: Reg) {
        match &e.kind {
            ExprKind::Null => {
                self.abc(Op::LoadNull, dst, 0, 0);
            }
            ExprKind::Bool(b) => {
                self.abc(Op::LoadBool, dst, *b as u8, 0);
            }
            ExprKind::Int(n) => self.load_int(*n, dst),
            ExprKind::Float(f) => {
                let k = self.k_float(*f);
                self.abx(Op::LoadK, dst, k);
            }
            ExprKind::Str(s) => {
                let k = self.k_str(s);
                self.abx(Op::LoadK, dst, k);
            }
            ExprKind::Template(parts) => {
                let n = parts.len().min(200);
                let base = self.regs.temps(n as u32);
                for (i, p) in parts.iter().take(n).enumerate() {
                    match p {
                        TemplatePart::Lit(s) => {
                            let k = self.k_str(s);
                            self.abx(Op::LoadK, base + i as u8, k);
                        }
                        TemplatePart::Expr(x) => {
                            self.expr_to(x, base + i as u8);
                            let later = parts[i + 1..]
                                .iter()
                                .any(|p| matches!(p, TemplatePart::Expr(y) if Self::has_effects(y)));
                            self.protect(x, base + i as u8, later);
                        }
                    }
                }
                if parts.len() > 200 {
                    self.fail("string template too long");
                }
                self.abc(Op::Template, dst, base, n as u8);
            }
            ExprKind::Var(v) => self.read_var(v, dst),
            ExprKind::Array(items) => self.array(items, dst),
            ExprKind::Object(items) => {
                let t = self.regs.temp();
                self.abc(Op::NewObject, t, 0, 0);
                for it in items {
                    let mark = self.regs.mark();
                    match it {
                        ObjectItem::Field(k, x) => {
                            let v = self.expr_store_any(x);
                            let kk = self.k_name(k);
                            self.abc(Op::ObjectInsert, t, kk, v);
                        }
                        ObjectItem::Spread(x) => {
                            let v = self.expr_any(x);
                            self.with_span(x.span, |c| c.abc(Op::ObjectExtend, t, v, 0));
                        }
                    }
                    self.regs.release(mark);
                }
                self.abc(Op::Move, dst, t, 0);
            }
            ExprKind::Unary(op, x) => {
                let r = self.expr_any(x);
                let op = match op {
                    UnOp::Neg => Op::Neg,
                    UnOp::Not => Op::Not,
                };
                self.abc(op, dst, r, 0);
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, dst),
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let is_and = matches!(e.kind, ExprKind::And(..));
                self.expr_to(a, dst);
                let short = self.jump(if is_and { Op::JumpIfFalse } else { Op::JumpIfTrue }, dst);
                self.expr_to(b, dst);
                self.abc(Op::ToBool, dst, dst, 0);
                let end = self.jump(Op::Jump, 0);
                self.patch_here(short);
                self.abc(Op::LoadBool, dst, !is_and as u8, 0);
                self.patch_here(end);
            }
            ExprKind::Range(a, b) => {
                let ra = self.expr_any(a);
                let rb = self.expr_any(b);
                self.abc(Op::Range, dst, ra, rb);
            }
            ExprKind::Call { callee, args } => self.call(callee, args, dst),
            ExprKind::MethodCall { recv, name, args, place } => match place {
                Some(p) => self.place_call(p, None, name, args, dst),
                None => self.method_call(recv, name, args, dst),
            },
            ExprKind::PlaceCall { builtin, name, place, args } => {
                self.place_call(place, Some(*builtin), name, args, dst)
            }
            ExprKind::Index(b, i) => {
                let rb = self.expr_any(b);
                let ri = self.expr_any(i);
                self.abc(Op::GetIndex, dst, rb, ri);
            }
            ExprKind::Field(b, name) => {
                let rb = self.expr_any(b);
                let k = self.k_name(name);
                self.abc(Op::GetField, dst, rb, k);
            }
            ExprKind::Question(x) => {
                let r = self.expr_any(x);
                self.abc(Op::Try, dst, r, self.program_main as u8);
            }
            ExprKind::Lambda(def) => {
                let i = self.child(def);
                self.abx(Op::Closure, dst, i);
            }
            ExprKind::If { cond, then, otherwise } => self.if_expr(cond, then, otherwise.as_ref(), Some(dst)),
            ExprKind::When { subject, arms, otherwise } => self.when(subject, arms, otherwise.as_deref(), dst),
            ExprKind::Match { subject, arms } => self.match_expr(subject, arms, Some(dst)),
            ExprKind::Safe(b) => self.safe(b, dst),
            ExprKind::Spawn { kind, in_squad } => self.spawn(kind, *in_squad, dst),
            ExprKind::Squad(b) => {
                self.abc(Op::SquadBegin, 0, 0, 0);
                self.block_value(b, None);
                self.abc(Op::SquadEnd, dst, 0, 0);
            }
            ExprKind::Await(x) => {
                let r = self.expr_any(x);
                self.abc(Op::Await, dst, r, 0);
            }
            ExprKind::Must(x) => {
                let r = self.expr_any(x);
                self.abc(Op::Must, dst, r, 0);
            }
            ExprKind::StructLit { name, fields } => {
                let t = self.regs.temp();
                self.abc(Op::NewObject, t, 0, 0);
                for (k, x) in fields {
                    let mark = self.regs.mark();
                    let v = self.expr_store_any(x);
                    let kk = self.k_name(k);
                    self.abc(Op::ObjectInsert, t, kk, v);
                    self.regs.release(mark);
                }
                let k = self.k_str(name);
                self.abx(Op::MakeStruct, t, k);
                self.abc(Op::Move, dst, t, 0);
            }
        }
    }

    fn array(&mut self, items: &'static [ArrayItem], dst: Reg) {
        let simple = items.len() <= 100 && items.iter().all(|i| matches!(i, ArrayItem::Item(_)));
        if simple {
            let base = self.regs.temps(items.len() as u32);
            for (i, it) in items.iter().enumerate() {
                if let ArrayItem::Item(x) = it {
                    self.expr_store(x, base + i as u8);
                }
            }
            self.abc(Op::NewArray, dst, base, items.len() as u8);
            return;
        }
        let t = self.regs.temp();
        self.abc(Op::NewArray, t, 0, 0);
        for it in items {
            let mark = self.regs.mark();
            match it {
                ArrayItem::Item(x) => {
                    let v = self.expr_store_any(x);
                    self.abc(Op::ArrayPush, t, v, 0);
                }
                ArrayItem::Spread(x) => {
                    let v = self.expr_any(x);
                    self.with_span(x.span, |c| c.abc(Op::ArrayExtend, t, v, 0));
                }
            }
            self.regs.release(mark);
        }
        self.abc(Op::Move, dst, t, 0);
    }

    fn small_int(e: &Expr) -> Option<i8> {
        match e.kind {
            ExprKind::Int(n) if (-127..=127).contains(&n) => Some(n as i8),
            _ => None,
        }
    }

    fn binary(&mut self, op: BinOp, a: &'static Expr, b: &'static Expr, dst: Reg) {
        if let Some(k) = Self::small_int(b) {
            let fused = match op {
                BinOp::Add => Some(Op::AddI),
                BinOp::Sub => Some(Op::SubI),
                BinOp::Lt => Some(Op::LtI),
                _ => None,
            };
            if let Some(fop) = fused {
                let ra = self.expr_any(a);
                self.abc(fop, dst, ra, k as u8);
                return;
            }
        }
        // A number literal on the right: one instruction, no load.
        let k_op = match op {
            BinOp::Add => Some(Op::AddK),
            BinOp::Sub => Some(Op::SubK),
            BinOp::Mul => Some(Op::MulK),
            BinOp::Div => Some(Op::DivK),
            BinOp::Mod => Some(Op::ModK),
            _ => None,
        };
        if let Some(k_op) = k_op {
            let k = match b.kind {
                ExprKind::Int(n) => Some(self.k_int(n)),
                ExprKind::Float(f) => Some(self.k_float(f)),
                _ => None,
            };
            if let Some(k) = k.filter(|k| *k <= u8::MAX as u16) {
                let ra = self.expr_any(a);
                self.abc(k_op, dst, ra, k as u8);
                return;
            }
        }
        let mark = self.regs.mark();
        // `a + b + c + …` nests to the left: computing the left operand in
        // `dst` when it is a scratch register keeps a long chain within a
        // constant number of registers. Other left operands (a variable
        // above all) are used where they are, with no move.
        let ra = if self.regs.is_top_temp(dst) && matches!(a.kind, ExprKind::Binary(..)) {
            self.expr_to(a, dst);
            self.protect(a, dst, Self::has_effects(b));
            dst
        } else {
            self.operand(a, Self::has_effects(b))
        };
        let rb = self.expr_any(b);
        self.regs.release(mark);
        let op = match op {
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
        };
        self.abc(op, dst, ra, rb);
    }

    /// `n` consecutive registers for a call; they start at `dst` when `dst`
    /// is the newest temporary, so the result needs no move.
    fn window(&mut self, dst: Reg, n: u32) -> Reg {
        if self.regs.is_top_temp(dst) {
            self.regs.temps(n - 1);
            dst
        } else {
            self.regs.temps(n)
        }
    }

    /// A call window: the callee in `w`, arguments in `w + 1 ..`.
    fn call(&mut self, callee: &'static Expr, args: &'static [Expr], dst: Reg) {
        if args.len() > 200 {
            self.fail("too many arguments in one call");
            return;
        }
        let w = self.window(dst, 1 + args.len() as u32);
        let op = Self::channel_op(callee, args.len());
        if op.is_none() {
            self.expr_to(callee, w);
        }
        for (i, a) in args.iter().enumerate() {
            self.expr_to(a, w + 1 + i as u8);
            self.protect(a, w + 1 + i as u8, args[i + 1..].iter().any(Self::has_effects));
        }
        self.abc(op.unwrap_or(Op::Call), w, args.len() as u8, 0);
        if w != dst {
            self.abc(Op::Move, dst, w, 0);
        }
    }

    /// `send(ch, v)` and `receive(ch)` where the names are the built-ins:
    /// their own instructions, which skip loading the callee and the
    /// native-call machinery on the hottest path of message passing.
    fn channel_op(callee: &Expr, argc: usize) -> Option<Op> {
        let ExprKind::Var(VarRef { slot: Slot::Builtin(b), .. }) = callee.kind else { return None };
        let r = crate::builtins::registry();
        match argc {
            2 if r.lookup("send") == Some(b) => Some(Op::ChanSend),
            1 if r.lookup("receive") == Some(b) => Some(Op::ChanRecv),
            _ => None,
        }
    }

    /// `recv.name(args)`: the receiver in `w + 1`, arguments after it.
    fn method_call(&mut self, recv: &'static Expr, name: &'static arcstr::ArcStr, args: &'static [Expr], dst: Reg) {
        if args.len() > 200 {
            self.fail("too many arguments in one call");
            return;
        }
        let w = self.window(dst, 2 + args.len() as u32);
        self.expr_to(recv, w + 1);
        let args_effects = args.iter().any(Self::has_effects);
        self.protect(recv, w + 1, args_effects);
        let k = self.k_name(name);
        // The method is looked up before the arguments run (as the
        // interpreter evaluates a callee first): a missing method is the
        // error, not one raised by an argument.
        if args.iter().any(|a| {
            !matches!(
                a.kind,
                ExprKind::Null
                    | ExprKind::Bool(_)
                    | ExprKind::Int(_)
                    | ExprKind::Float(_)
                    | ExprKind::Str(_)
                    | ExprKind::Lambda(_)
                    | ExprKind::Var(VarRef { slot: Slot::Local(_) | Slot::Cell(_) | Slot::Upvalue(_), .. })
            )
        }) {
            self.abc(Op::CheckMethod, w + 1, 0, k);
        }
        for (i, a) in args.iter().enumerate() {
            self.expr_to(a, w + 2 + i as u8);
            self.protect(a, w + 2 + i as u8, args[i + 1..].iter().any(Self::has_effects));
        }
        self.abc(Op::CallMethod, w, args.len() as u8, k);
        if w != dst {
            self.abc(Op::Move, dst, w, 0);
        }
    }

    /// An `if` producing a value in `dst` (`None`: as a statement).
    pub(crate) fn if_expr(
        &mut self,
        cond: &'static Expr,
        then: &'static Block,
        otherwise: Option<&'static ElseBranch>,
        dst: Option<Reg>,
    ) {
        let skip = self.cond_jump(cond);
        self.block_value(then, dst);
        let end = self.jump(Op::Jump, 0);
        self.patch_here(skip);
        match otherwise {
            Some(ElseBranch::Block(b)) => self.block_value(b, dst),
            Some(ElseBranch::If(x)) => match &x.kind {
                ExprKind::If { cond, then, otherwise } => {
                    self.with_span(x.span, |c| c.if_expr(cond, then, otherwise.as_ref(), dst))
                }
                _ => unreachable!("else-if holds an if"),
            },
            None => {
                if let Some(d) = dst {
                    self.abc(Op::LoadNull, d, 0, 0);
                }
            }
        }
        self.patch_here(end);
    }

    /// Compiles a condition; returns the jump taken when it is false.
    pub(crate) fn cond_jump(&mut self, cond: &'static Expr) -> super::JumpHole {
        if let ExprKind::Binary(BinOp::Lt, a, b) = &cond.kind {
            if let Some(k) = Self::small_int(b) {
                let mark = self.regs.mark();
                let ra = self.expr_any(a);
                self.with_span(cond.span, |c| c.abc(Op::JumpIfNotLtI, ra, 0, k as u8));
                self.regs.release(mark);
                return self.jump(Op::Jump, 0);
            }
        }
        if let ExprKind::Binary(op @ (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), a, b) =
            &cond.kind
        {
            let test = match op {
                BinOp::Eq => Op::IfEq,
                BinOp::Ne => Op::IfNe,
                BinOp::Lt => Op::IfLt,
                BinOp::Le => Op::IfLe,
                BinOp::Gt => Op::IfGt,
                _ => Op::IfGe,
            };
            let mark = self.regs.mark();
            let ra = self.operand(a, Self::has_effects(b));
            let rb = self.expr_any(b);
            self.with_span(cond.span, |c| c.abc(test, ra, rb, 0));
            self.regs.release(mark);
            return self.jump(Op::Jump, 0);
        }
        let mark = self.regs.mark();
        let r = self.expr_any(cond);
        self.regs.release(mark);
        self.jump(Op::JumpIfFalse, r)
    }

    fn when(&mut self, subject: &'static Expr, arms: &'static [WhenArm], otherwise: Option<&'static Expr>, dst: Reg) {
        let s = self.regs.temp();
        self.expr_to(subject, s);
        let mut ends = Vec::new();
        for arm in arms {
            let mark = self.regs.mark();
            let v = self.expr_any(&arm.value);
            let t = self.regs.temp();
            let op = match arm.op.unwrap_or(BinOp::Eq) {
                BinOp::Eq => Op::Eq,
                BinOp::Ne => Op::Ne,
                BinOp::Lt => Op::Lt,
                BinOp::Le => Op::Le,
                BinOp::Gt => Op::Gt,
                _ => Op::Ge,
            };
            self.with_span(arm.value.span, |c| c.abc(op, t, s, v));
            let next = self.jump(Op::JumpIfFalse, t);
            self.regs.release(mark);
            self.expr_to(&arm.result, dst);
            ends.push(self.jump(Op::Jump, 0));
            self.patch_here(next);
        }
        match otherwise {
            Some(o) => self.expr_to(o, dst),
            None => {
                self.abc(Op::LoadNull, dst, 0, 0);
            }
        }
        for e in ends {
            self.patch_here(e);
        }
    }

    /// `safe { … }`: the block's value, or `null` after an error in it.
    fn safe(&mut self, b: &'static Block, dst: Reg) {
        let result = self.regs.temp();
        let start = self.here() as u32;
        self.block_value(b, Some(result));
        let end = self.here() as u32;
        let done = self.jump(Op::Jump, 0);
        let target = self.here() as u32;
        self.abc(Op::LoadNull, result, 0, 0);
        self.patch_here(done);
        self.handlers.push(crate::vm::bytecode::chunk::Handler { start, end, target, error_reg: None });
        self.abc(Op::Move, dst, result, 0);
    }

    fn spawn(&mut self, kind: &'static SpawnKind, in_squad: bool, dst: Reg) {
        match kind {
            SpawnKind::Block(def) => {
                let w = self.regs.temps(2);
                let i = self.child(def);
                self.abx(Op::Closure, w + 1, i);
                self.abc(Op::Spawn, w, 0, in_squad as u8);
                self.abc(Op::Move, dst, w, 0);
            }
            SpawnKind::Call(call) => match &call.kind {
                ExprKind::Call { callee, args } => {
                    let w = self.regs.temps(2 + args.len() as u32);
                    self.expr_to(callee, w + 1);
                    for (i, a) in args.iter().enumerate() {
                        self.expr_to(a, w + 2 + i as u8);
                    }
                    self.with_span(call.span, |c| c.abc(Op::Spawn, w, args.len() as u8, in_squad as u8));
                    self.abc(Op::Move, dst, w, 0);
                }
                ExprKind::MethodCall { recv, name, args, place } => {
                    let w = self.regs.temps(2 + args.len() as u32);
                    match place {
                        Some(p) => self.place_value(p, w + 1),
                        None => self.expr_to(recv, w + 1),
                    }
                    for (i, a) in args.iter().enumerate() {
                        self.expr_to(a, w + 2 + i as u8);
                    }
                    let k = self.k_name(name);
                    if k >= 128 {
                        self.fail("too many distinct method names in one function");
                    }
                    let c = (k << 1) | in_squad as u8;
                    self.with_span(call.span, |cc| cc.abc(Op::SpawnMethod, w, args.len() as u8, c));
                    self.abc(Op::Move, dst, w, 0);
                }
                _ => self.fail("spawn needs a block or a call"),
            },
        }
    }

    /// A closure of a nested function into `dst`.
    pub(crate) fn closure_to(&mut self, def: &'static Arc<FnDef>, dst: Reg) {
        let i = self.child(def);
        self.abx(Op::Closure, dst, i);
    }
}
