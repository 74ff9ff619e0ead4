//! Expressions. `eval` returns the expression's value or the `Ctrl` that
//! interrupts it (an error, or a `return`/`break` from inside a block-valued
//! expression such as `match`).

use std::sync::Arc;

use arcstr::ArcStr;

use super::{Flow, Interp};
use crate::builtins::registry;
use crate::error::{msg, Ctrl, ErrorKind, EvalResult, Unwind};
use crate::ops;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use crate::value::display::{display, write_display};
use crate::value::{new_cell, Closure, EnumValue, Map, Object, Value};

impl Interp<'_> {
    pub(crate) fn eval(&mut self, e: &'static Expr) -> EvalResult {
        match &e.kind {
            ExprKind::Int(n) => Ok(Value::Int(*n)),
            ExprKind::Var(v) => match v.slot {
                Slot::Local(i) => Ok(self.stack[self.frame.base + i as usize].fast_clone()),
                _ => self.read_var(v),
            },
            ExprKind::Binary(op, a, b) => {
                if let (Some(p), Some(q)) = (self.int_operand(a), self.int_operand(b)) {
                    return int_binary(*op, p, q).map_err(|c| c.at(e.span));
                }
                let x = self.operand(a)?;
                let y = self.operand(b)?;
                if let (Value::Int(p), Value::Int(q)) = (&x, &y) {
                    let (p, q) = (*p, *q);
                    x.discard();
                    y.discard();
                    return int_binary(*op, p, q).map_err(|c| c.at(e.span));
                }
                ops::binary(*op, &x, &y).map_err(|c| c.at(e.span))
            }
            ExprKind::Call { callee, args } => self.eval_call(callee, args, e.span),
            ExprKind::Null => Ok(Value::Null),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::Float(f) => Ok(Value::Float(*f)),
            ExprKind::Str(s) => Ok(Value::Str(s.clone())),
            ExprKind::Template(parts) => self.eval_template(parts),
            ExprKind::Array(items) => self.eval_array(items),
            ExprKind::Object(items) => self.eval_object(items),
            ExprKind::Unary(op, x) => {
                let v = self.eval(x)?;
                match op {
                    UnOp::Neg => ops::negate(&v).map_err(|c| c.at(e.span)),
                    UnOp::Not => Ok(Value::Bool(!v.truthy())),
                }
            }
            ExprKind::And(a, b) => Ok(Value::Bool(self.eval(a)?.truthy() && self.eval(b)?.truthy())),
            ExprKind::Or(a, b) => Ok(Value::Bool(self.eval(a)?.truthy() || self.eval(b)?.truthy())),
            ExprKind::Range(a, b) => {
                let lo = self.eval(a)?;
                let hi = self.eval(b)?;
                ops::range(&lo, &hi).map_err(|c| c.at(e.span))
            }
            ExprKind::MethodCall { recv, name, args, place } => match place {
                Some(p) => self.eval_place_method(p, name, args, e.span),
                None => {
                    let r = self.eval(recv)?;
                    self.call_method(r, name, args, e.span)
                }
            },
            ExprKind::PlaceCall { builtin, place, args, .. } => self.eval_place_call(*builtin, place, args, e.span),
            ExprKind::Index(base, index) => {
                let b = self.eval(base)?;
                let i = self.eval(index)?;
                self.index(&b, &i).map_err(|c| c.at(e.span))
            }
            ExprKind::Field(base, name) => {
                let b = self.eval(base)?;
                self.field(&b, name).map_err(|c| c.at(e.span))
            }
            ExprKind::Question(x) => self.eval_question(x, e.span),
            ExprKind::Lambda(def) => Ok(self.make_closure(def)),
            ExprKind::If { cond, then, otherwise } => {
                let f = self.if_flow(cond, then, otherwise.as_ref(), true)?;
                self.flow_value(f)
            }
            ExprKind::When { subject, arms, otherwise } => self.eval_when(subject, arms, otherwise.as_deref()),
            ExprKind::Match { subject, arms } => self.eval_match(subject, arms, e.span),
            ExprKind::Safe(b) => self.eval_safe(b),
            ExprKind::Spawn { kind, in_squad } => self.eval_spawn(kind, *in_squad, e.span),
            ExprKind::Squad(b) => self.eval_squad(b, e.span),
            ExprKind::Await(x) => {
                let v = self.eval(x)?;
                self.await_value(v, e.span)
            }
            ExprKind::Must(x) => {
                let v = self.eval(x)?;
                must(v).map_err(|c| c.at(e.span))
            }
            ExprKind::StructLit { name, fields } => self.eval_struct_lit(name, fields),
        }
    }

    pub(crate) fn read_var(&mut self, v: &'static VarRef) -> EvalResult {
        match v.slot {
            Slot::Local(i) => Ok(self.stack[self.frame.base + i as usize].clone()),
            Slot::Global(g) => match &self.state.globals[g as usize] {
                Some(v) => Ok(v.clone()),
                None => Err(msg::undefined(&v.name).at(v.span)),
            },
            Slot::Cell(c) => {
                Ok(self.cells[self.frame.cell_base + c as usize].as_ref().map_or(Value::Null, |c| c.lock().clone()))
            }
            Slot::Upvalue(u) => {
                let closure = self.frame.closure.as_ref().expect("upvalue outside a closure");
                Ok(closure.captures[u as usize].lock().clone())
            }
            Slot::Builtin(b) => Ok(registry().value(b).clone()),
            Slot::Undefined => Err(msg::undefined(&v.name).at(v.span)),
            Slot::Unresolved | Slot::Pending(_) => unreachable!("unresolved variable {}", v.name),
        }
    }

    /// A closure over the current frame's cells and captures.
    #[inline(never)]
    pub(crate) fn make_closure(&mut self, def: &'static Arc<FnDef>) -> Value {
        let captures: Box<[_]> = def
            .captures
            .iter()
            .map(|c| match *c {
                Capture::Cell(i) => {
                    let slot = &mut self.cells[self.frame.cell_base + i as usize];
                    slot.get_or_insert_with(|| new_cell(Value::Null)).clone()
                }
                Capture::Upvalue(u) => {
                    self.frame.closure.as_ref().expect("upvalue outside a closure").captures[u as usize].clone()
                }
            })
            .collect();
        if !captures.is_empty() {
            self.state.has_cells = true;
        }
        Value::Func(Arc::new(Closure { def, captures }))
    }

    #[inline(never)]
    fn eval_template(&mut self, parts: &'static [TemplatePart]) -> EvalResult {
        let mut out = String::new();
        for p in parts {
            match p {
                TemplatePart::Lit(s) => out.push_str(s),
                TemplatePart::Expr(x) => {
                    let v = self.eval(x)?;
                    write_display(&mut out, &v);
                }
            }
        }
        Ok(Value::Str(out.into()))
    }

    #[inline(never)]
    fn eval_array(&mut self, items: &'static [ArrayItem]) -> EvalResult {
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            match it {
                ArrayItem::Item(x) => out.push(self.eval(x)?),
                ArrayItem::Spread(x) => match self.eval(x)? {
                    Value::Array(a) => out.extend(a.iter().cloned()),
                    other => {
                        return Err(
                            Ctrl::runtime(format!("cannot spread {} into an array", other.type_name())).at(x.span)
                        )
                    }
                },
            }
        }
        Ok(Value::array(out))
    }

    #[inline(never)]
    fn eval_object(&mut self, items: &'static [ObjectItem]) -> EvalResult {
        let mut map = Map::with_capacity_and_hasher(items.len(), Default::default());
        for it in items {
            match it {
                ObjectItem::Field(k, x) => {
                    let v = self.eval(x)?;
                    map.insert(k.clone(), v);
                }
                ObjectItem::Spread(x) => match self.eval(x)? {
                    Value::Object(o) => {
                        for (k, v) in &o.fields {
                            map.insert(k.clone(), v.clone());
                        }
                    }
                    other => {
                        return Err(
                            Ctrl::runtime(format!("cannot spread {} into an object", other.type_name())).at(x.span)
                        )
                    }
                },
            }
        }
        Ok(Value::object(map))
    }

    #[inline(never)]
    fn eval_question(&mut self, x: &'static Expr, span: Span) -> EvalResult {
        match self.eval(x)? {
            Value::Ok(v) => Ok((*v).clone()),
            err @ Value::Err(_) => {
                if self.depth == 0 {
                    let Value::Err(inner) = &err else { unreachable!() };
                    Err(Ctrl::runtime(format!("unhandled error: {}", display(inner))).at(span))
                } else {
                    Err(Ctrl::new(Unwind::Return(err)))
                }
            }
            _ => Err(Ctrl::runtime("? operator requires a Result value").at(span)),
        }
    }

    #[inline(never)]
    fn eval_when(
        &mut self,
        subject: &'static Expr,
        arms: &'static [WhenArm],
        otherwise: Option<&'static Expr>,
    ) -> EvalResult {
        let s = self.eval(subject)?;
        for arm in arms {
            let v = self.eval(&arm.value)?;
            let hit = ops::binary(arm.op.unwrap_or(BinOp::Eq), &s, &v).map_err(|c| c.at(arm.value.span))?;
            if hit.truthy() {
                return self.eval(&arm.result);
            }
        }
        match otherwise {
            Some(o) => self.eval(o),
            None => Ok(Value::Null),
        }
    }

    #[inline(never)]
    fn eval_match(&mut self, subject: &'static Expr, arms: &'static [MatchArm], span: Span) -> EvalResult {
        let f = self.match_flow(subject, arms, span, true)?;
        self.flow_value(f)
    }

    /// `match` run as a statement (`tail == false`) or for its value (left
    /// in `self.ret`).
    pub(crate) fn match_flow(
        &mut self,
        subject: &'static Expr,
        arms: &'static [MatchArm],
        span: Span,
        tail: bool,
    ) -> Result<Flow, Ctrl> {
        let s = self.eval(subject)?;
        for arm in arms {
            if self.match_pattern(&arm.pattern, &s) {
                return match &arm.body {
                    ArmBody::Expr(x) => {
                        let v = self.eval(x)?;
                        if tail {
                            self.ret = v;
                        }
                        Ok(Flow::Normal)
                    }
                    ArmBody::Block(b) => {
                        if tail {
                            self.exec_block_tail(b)
                        } else {
                            self.exec_block(b)
                        }
                    }
                    ArmBody::Stmt(st) => {
                        let f = self.exec(st)?;
                        if tail && f == Flow::Normal {
                            self.ret = Value::Null;
                        }
                        Ok(f)
                    }
                };
            }
        }
        Err(Ctrl::runtime(format!("no match arm matched {}", display(&s))).at(span))
    }

    #[inline(never)]
    fn eval_safe(&mut self, b: &'static Block) -> EvalResult {
        let stack = self.stack.len();
        let cells = self.cells.len();
        match self.block_value(b) {
            Err(c) if c.is_error() => {
                self.stack.truncate(stack);
                self.cells.truncate(cells);
                Ok(Value::Null)
            }
            other => other,
        }
    }

    #[inline(never)]
    fn eval_struct_lit(&mut self, name: &'static ArcStr, fields: &'static [(ArcStr, Expr)]) -> EvalResult {
        let mut given = Vec::with_capacity(fields.len());
        for (k, x) in fields {
            given.push((k, self.eval(x)?));
        }
        let mut map = Map::with_capacity_and_hasher(fields.len(), Default::default());
        if let Some(info) = self.state.types.structs.get(name).cloned() {
            for f in &info.fields {
                if let Some(pos) = given.iter().position(|(k, _)| **k == f.name) {
                    let (_, v) = given.swap_remove(pos);
                    map.insert(f.name.clone(), v);
                } else if let Some(d) = &f.default {
                    map.insert(f.name.clone(), d.clone());
                }
            }
            // Undeclared fields follow, in the order written.
            given.sort_by_key(|(k, _)| fields.iter().position(|(n, _)| n == *k));
        }
        for (k, v) in given {
            map.insert(k.clone(), v);
        }
        Ok(Value::Object(Arc::new(Object { tag: Some(name.clone()), fields: map })))
    }

    /// A data variant's constructor applied to its arguments.
    pub(crate) fn construct_variant(enum_name: &ArcStr, variant: &ArcStr, args: Vec<Value>) -> Value {
        Value::Enum(Arc::new(EnumValue {
            enum_name: enum_name.clone(),
            variant: variant.clone(),
            payload: args.into_boxed_slice(),
        }))
    }
}

