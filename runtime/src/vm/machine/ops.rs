//! Opcode handlers too large for the dispatch loop, and the value
//! operations they share (equality, truthiness, display, copy on write).

use std::sync::Arc;

use arcstr::ArcStr;

use super::{Exit, FrameKind, Machine, Squad};
use crate::builtins::registry;
use crate::error::{msg, Ctrl, ErrorKind, ForgeError};
use crate::value::{TypeKind, TypeValue, Value, VariantCtor};
use crate::vm::bytecode::chunk::{Const, Proto};
use crate::vm::bytecode::op::{Instr, Op};
use crate::vm::gc::heap::{ArrayObj, ClosureObj, EnumObj, HeapObj, ObjectObj};
use crate::vm::value::{ObjRef, Val};

impl Machine {
    // ---- loads ------------------------------------------------------------

    #[inline]
    pub(crate) fn constant(&mut self, proto: &'static Proto, k: usize) -> Result<Val, Ctrl> {
        match &proto.consts[k] {
            Const::Int(n) => Ok(Val::Int(*n)),
            Const::Float(f) => Ok(Val::Float(*f)),
            Const::Str(s) => self.string_constant(proto, k, s),
        }
    }

    /// A string constant, materialised once per heap. Kept out of line: the
    /// dispatch loop inlines `constant`, and this path's code there cost the
    /// loop registers (callgrind: `loop` 1.31 G -> 1.15 G instructions, `fib`
    /// 2.94 G -> 2.78 G with `builtin` out of line too).
    #[inline(never)]
    fn string_constant(&mut self, proto: &'static Proto, k: usize, s: &'static ArcStr) -> Result<Val, Ctrl> {
        let key = (proto as *const Proto as usize, k as u16);
        if let Some(&r) = self.interned.consts.get(&key) {
            return Ok(Val::Obj(r));
        }
        let r = self.heap.alloc(HeapObj::Str(s.clone()))?;
        self.interned.consts.insert(key, r);
        Ok(Val::Obj(r))
    }

    /// Built-in `b`: natives are code, modules are materialised once per heap.
    /// Out of line for the same reason as `string_constant`.
    #[inline(never)]
    pub(crate) fn builtin(&mut self, b: u32) -> Result<Val, Ctrl> {
        // Functions (nearly every built-in) need no table of this heap.
        let other = match registry().value(b) {
            Value::Builtin(n) => return Ok(Val::Native(n)),
            Value::None => return Ok(Val::None),
            other => other,
        };
        if let Some(&v) = self.interned.builtins.get(&b) {
            return Ok(v);
        }
        let v = self.import(other)?;
        self.interned.builtins.insert(b, v);
        Ok(v)
    }

    pub(crate) fn undefined_global(&self, g: usize) -> Ctrl {
        let name = self.run.vm.program.globals.get(g).map_or("?", |i| i.name.as_str());
        msg::undefined(name)
    }

    // ---- cells ------------------------------------------------------------

    fn frame_upval(&self, fi: usize, u: usize) -> ObjRef {
        let closure = self.frames[fi].closure.expect("upvalues only in closures");
        match self.heap.get(closure) {
            HeapObj::Closure(c) => c.upvals[u],
            _ => unreachable!("frame closure is a closure"),
        }
    }

    pub(crate) fn upval(&self, fi: usize, u: usize) -> Val {
        self.cell_value(Val::Obj(self.frame_upval(fi, u)))
    }

    pub(crate) fn set_upval(&mut self, fi: usize, u: usize, v: Val) {
        let cell = self.frame_upval(fi, u);
        *self.heap.get_mut(cell) = HeapObj::Cell(v);
        self.globals_version += 1;
    }

    pub(crate) fn cell_value(&self, cell: Val) -> Val {
        match cell {
            Val::Obj(r) => match self.heap.get(r) {
                HeapObj::Cell(v) => *v,
                _ => Val::Null,
            },
            _ => Val::Null,
        }
    }

