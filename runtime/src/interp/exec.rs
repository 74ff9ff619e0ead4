//! Statements and blocks.
//!
//! A statement ends with a `Flow`; `return` leaves its value in
//! `Interp::ret`. A block run for its value (FORGE.md §4.3: the value of its
//! last statement when that is an expression statement, else `null`) is run
//! "in tail position" by `exec_block_tail`, which also leaves the value in
//! `ret`, so `if c { return x }` and a function's trailing `if` need no
//! allocation on any path.

use std::sync::Arc;

use arcstr::ArcStr;

use super::types::{FieldInfo, StructInfo};
use super::{Flow, Interp};
use crate::builtins::concurrency::sleep_for;
use crate::error::{Ctrl, EvalResult, Unwind};
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use crate::value::display::display;
use crate::value::{new_cell, TypeKind, TypeValue, Value, VariantCtor};

type FlowResult = Result<Flow, Ctrl>;

/// What a loop does after one run of its body.
enum Next {
    Go,
    Stop(Flow),
}

fn after_body(flow: Flow) -> Next {
    match flow {
        Flow::Normal | Flow::Continue => Next::Go,
        Flow::Break => Next::Stop(Flow::Normal),
        Flow::Return => Next::Stop(Flow::Return),
    }
}

impl Interp<'_> {
    /// Runs a block and yields its value (used in expressions).
    pub(crate) fn block_value(&mut self, b: &'static Block) -> EvalResult {
        let flow = self.exec_block_tail(b)?;
        self.flow_value(flow)
    }

    /// Turns the flow of a block run for its value into that value; a
    /// `return`/`break`/`continue` escaping through an expression becomes a
    /// `Ctrl` (the rare case that allocates).
    pub(crate) fn flow_value(&mut self, flow: Flow) -> EvalResult {
        let v = std::mem::take(&mut self.ret);
        match flow {
            Flow::Normal => Ok(v),
            Flow::Return => Err(Ctrl::new(Unwind::Return(v))),
            Flow::Break => Err(Ctrl::new(Unwind::Break)),
            Flow::Continue => Err(Ctrl::new(Unwind::Continue)),
        }
    }

    pub(crate) fn exec_block(&mut self, b: &'static Block) -> FlowResult {
        for s in &b.stmts {
            let f = self.exec(s)?;
            if f != Flow::Normal {
                return Ok(f);
            }
        }
        Ok(Flow::Normal)
    }

    /// Runs a block whose value is wanted: on `Flow::Normal` the value is in
    /// `self.ret`.
    pub(crate) fn exec_block_tail(&mut self, b: &'static Block) -> FlowResult {
        let Some((last, rest)) = b.stmts.split_last() else {
            self.ret = Value::Null;
            return Ok(Flow::Normal);
        };
        for s in rest {
            let f = self.exec(s)?;
            if f != Flow::Normal {
                return Ok(f);
            }
        }
        self.exec_tail(last)
    }

    fn exec_tail(&mut self, s: &'static Stmt) -> FlowResult {
        if let StmtKind::Return(Some(e)) = &s.kind {
            let r = self.eval(e).map(|v| {
                std::mem::replace(&mut self.ret, v).discard();
                Flow::Return
            });
            return unwind_to_flow(self, r);
        }
        let StmtKind::Expr(e) = &s.kind else {
            let f = self.exec(s)?;
            if f == Flow::Normal {
                self.ret = Value::Null;
            }
            return Ok(f);
        };
        let r = match &e.kind {
            ExprKind::If { cond, then, otherwise } => self.if_flow(cond, then, otherwise.as_ref(), true),
            ExprKind::Match { subject, arms } => self.match_flow(subject, arms, e.span, true),
            _ => self.eval(e).map(|v| {
                std::mem::replace(&mut self.ret, v).discard();
                Flow::Normal
            }),
        };
        unwind_to_flow(self, r)
    }

    /// `if` run as a statement (`tail == false`: no value) or for its value.
    pub(crate) fn if_flow(
        &mut self,
        cond: &'static Expr,
        then: &'static Block,
        otherwise: Option<&'static ElseBranch>,
        tail: bool,
    ) -> FlowResult {
        if self.eval_cond(cond)? {
            return if tail { self.exec_block_tail(then) } else { self.exec_block(then) };
        }
        match otherwise {
            Some(ElseBranch::Block(b)) => {
                if tail {
                    self.exec_block_tail(b)
                } else {
                    self.exec_block(b)
                }
            }
            Some(ElseBranch::If(x)) => match &x.kind {
                ExprKind::If { cond, then, otherwise } => self.if_flow(cond, then, otherwise.as_ref(), tail),
                _ => unreachable!("else-if holds an if"),
            },
            None => {
                if tail {
                    self.ret = Value::Null;
                }
                Ok(Flow::Normal)
            }
        }
    }

    /// Binds a declared name to a value. A captured variable gets a fresh
    /// cell each time its declaration runs (loop variables are fresh per
    /// iteration, FORGE.md §4.6).
    pub(crate) fn bind(&mut self, decl: &VarDecl, v: Value) {
        match decl.slot {
            Slot::Local(i) => self.stack[self.frame.base + i as usize] = v,
            Slot::Cell(c) => self.cells[self.frame.cell_base + c as usize] = Some(new_cell(v)),
            Slot::Global(g) => Arc::make_mut(&mut self.state.globals)[g as usize] = Some(v),
            other => unreachable!("cannot bind {other:?}"),
        }
    }

    /// Binds a function declaration: an existing cell is reused, so closures
    /// that captured the name before the declaration ran see the function.
    fn bind_fn(&mut self, decl: &VarDecl, v: Value) {
        if let Slot::Cell(c) = decl.slot {
            if let Some(cell) = &self.cells[self.frame.cell_base + c as usize] {
                *cell.lock() = v;
                return;
            }
        }
        self.bind(decl, v);
    }

    /// Binds every top-level function of a module before its first statement
    /// runs (FORGE.md §4.2).
    pub(crate) fn hoist(&mut self, body: &'static Block) {
        for s in &body.stmts {
            if let StmtKind::Fn { decl, def, .. } = &s.kind {
                let f = self.make_closure(def);
                self.bind(decl, f);
            }
        }
    }

    /// Runs one statement. A `return`/`break`/`continue` that escaped from
    /// inside an expression (a `match` arm, say) is turned back into a `Flow`.
    pub(crate) fn exec(&mut self, s: &'static Stmt) -> FlowResult {
        let r = self.exec_stmt(s);
        unwind_to_flow(self, r)
    }

    fn exec_stmt(&mut self, s: &'static Stmt) -> FlowResult {
        match &s.kind {
            StmtKind::Expr(e) => match &e.kind {
                ExprKind::If { cond, then, otherwise } => self.if_flow(cond, then, otherwise.as_ref(), false),
                ExprKind::Match { subject, arms } => self.match_flow(subject, arms, e.span, false),
                _ => self.eval(e).map(|v| {
                    v.discard();
                    Flow::Normal
                }),
            },
            StmtKind::Let { decl, value } => {
                let v = self.eval(value)?;
                self.bind(decl, v);
                Ok(Flow::Normal)
            }
            StmtKind::Assign { place, op, value } => self.assign(place, *op, value).map(|_| Flow::Normal),
            StmtKind::Return(v) => {
                let v = match v {
                    Some(e) => self.eval(e)?,
                    None => Value::Null,
                };
                std::mem::replace(&mut self.ret, v).discard();
                Ok(Flow::Return)
            }
            StmtKind::While { cond, body } => loop {
                self.tick().map_err(|c| c.at(s.span))?;
                if !self.eval_cond(cond)? {
                    return Ok(Flow::Normal);
                }
                if let Next::Stop(f) = after_body(self.exec_block(body)?) {
                    return Ok(f);
                }
            },
            StmtKind::For { first, second, iter, body } => self.exec_for(first, second.as_ref(), iter, body, s.span),
            StmtKind::Fn { decl, def, .. } => {
                if !matches!(decl.slot, Slot::Global(_)) {
                    let f = self.make_closure(def);
                    self.bind_fn(decl, f);
                }
                Ok(Flow::Normal) // top-level functions were hoisted
            }
            StmtKind::Break => Ok(Flow::Break),
            StmtKind::Continue => Ok(Flow::Continue),
            StmtKind::Loop(body) => loop {
                self.tick().map_err(|c| c.at(s.span))?;
                if let Next::Stop(f) = after_body(self.exec_block(body)?) {
                    return Ok(f);
                }
            },
            StmtKind::Repeat { count, body } => self.exec_repeat(count, body, s.span),
            StmtKind::Print { kind, value } => self.exec_print(*kind, value),
            StmtKind::LetTuple { decls, value } => self.exec_let_tuple(decls, value),
            StmtKind::Struct(def) => self.exec_struct(def),
            StmtKind::Enum { decl, def } => self.exec_enum(decl, def),
            StmtKind::Interface { decl, def } => {
                Arc::make_mut(&mut self.state.types).interfaces.insert(def.name.clone(), def.methods.clone());
                let t = TypeValue { name: def.name.clone(), kind: TypeKind::Interface(def.methods.clone()) };
                self.bind(decl, Value::Type(Arc::new(t)));
                Ok(Flow::Normal)
            }
            StmtKind::Impl { type_name, interface, methods } => {
                self.exec_impl(type_name, interface.as_ref(), methods, s)
            }
            StmtKind::Import { module, bindings, names, path } => match module {
                Some(m) => self.exec_import(m, bindings, s.span),
                None if names.as_ref().is_some_and(|n| n.is_empty()) => Ok(Flow::Normal),
                None => Err(Ctrl::runtime(format!("cannot import '{path}': import cycle")).at(s.span)),
            },
            StmtKind::Wait(e) => {
                let v = self.eval(e)?;
                self.in_native(s.span, |me| sleep_for(me, &v, "wait")).map_err(|c| c.at(s.span))?;
                Ok(Flow::Normal)
            }
            StmtKind::Unpack { pattern, value } => self.exec_unpack(pattern, value),
            StmtKind::TryCatch { body, name, handler } => self.exec_try(body, name, handler),
            StmtKind::Check { value, kind } => self.exec_check(value, kind),
            StmtKind::Decorator(d) => match d.name.as_str() {
                "server" => Err(Ctrl::runtime(
                    "@server: HTTP services (forge serve) are not available yet in this version of forge",
                )
                .at(d.span)),
                _ => Ok(Flow::Normal),
            },
        }
    }

    #[inline(never)]
    fn exec_repeat(&mut self, count: &'static Expr, body: &'static Block, span: Span) -> FlowResult {
        let n = match self.eval(count)? {
            Value::Int(n) => n,
            Value::Float(f) if f.is_finite() => f as i64,
            other => {
                let msg = format!("repeat needs a number of times, got {}", other.type_name());
                return Err(Ctrl::runtime(msg).at(count.span));
            }
        };
        for _ in 0..n.max(0) {
            self.tick().map_err(|c| c.at(span))?;
            if let Next::Stop(f) = after_body(self.exec_block(body)?) {
                return Ok(f);
            }
        }
        Ok(Flow::Normal)
    }

    #[inline(never)]
    fn exec_print(&mut self, kind: PrintKind, value: &'static Expr) -> FlowResult {
        let v = self.eval(value)?;
        let mut text = display(&v);
        match kind {
            PrintKind::Say => {}
            PrintKind::Yell => text = text.to_uppercase(),
            PrintKind::Whisper => text = text.to_lowercase(),
        }
        text.push('\n');
        crate::output::write(&text);
        Ok(Flow::Normal)
    }

    #[inline(never)]
    fn exec_let_tuple(&mut self, decls: &'static [VarDecl], value: &'static Expr) -> FlowResult {
        let v = self.eval(value)?;
        let Value::Array(items) = &v else {
            return Err(Ctrl::runtime(format!("cannot destructure {} as a tuple", v.type_name())).at(value.span));
        };
        for (i, d) in decls.iter().enumerate() {
            self.bind(d, items.get(i).cloned().unwrap_or(Value::Null));
        }
        Ok(Flow::Normal)
    }

    #[inline(never)]
    fn exec_try(&mut self, body: &'static Block, name: &'static VarDecl, handler: &'static Block) -> FlowResult {
        let (stack, cells, squads) = (self.stack.len(), self.cells.len(), self.squads.len());
        match self.exec_block(body) {
            Err(c) if c.is_error() => {
                let Unwind::Error(e) = *c.0 else { unreachable!() };
                self.stack.truncate(stack);
                self.cells.truncate(cells);
                self.squads.truncate(squads);
                self.bind(name, super::eval::error_object(e.kind, &e.message));
                self.exec_block(handler)
            }
            other => other,
        }
    }

    #[inline(never)]
    fn exec_for(
        &mut self,
        first: &'static VarDecl,
        second: Option<&'static VarDecl>,
        iter: &'static Expr,
        body: &'static Block,
        span: Span,
    ) -> FlowResult {
        // `for i in a..b` counts without building the array.
        if let (ExprKind::Range(lo, hi), None) = (&iter.kind, second) {
            let (lo, hi) = (self.eval(lo)?, self.eval(hi)?);
            let (Value::Int(lo), Value::Int(hi)) = (lo, hi) else {
                return Err(Ctrl::runtime("range bounds must be integers").at(iter.span));
            };
            for i in lo..hi {
                self.tick().map_err(|c| c.at(span))?;
                self.bind(first, Value::Int(i));
                if let Next::Stop(f) = after_body(self.exec_block(body)?) {
                    return Ok(f);
                }
            }
            return Ok(Flow::Normal);
        }
        match self.eval(iter)? {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.tick().map_err(|c| c.at(span))?;
                    match second {
                        Some(s) => {
                            self.bind(first, Value::Int(i as i64));
                            self.bind(s, item.clone());
                        }
                        None => self.bind(first, item.clone()),
                    }
                    if let Next::Stop(f) = after_body(self.exec_block(body)?) {
                        return Ok(f);
                    }
                }
                Ok(Flow::Normal)
            }
            Value::Object(obj) => {
                for (k, v) in obj.fields.iter() {
                    self.tick().map_err(|c| c.at(span))?;
                    self.bind(first, Value::Str(k.clone()));
                    if let Some(s) = second {
                        self.bind(s, v.clone());
                    }
                    if let Next::Stop(f) = after_body(self.exec_block(body)?) {
                        return Ok(f);
                    }
                }
                Ok(Flow::Normal)
            }
            Value::Channel(ch) => loop {
                self.tick().map_err(|c| c.at(span))?;
                self.native_span = iter.span;
                let received = crate::builtins::concurrency::receive(self, &ch).map_err(|c| c.at(iter.span))?;
                let Some(v) = received else { return Ok(Flow::Normal) };
                self.bind(first, v);
                if let Next::Stop(f) = after_body(self.exec_block(body)?) {
                    return Ok(f);
                }
            },
            _ => Err(Ctrl::runtime("can only iterate over arrays, objects, or channels").at(iter.span)),
        }
    }

    #[inline(never)]
    fn exec_struct(&mut self, def: &'static StructDef) -> FlowResult {
        let mut fields = Vec::with_capacity(def.fields.len());
        for f in &def.fields {
            // Defaults are evaluated when the declaration runs (see README).
            let default = match &f.default {
                Some(e) => Some(self.eval(e)?),
                None => None,
            };
            fields.push(FieldInfo { name: f.name.clone(), default, embedded: f.embedded });
        }
        let info = Arc::new(StructInfo { name: def.name.clone(), fields });
        Arc::make_mut(&mut self.state.types).structs.insert(def.name.clone(), info);
        let t = TypeValue { name: def.name.clone(), kind: TypeKind::Struct };
        self.bind(&def.decl, Value::Type(Arc::new(t)));
        Ok(Flow::Normal)
    }

    #[inline(never)]
    fn exec_enum(&mut self, decl: &'static VarDecl, def: &'static EnumDef) -> FlowResult {
        self.bind(decl, Value::Type(Arc::new(TypeValue { name: def.name.clone(), kind: TypeKind::Enum })));
        for v in &def.variants {
            let value = if v.arity == 0 {
                Self::construct_variant(&def.name, &v.name, Vec::new())
            } else {
                let ctor = VariantCtor { enum_name: def.name.clone(), variant: v.name.clone(), arity: v.arity };
                Value::Variant(Arc::new(ctor))
            };
            self.bind(&v.decl, value);
        }
        Ok(Flow::Normal)
    }

    #[inline(never)]
    fn exec_impl(
        &mut self,
        type_name: &'static ArcStr,
        interface: Option<&'static ArcStr>,
        methods: &'static [Arc<FnDef>],
        s: &'static Stmt,
    ) -> FlowResult {
        for m in methods {
            let f = self.make_closure(m);
            Arc::make_mut(&mut self.state.types).add_method(type_name.clone(), m.name.clone(), f);
        }
        let Some(iface) = interface else { return Ok(Flow::Normal) };
        let required = self.state.types.interfaces.get(iface).cloned().unwrap_or_default();
        for name in required {
            if self.state.types.method(type_name, &name).is_none() {
                let msg = format!("'{type_name}' does not implement '{name}' required by power '{iface}'");
                return Err(Ctrl::runtime(msg).at(s.span));
            }
        }
        Ok(Flow::Normal)
    }

    #[inline(never)]
    fn exec_import(&mut self, module: &'static Module, bindings: &'static [(u32, u32)], span: Span) -> FlowResult {
        // A fresh environment: the module's own globals start unset.
        {
            let globals = Arc::make_mut(&mut self.state.globals);
            for (_, slot) in &module.globals {
                globals[*slot as usize] = None;
            }
        }
        self.run_module(&module.main).map_err(|c| c.at(span))?;
        let globals = Arc::make_mut(&mut self.state.globals);
        for (src, dst) in bindings {
            let v = globals[*src as usize].clone();
            globals[*dst as usize] = v;
        }
        Ok(Flow::Normal)
    }

    /// Runs a module's top level in a frame of its own.
    #[inline(never)]
    pub(crate) fn run_module(&mut self, main: &'static FnDef) -> EvalResult {
        self.enter_call()?;
        let base = self.stack.len();
        let cell_base = self.cells.len();
        let saved = std::mem::replace(&mut self.frame, super::Frame { base, cell_base, closure: None });
        self.stack.resize(base + main.locals as usize, Value::Null);
        self.cells.resize(cell_base + main.cells as usize, None);
        self.hoist(&main.body);
        let r = self.exec_block_tail(&main.body);
        self.stack.truncate(base);
        self.cells.truncate(cell_base);
        self.frame = saved;
        self.depth -= 1;
        r.map(|_| std::mem::take(&mut self.ret))
    }

    #[inline(never)]
    fn exec_unpack(&mut self, pattern: &'static UnpackPattern, value: &'static Expr) -> FlowResult {
        let v = self.eval(value)?;
        match pattern {
            UnpackPattern::Object(decls) => {
                let Value::Object(obj) = &v else {
                    return Err(Ctrl::runtime(format!("cannot unpack {} as an object", v.type_name())).at(value.span));
                };
                for d in decls {
                    self.bind(d, obj.fields.get(&d.name).cloned().unwrap_or(Value::Null));
                }
            }
            UnpackPattern::Array { items, rest } => {
                let Value::Array(arr) = &v else {
                    return Err(Ctrl::runtime(format!("cannot unpack {} as an array", v.type_name())).at(value.span));
                };
                for (i, d) in items.iter().enumerate() {
                    self.bind(d, arr.get(i).cloned().unwrap_or(Value::Null));
                }
                if let Some(r) = rest {
                    let tail = arr.get(items.len()..).map(|s| s.to_vec()).unwrap_or_default();
                    self.bind(r, Value::array(tail));
                }
            }
        }
        Ok(Flow::Normal)
    }

    #[inline(never)]
    fn exec_check(&mut self, value: &'static Expr, kind: &'static CheckKind) -> FlowResult {
        let v = self.eval(value)?;
        let ok = match kind {
            CheckKind::Truthy => v.truthy(),
            CheckKind::NotEmpty => match &v {
                Value::Null => false,
                Value::Str(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => true,
            },
            CheckKind::Between(lo, hi) => {
                let lo = self.eval(lo)?;
                let hi = self.eval(hi)?;
                let ge = crate::ops::compare_op(BinOp::Ge, &v, &lo).map_err(|c| c.at(value.span))?;
                let le = crate::ops::compare_op(BinOp::Le, &v, &hi).map_err(|c| c.at(value.span))?;
                ge && le
            }
        };
        if ok {
            Ok(Flow::Normal)
        } else {
            Err(Ctrl::runtime(format!("check failed: {} did not pass validation", display(&v))).at(value.span))
        }
    }
}

/// A `return`/`break`/`continue` that escaped from inside an expression is
/// turned back into the statement's `Flow`.
#[inline(always)]
fn unwind_to_flow(interp: &mut Interp<'_>, r: FlowResult) -> FlowResult {
    match r {
        Ok(f) => Ok(f),
        Err(c) => unwind_slow(interp, c),
    }
}

#[cold]
#[inline(never)]
fn unwind_slow(interp: &mut Interp<'_>, c: Ctrl) -> FlowResult {
    match *c.0 {
        Unwind::Return(v) => {
            interp.ret = v;
            Ok(Flow::Return)
        }
        Unwind::Break => Ok(Flow::Break),
        Unwind::Continue => Ok(Flow::Continue),
        other => Err(Ctrl::new(other)),
    }
}