/// An operator on two Ints (the hot case, kept free of `Value` drops).
#[inline(always)]
fn int_binary(op: BinOp, p: i64, q: i64) -> EvalResult {
    match op {
        BinOp::Add => p.checked_add(q).map(Value::Int).ok_or_else(msg::overflow),
        BinOp::Sub => p.checked_sub(q).map(Value::Int).ok_or_else(msg::overflow),
        BinOp::Lt => Ok(Value::Bool(p < q)),
        BinOp::Le => Ok(Value::Bool(p <= q)),
        BinOp::Gt => Ok(Value::Bool(p > q)),
        BinOp::Ge => Ok(Value::Bool(p >= q)),
        BinOp::Eq => Ok(Value::Bool(p == q)),
        BinOp::Ne => Ok(Value::Bool(p != q)),
        _ => ops::int_arith(op, p, q),
    }
}

impl Interp<'_> {
    /// The value of an Int literal or of a local holding an Int, read
    /// without building a `Value`.
    #[inline(always)]
    fn int_operand(&self, e: &'static Expr) -> Option<i64> {
        match &e.kind {
            ExprKind::Int(n) => Some(*n),
            ExprKind::Var(VarRef { slot: Slot::Local(i), .. }) => match self.stack[self.frame.base + *i as usize] {
                Value::Int(n) => Some(n),
                _ => None,
            },
            _ => None,
        }
    }

    /// Evaluates an operand, reading locals and literals without a
    /// recursive `eval` call (most operands are one or the other).
    #[inline(always)]
    pub(crate) fn operand(&mut self, e: &'static Expr) -> EvalResult {
        match &e.kind {
            ExprKind::Var(VarRef { slot: Slot::Local(i), .. }) => {
                Ok(self.stack[self.frame.base + *i as usize].fast_clone())
            }
            ExprKind::Int(n) => Ok(Value::Int(*n)),
            _ => self.eval(e),
        }
    }

    /// The truthiness of a condition, without building a `Bool` for the
    /// common `a < b` on Ints.
    #[inline]
    pub(crate) fn eval_cond(&mut self, e: &'static Expr) -> Result<bool, Ctrl> {
        if let ExprKind::Binary(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne), a, b) =
            &e.kind
        {
            let x = self.operand(a)?;
            let y = self.operand(b)?;
            if let (Value::Int(p), Value::Int(q)) = (&x, &y) {
                let (p, q) = (*p, *q);
                x.discard();
                y.discard();
                return Ok(int_compare(*op, p, q));
            }
            return ops::binary(*op, &x, &y).map(|v| v.truthy()).map_err(|c| c.at(e.span));
        }
        let v = self.eval(e)?;
        let t = v.truthy();
        v.discard();
        Ok(t)
    }
}

#[inline(always)]
fn int_compare(op: BinOp, p: i64, q: i64) -> bool {
    match op {
        BinOp::Lt => p < q,
        BinOp::Le => p <= q,
        BinOp::Gt => p > q,
        BinOp::Ge => p >= q,
        BinOp::Eq => p == q,
        _ => p != q,
    }
}

/// `must v` (FORGE.md §7.4).
pub(crate) fn must(v: Value) -> EvalResult {
    match v {
        Value::Ok(inner) => Ok((*inner).clone()),
        Value::Err(inner) => Err(Ctrl::runtime(format!("must failed: {}", display(&inner)))),
        Value::Null => Err(Ctrl::runtime("must failed: got null")),
        other => Ok(other),
    }
}

/// The error object a `catch` binds: `{ message, type }`.
pub(crate) fn error_object(kind: ErrorKind, message: &str) -> Value {
    let mut map = Map::default();
    map.insert("message".into(), Value::str(message));
    map.insert("type".into(), Value::str(kind.type_name()));
    Value::object(map)
}