    /// `NewCell`: a fresh cell, or (for a function declaration) the cell
    /// closures may already have captured.
    pub(crate) fn op_new_cell(&mut self, a: usize, b: usize, reuse: bool) -> Result<(), Ctrl> {
        let v = self.regs[b];
        if reuse {
            if let Val::Obj(r) = self.regs[a] {
                if let HeapObj::Cell(_) = self.heap.get(r) {
                    *self.heap.get_mut(r) = HeapObj::Cell(v);
                    return Ok(());
                }
            }
        }
        let cell = self.heap.alloc(HeapObj::Cell(v))?;
        self.regs[a] = Val::Obj(cell);
        Ok(())
    }

    pub(crate) fn op_set_cell(&mut self, a: usize, v: Val) -> Result<(), Ctrl> {
        match self.regs[a] {
            Val::Obj(r) if matches!(self.heap.get(r), HeapObj::Cell(_)) => *self.heap.get_mut(r) = HeapObj::Cell(v),
            _ => {
                let cell = self.heap.alloc(HeapObj::Cell(v))?;
                self.regs[a] = Val::Obj(cell);
            }
        }
        self.globals_version += 1;
        Ok(())
    }

    // ---- copy on write ----------------------------------------------------

    /// Marks an array or object as held by more than one place.
    #[inline]
    pub(crate) fn share(&mut self, v: Val) {
        if let Val::Obj(r) = v {
            self.share_obj(r);
        }
    }

    #[inline]
    pub(crate) fn share_obj(&mut self, r: ObjRef) {
        match self.heap.get_mut(r) {
            HeapObj::Array(a) => a.shared = true,
            HeapObj::Object(o) => o.shared = true,
            _ => {}
        }
    }

    /// The object `r` made safe to write: itself when unshared, else a copy
    /// whose children are marked shared (both containers now hold them).
    pub(crate) fn make_unique(&mut self, r: ObjRef) -> Result<ObjRef, Ctrl> {
        let copy = match self.heap.get(r) {
            HeapObj::Array(a) if a.shared => HeapObj::Array(ArrayObj { items: a.items.clone(), shared: false }),
            HeapObj::Object(o) if o.shared => {
                HeapObj::Object(Box::new(ObjectObj { tag: o.tag.clone(), fields: o.fields.clone(), shared: false }))
            }
            _ => return Ok(r),
        };
        let children: Vec<Val> = match &copy {
            HeapObj::Array(a) => a.items.clone(),
            HeapObj::Object(o) => o.fields.values().copied().collect(),
            _ => Vec::new(),
        };
        for c in children {
            self.share(c);
        }
        self.heap.alloc(copy)
    }

    pub(crate) fn op_unique(&mut self, a: usize) -> Result<(), Ctrl> {
        if let Val::Obj(r) = self.regs[a] {
            let u = self.make_unique(r)?;
            self.regs[a] = Val::Obj(u);
        }
        Ok(())
    }

    // ---- value operations -------------------------------------------------

    pub(crate) fn type_name(&self, v: Val) -> &'static str {
        match v {
            Val::Null => "Null",
            Val::Bool(_) => "Bool",
            Val::Int(_) => "Int",
            Val::Float(_) => "Float",
            Val::Native(_) => "BuiltIn",
            Val::None => "Option",
            Val::Obj(r) => match self.heap.get(r) {
                HeapObj::Str(_) => "String",
                HeapObj::Array(_) => "Array",
                HeapObj::Object(_) | HeapObj::Enum(_) => "Object",
                HeapObj::Closure(_) | HeapObj::Variant(_) => "Function",
                HeapObj::Ok(_) | HeapObj::Err(_) => "Result",
                HeapObj::Some(_) => "Option",
                HeapObj::Channel(_) => "Channel",
                HeapObj::Task(_) => "TaskHandle",
                HeapObj::Type(_) => "Type",
                HeapObj::Cell(_) | HeapObj::Free => "Null",
            },
        }
    }

    pub(crate) fn truthy(&self, v: Val) -> bool {
        match v {
            Val::Null | Val::None => false,
            Val::Bool(b) => b,
            Val::Int(n) => n != 0,
            Val::Float(f) => f != 0.0,
            Val::Native(_) => true,
            Val::Obj(r) => match self.heap.get(r) {
                HeapObj::Str(s) => !s.is_empty(),
                HeapObj::Array(a) => !a.items.is_empty(),
                HeapObj::Object(o) => o.tag.is_some() || !o.fields.is_empty(),
                _ => true,
            },
        }
    }

    pub(crate) fn str_of(&self, v: Val) -> Option<&ArcStr> {
        match v {
            Val::Obj(r) => match self.heap.get(r) {
                HeapObj::Str(s) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// The display form (FORGE.md §3) of a value.
    pub(crate) fn display(&mut self, v: Val) -> Result<String, Ctrl> {
        Ok(match v {
            Val::Int(n) => n.to_string(),
            Val::Obj(r) => match self.heap.get(r) {
                HeapObj::Str(s) => s.to_string(),
                _ => crate::value::display::display(&self.export(v)?),
            },
            _ => crate::value::display::display(&self.export(v)?),
        })
    }

    pub(crate) fn alloc_str(&mut self, s: impl Into<ArcStr>) -> Result<Val, Ctrl> {
        Ok(Val::Obj(self.heap.alloc(HeapObj::Str(s.into()))?))
    }

    /// Arithmetic beyond the Int fast paths of the loop.
    pub(crate) fn arith(&mut self, op: Op, x: Val, y: Val) -> Result<Val, Ctrl> {
        let bop = arith_op(op);
        match (x, y) {
            (Val::Int(p), Val::Int(q)) => Ok(Val::Int(crate::ops::int_result(bop, p, q)?)),
            (Val::Float(_) | Val::Int(_), Val::Float(_) | Val::Int(_)) => {
                Ok(Val::Float(crate::ops::float_arith(bop, num(x), num(y))))
            }
            _ if op == Op::Add && (self.str_of(x).is_some() || self.str_of(y).is_some()) => {
                let mut s = self.display(x)?;
                s.push_str(&self.display(y)?);
                self.alloc_str(s)
            }
            _ => Err(Ctrl::runtime(format!(
                "cannot apply {} to {} and {}",
                bop.verb(),
                self.type_name(x),
                self.type_name(y)
            ))),
        }
    }

    /// `<`, `<=`, `>`, `>=` beyond Ints.
    pub(crate) fn compare(&self, op: Op, x: Val, y: Val) -> Result<bool, Ctrl> {
        use std::cmp::Ordering;
        let ord = match (x, y) {
            (Val::Int(p), Val::Int(q)) => Some(p.cmp(&q)),
            (Val::Float(_) | Val::Int(_), Val::Float(_) | Val::Int(_)) => {
                crate::value::compare::compare(&scalar_value(x), &scalar_value(y))?
            }
            _ => match (self.str_of(x), self.str_of(y)) {
                (Some(p), Some(q)) => Some(p.as_str().cmp(q.as_str())),
                _ => {
                    return Err(Ctrl::runtime(format!(
                        "cannot compare {} and {}",
                        self.type_name(x),
                        self.type_name(y)
                    )));
                }
            },
        };
        Ok(match (op, ord) {
            (_, None) => false,
            (Op::Lt, Some(o)) => o == Ordering::Less,
            (Op::Le, Some(o)) => o != Ordering::Greater,
            (Op::Gt, Some(o)) => o == Ordering::Greater,
            (_, Some(o)) => o != Ordering::Less,
        })
    }

    /// `==` (deep, never fails); iterative over nested values.
    pub(crate) fn equal(&self, x: Val, y: Val) -> bool {
        let mut work = vec![(x, y)];
        while let Some((p, q)) = work.pop() {
            if !self.shallow_equal(p, q, &mut work) {
                return false;
            }
        }
        true
    }

    fn shallow_equal(&self, x: Val, y: Val, work: &mut Vec<(Val, Val)>) -> bool {
        match (x, y) {
            (Val::Obj(a), Val::Obj(b)) => {
                if a == b {
                    return true;
                }
                match (self.heap.get(a), self.heap.get(b)) {
                    (HeapObj::Str(p), HeapObj::Str(q)) => p == q,
                    (HeapObj::Array(p), HeapObj::Array(q)) => {
                        if p.items.len() != q.items.len() {
                            return false;
                        }
                        work.extend(p.items.iter().copied().zip(q.items.iter().copied()));
                        true
                    }
                    (HeapObj::Object(p), HeapObj::Object(q)) => {
                        if p.tag != q.tag || p.fields.len() != q.fields.len() {
                            return false;
                        }
                        for (k, v) in &p.fields {
                            match q.fields.get(k) {
                                Some(w) => work.push((*v, *w)),
                                None => return false,
                            }
                        }
                        true
                    }
                    (HeapObj::Enum(p), HeapObj::Enum(q)) => {
                        if p.enum_name != q.enum_name || p.variant != q.variant || p.payload.len() != q.payload.len() {
                            return false;
                        }
                        work.extend(p.payload.iter().copied().zip(q.payload.iter().copied()));
                        true
                    }
                    (HeapObj::Ok(p), HeapObj::Ok(q))
                    | (HeapObj::Err(p), HeapObj::Err(q))
                    | (HeapObj::Some(p), HeapObj::Some(q)) => {
                        work.push((*p, *q));
                        true
                    }
                    (HeapObj::Channel(p), HeapObj::Channel(q)) => p.same(q),
                    (HeapObj::Task(p), HeapObj::Task(q)) => Arc::ptr_eq(p, q),
                    (HeapObj::Type(p), HeapObj::Type(q)) => p.name == q.name,
                    (HeapObj::Variant(p), HeapObj::Variant(q)) => Arc::ptr_eq(p, q),
                    _ => false,
                }
            }
            (Val::Obj(_), _) | (_, Val::Obj(_)) => false,
            (Val::Native(p), Val::Native(q)) => std::ptr::eq(p, q),
            _ => crate::value::compare::equal(&scalar_value(x), &scalar_value(y)),
        }
    }

    pub(crate) fn range(&mut self, x: Val, y: Val) -> Result<Val, Ctrl> {
        match (x, y) {
            (Val::Int(lo), Val::Int(hi)) => {
                if hi.saturating_sub(lo) > crate::ops::MAX_RANGE {
                    return Err(Ctrl::runtime(format!("range {lo}..{hi} is too large")));
                }
                let items = (lo..hi).map(Val::Int).collect();
                Ok(Val::Obj(self.heap.alloc(HeapObj::Array(ArrayObj { items, shared: false }))?))
            }
            _ => Err(Ctrl::runtime("range bounds must be integers")),
        }
    }

    pub(crate) fn template(&mut self, first: usize, n: usize) -> Result<Val, Ctrl> {
        let mut out = String::new();
        for i in first..first + n {
            let v = self.regs[i];
            match self.str_of(v) {
                Some(s) => out.push_str(s),
                None => out.push_str(&self.display(v)?),
            }
        }
        self.alloc_str(out)
    }

    /// Budget and garbage collection (GC rule 2: only here).
    pub(crate) fn safepoint(&mut self) -> Result<Option<Exit>, Ctrl> {
        if self.heap.should_collect() {
            self.collect_garbage();
        }
        if self.budget == 0 {
            self.budget = self.run.limits.budget;
            if let Some(link) = &self.link {
                if link.task.is_cancelled() {
                    return Err(Ctrl::cancelled());
                }
            }
            if self.callbacks == 0 {
                return Ok(Some(Exit::Yielded));
            }
        }
        Ok(None)
    }

    /// `e?`: `Ok(inner)` goes on with the payload, `Err(err)` returns `err`.
    pub(crate) fn op_try(&mut self, v: Val, top_level: bool) -> Result<Result<Val, Val>, Ctrl> {
        if let Val::Obj(r) = v {
            match self.heap.get(r) {
                HeapObj::Ok(inner) => return Ok(Ok(*inner)),
                HeapObj::Err(inner) => {
                    if top_level {
                        let inner = *inner;
                        return Err(Ctrl::runtime(format!("unhandled error: {}", self.display(inner)?)));
                    }
                    return Ok(Err(v));
                }
                _ => {}
            }
        }
        Err(Ctrl::runtime("? operator requires a Result value"))
    }

    /// The `{ message, type }` object a `catch` binds.
    pub(crate) fn error_object(&mut self, e: &ForgeError) -> Result<Val, Ctrl> {
        self.import(&crate::interp::eval::error_object(e.kind, &e.message))
    }

    fn must(&mut self, v: Val) -> Result<Val, Ctrl> {
        if let Val::Null = v {
            return Err(Ctrl::runtime("must failed: got null"));
        }
        if let Val::Obj(r) = v {
            match self.heap.get(r) {
                HeapObj::Ok(inner) => return Ok(*inner),
                HeapObj::Err(inner) => {
                    let inner = *inner;
                    return Err(Ctrl::runtime(format!("must failed: {}", self.display(inner)?)));
                }
                _ => {}
            }
        }
        Ok(v)
    }

    // ---- the rest of the instruction set ----------------------------------

    /// Executes an instruction not handled inline by the loop. `Ok(true)`
    /// when the frame stack changed (the loop must reload).
    pub(crate) fn op_other(&mut self, proto: &'static Proto, fi: usize, base: usize, ins: Instr) -> Result<bool, Ctrl> {
        self.span = proto.spans[self.frames[fi].pc - 1];
        let a = base + ins.a();
        let rb = base + ins.b();
        match ins.op() {
            Op::Closure => {
                let child = proto.children[ins.bx()];
                let mut upvals = Vec::with_capacity(child.captures.len());
                for c in &child.captures {
                    upvals.push(match *c {
                        crate::syntax::ast::Capture::Cell(i) => {
                            let reg = base + proto.cell_base as usize + i as usize;
                            match self.regs[reg] {
                                Val::Obj(r) if matches!(self.heap.get(r), HeapObj::Cell(_)) => r,
                                _ => {
                                    let cell = self.heap.alloc(HeapObj::Cell(Val::Null))?;
                                    self.regs[reg] = Val::Obj(cell);
                                    cell
                                }
                            }
                        }
                        crate::syntax::ast::Capture::Upvalue(u) => self.frame_upval(fi, u as usize),
                    });
                }
                let c = ClosureObj { proto: child, upvals: upvals.into_boxed_slice() };
                self.regs[a] = Val::Obj(self.heap.alloc(HeapObj::Closure(c))?);
            }
            Op::Must => {
                let v = self.must(self.regs[rb])?;
                self.regs[a] = v;
            }
            Op::NewArray => {
                let items = self.regs[rb..rb + ins.c()].to_vec();
                self.regs[a] = Val::Obj(self.heap.alloc(HeapObj::Array(ArrayObj { items, shared: false }))?);
            }
            Op::ArrayPush => {
                let v = self.regs[rb];
                if let Val::Obj(r) = self.regs[a] {
                    if let HeapObj::Array(arr) = self.heap.get_mut(r) {
                        arr.items.push(v);
                    }
                }
                self.heap.grew(16);
            }
            Op::ArrayExtend => {
                let items = match self.regs[rb] {
                    Val::Obj(r) => match self.heap.get(r) {
                        HeapObj::Array(arr) => arr.items.clone(),
                        _ => return Err(self.spread_error(self.regs[rb], "an array")),
                    },
                    other => return Err(self.spread_error(other, "an array")),
                };
                items.iter().for_each(|v| self.share(*v));
                self.heap.grew(items.len() * 16);
                if let Val::Obj(r) = self.regs[a] {
                    if let HeapObj::Array(arr) = self.heap.get_mut(r) {
                        arr.items.extend(items);
                    }
                }
            }
            Op::NewObject => {
                self.regs[a] = Val::Obj(self.heap.alloc(HeapObj::Object(Box::default()))?);
            }
            Op::ObjectInsert => {
                let key = Self::name(proto, ins.b()).clone();
                let v = self.regs[base + ins.c()];
                if let Val::Obj(r) = self.regs[a] {
                    if let HeapObj::Object(o) = self.heap.get_mut(r) {
                        o.fields.insert(key, v);
                    }
                }
                self.heap.grew(48);
            }
            Op::ObjectExtend => {
                let fields = match self.regs[rb] {
                    Val::Obj(r) => match self.heap.get(r) {
                        HeapObj::Object(o) => o.fields.clone(),
                        _ => return Err(self.spread_error(self.regs[rb], "an object")),
                    },
                    other => return Err(self.spread_error(other, "an object")),
                };
                fields.values().for_each(|v| self.share(*v));
                self.heap.grew(fields.len() * 48);
                if let Val::Obj(r) = self.regs[a] {
                    if let HeapObj::Object(o) = self.heap.get_mut(r) {
                        for (k, v) in fields {
                            o.fields.insert(k, v);
                        }
                    }
                }
            }
            Op::MakeStruct => {
                let name = Self::name_const(proto, ins.bx()).clone();
                self.make_struct(a, name)?;
            }
            Op::GetField => {
                let name = Self::name(proto, ins.c());
                let v = self.get_field(self.regs[rb], name)?;
                self.regs[a] = v;
            }
            Op::GetIndex => {
                let v = self.get_index(self.regs[rb], self.regs[base + ins.c()])?;
                self.regs[a] = v;
            }
            Op::GetFieldW => {
                let name = Self::name(proto, ins.c());
                self.regs[a] = self.child_for_write(self.regs[rb], ChildKey::Field(name))?;
            }
            Op::GetIndexW => {
                let idx = self.regs[base + ins.c()];
                self.regs[a] = self.child_for_write(self.regs[rb], ChildKey::Index(idx))?;
            }
            Op::SetField => {
                let name = Self::name(proto, ins.b()).clone();
                let v = self.regs[base + ins.c()];
                self.set_field(self.regs[a], name, v)?;
            }
            Op::SetIndex => {
                let idx = self.regs[rb];
                let v = self.regs[base + ins.c()];
                self.set_index(self.regs[a], idx, v)?;
            }
            Op::GetFieldOr => {
                let name = Self::name(proto, ins.c());
                self.regs[a] = match self.regs[rb] {
                    Val::Obj(r) => match self.heap.get(r) {
                        HeapObj::Object(o) => o.fields.get(name.as_str()).copied().unwrap_or(Val::Null),
                        _ => return Err(self.unpack_error(self.regs[rb], "an object")),
                    },
                    other => return Err(self.unpack_error(other, "an object")),
                };
            }
            Op::GetIndexOr | Op::SliceFrom => {
                let items = match self.regs[rb] {
                    Val::Obj(r) => match self.heap.get(r) {
                        HeapObj::Array(arr) => &arr.items,
                        _ => return Err(self.unpack_error(self.regs[rb], "an array")),
                    },
                    other => return Err(self.unpack_error(other, "an array")),
                };
                self.regs[a] = if ins.op() == Op::GetIndexOr {
                    items.get(ins.c()).copied().unwrap_or(Val::Null)
                } else {
                    let rest = items.get(ins.c()..).map(|s| s.to_vec()).unwrap_or_default();
                    rest.iter().for_each(|v| self.share(*v));
                    Val::Obj(self.heap.alloc(HeapObj::Array(ArrayObj { items: rest, shared: false }))?)
                };
            }
            Op::IterInit => self.iter_init(a, self.regs[rb], ins.c() == 1)?,
            Op::IterNext => {
                if self.iter_next(a, ins.c() == 1)? {
                    // Skip the loop's exit jump; the loop reloads `pc`.
                    self.frames[fi].pc += 1;
                    return Ok(true);
                }
            }
            Op::ForRangePrep => {
                if !matches!((self.regs[a], self.regs[a + 1]), (Val::Int(_), Val::Int(_))) {
                    return Err(Ctrl::runtime("range bounds must be integers"));
                }
            }
            Op::MatchCtor => {
                let name = Self::name(proto, ins.c());
                let arity = match self.regs[a] {
                    Val::Int(n) => n as usize,
                    _ => 0,
                };
                let hit = match self.regs[rb] {
                    Val::Obj(r) => match (name.as_str(), self.heap.get(r)) {
                        ("Ok", HeapObj::Ok(_)) | ("Err", HeapObj::Err(_)) | ("Some", HeapObj::Some(_)) => arity <= 1,
                        (_, HeapObj::Enum(e)) => e.variant == *name && arity <= e.payload.len(),
                        _ => false,
                    },
                    _ => false,
                };
                self.regs[a] = Val::Bool(hit);
            }
            Op::MatchUnit => {
                let name = Self::name(proto, ins.c());
                let hit = match self.regs[rb] {
                    Val::None => name.as_str() == "None",
                    Val::Obj(r) => {
                        matches!(self.heap.get(r), HeapObj::Enum(e) if e.payload.is_empty() && e.variant == *name)
                    }
                    _ => false,
                };
                self.regs[a] = Val::Bool(hit);
            }
            Op::Payload => {
                let v = match self.regs[rb] {
                    Val::Obj(r) => match self.heap.get(r) {
                        HeapObj::Ok(x) | HeapObj::Err(x) | HeapObj::Some(x) => *x,
                        HeapObj::Enum(e) => e.payload.get(ins.c()).copied().unwrap_or(Val::Null),
                        _ => Val::Null,
                    },
                    _ => Val::Null,
                };
                self.regs[a] = v;
            }
            Op::NoMatch => {
                let shown = self.display(self.regs[a])?;
                return Err(Ctrl::runtime(format!("no match arm matched {shown}")));
            }
            Op::Print => {
                let mut text = self.display(self.regs[a])?;
                match ins.b() {
                    1 => text = text.to_uppercase(),
                    2 => text = text.to_lowercase(),
                    _ => {}
                }
                text.push('\n');
                crate::output::write(&text);
            }
            Op::Sleep => {
                let v = self.export(self.regs[a])?;
                crate::builtins::concurrency::sleep_for(self, &v, "wait")?;
                self.end_blocking_call();
            }
            Op::Check => {
                let ok = match ins.c() {
                    0 => self.truthy(self.regs[rb]),
                    _ => match self.regs[a] {
                        Val::Null => false,
                        Val::Obj(r) => match self.heap.get(r) {
                            HeapObj::Str(s) => !s.is_empty(),
                            HeapObj::Array(x) => !x.items.is_empty(),
                            _ => true,
                        },
                        _ => true,
                    },
                };
                if !ok {
                    let shown = self.display(self.regs[a])?;
                    return Err(Ctrl::runtime(format!("check failed: {shown} did not pass validation")));
                }
            }
            Op::Fail => {
                let message = Self::name_const(proto, ins.bx()).to_string();
                let kind =
                    if message.starts_with("undefined variable") { ErrorKind::Reference } else { ErrorKind::Runtime };
                return Err(Ctrl::error(kind, message));
            }
            Op::DefStruct => self.def_struct(proto.structs[ins.bx()], a)?,
            Op::DefEnum => {
                let def = proto.enums[ins.bx()];
                let t = TypeValue { name: def.name.clone(), kind: TypeKind::Enum };
                self.regs[a] = Val::Obj(self.heap.alloc(HeapObj::Type(Arc::new(t)))?);
                for (i, v) in def.variants.iter().enumerate() {
                    let obj = if v.arity == 0 {
                        HeapObj::Enum(Box::new(EnumObj {
                            enum_name: def.name.clone(),
                            variant: v.name.clone(),
                            payload: Box::new([]),
                        }))
                    } else {
                        HeapObj::Variant(Arc::new(VariantCtor {
                            enum_name: def.name.clone(),
                            variant: v.name.clone(),
                            arity: v.arity,
                        }))
                    };
                    self.regs[a + 1 + i] = Val::Obj(self.heap.alloc(obj)?);
                }
            }
            Op::DefInterface => {
                let def = proto.interfaces[ins.bx()];
                self.types.interfaces.insert(def.name.clone(), def.methods.clone());
                let t = TypeValue { name: def.name.clone(), kind: TypeKind::Interface(def.methods.clone()) };
                self.regs[a] = Val::Obj(self.heap.alloc(HeapObj::Type(Arc::new(t)))?);
                self.globals_version += 1;
            }
            Op::Impl => self.impl_methods(&proto.impls[ins.bx()], a)?,
            Op::Import => {
                let def = &proto.imports[ins.bx()];
                for (_, slot) in &def.module.globals {
                    self.set_global(*slot as usize, None);
                    self.disinherit(*slot as usize);
                }
                let top = base + proto.nregs as usize + 1;
                self.push_frame(def.main, None, top, 0, top)?;
                if let Some(f) = self.frames.last_mut() {
                    f.kind = FrameKind::Import(def);
                }
                return Ok(true);
            }
            Op::NewSpill => {
                let items = vec![Val::Null; ins.bx()];
                self.regs[a] = Val::Obj(self.heap.alloc(HeapObj::Array(ArrayObj { items, shared: false }))?);
            }
            Op::GetSpill => {
                self.regs[a] = match self.regs[rb] {
                    Val::Obj(r) => match self.heap.get(r) {
                        HeapObj::Array(s) => s.items.get(ins.c()).copied().unwrap_or(Val::Null),
                        _ => Val::Null,
                    },
                    _ => Val::Null,
                };
            }
            Op::SetSpill => {
                let v = self.regs[base + ins.c()];
                if let Val::Obj(r) = self.regs[a] {
                    if let HeapObj::Array(s) = self.heap.get_mut(r) {
                        if let Some(slot) = s.items.get_mut(ins.b()) {
                            *slot = v;
                        }
                    }
                }
            }
            Op::CheckMethod => {
                let recv = self.regs[a];
                let name = Self::name(proto, ins.c());
                if self.find_method(recv, name).is_none() && registry().method(name).is_none() {
                    return Err(self.no_method(recv, name));
                }
            }
            Op::Spawn => {
                let f = self.regs[a + 1];
                let args = self.regs[a + 2..a + 2 + ins.b()].to_vec();
                let h = self.spawn(f, &args)?;
                self.after_spawn(a, h, ins.c() & 1 == 1)?;
            }
            Op::SpawnMethod => {
                let name = Self::name(proto, ins.c() >> 1);
                let recv = self.regs[a + 1];
                let mut args = self.regs[a + 2..a + 2 + ins.b()].to_vec();
                let f = match self.find_method(recv, name) {
                    Some((f, receiver)) => {
                        if let Some(r) = receiver {
                            args.insert(0, r);
                        }
                        f
                    }
                    None => match registry().method(name) {
                        Some(n) => {
                            args.insert(0, recv);
                            Val::Native(n)
                        }
                        None => return Err(self.no_method(recv, name)),
                    },
                };
                let h = self.spawn(f, &args)?;
                self.after_spawn(a, h, ins.c() & 1 == 1)?;
            }
            Op::Await => {
                let v = self.await_value(self.regs[rb])?;
                self.regs[a] = v;
            }
            Op::SquadBegin => self.rare.squads.push(Squad { frame: fi, members: Vec::new() }),
            Op::SquadEnd => {
                let v = self.squad_end()?;
                self.regs[a] = v;
            }
            other => unreachable!("{} is handled by the dispatch loop", other.name()),
        }
        Ok(false)
    }

    fn spread_error(&self, v: Val, what: &str) -> Ctrl {
        let into = if what == "an array" { "an array" } else { "an object" };
        Ctrl::runtime(format!("cannot spread {} into {into}", self.type_name(v)))
    }

    fn unpack_error(&self, v: Val, what: &str) -> Ctrl {
        Ctrl::runtime(format!("cannot unpack {} as {what}", self.type_name(v)))
    }

    fn after_spawn(&mut self, a: usize, h: Arc<crate::concurrency::TaskHandle>, in_squad: bool) -> Result<(), Ctrl> {
        if in_squad {
            if let Some(s) = self.rare.written().and_then(|r| r.squads.last_mut()) {
                s.members.push(h.clone());
            }
        }
        self.regs[a] = Val::Obj(self.heap.alloc(HeapObj::Task(h))?);
        Ok(())
    }
}

/// A step of a write path.
pub(crate) enum ChildKey<'k> {
    Field(&'k ArcStr),
    Index(Val),
}

fn num(v: Val) -> f64 {
    match v {
        Val::Int(n) => n as f64,
        Val::Float(f) => f,
        _ => 0.0,
    }
}

/// A scalar `Val` as a `Value` (no heap involved).
pub(crate) fn scalar_value(v: Val) -> Value {
    match v {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(b),
        Val::Int(n) => Value::Int(n),
        Val::Float(f) => Value::Float(f),
        Val::Native(n) => Value::Builtin(n),
        Val::None => Value::None,
        Val::Obj(_) => Value::Null,
    }
}

/// The operator of an arithmetic opcode (`Add`…`Mod`, also for their `K`
/// forms, which the loop passes as the plain opcode): the VM computes with
/// `crate::ops`, the definitions the interpreter uses. A constant opcode
/// folds to a constant operator.
#[inline(always)]
pub(crate) fn arith_op(op: Op) -> crate::syntax::ast::BinOp {
    use crate::syntax::ast::BinOp;
    match op {
        Op::Add => BinOp::Add,
        Op::Sub => BinOp::Sub,
        Op::Mul => BinOp::Mul,
        Op::Div => BinOp::Div,
        _ => BinOp::Mod,
    }
}
