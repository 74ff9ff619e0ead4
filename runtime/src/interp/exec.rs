//! Statements and blocks. A block's value (FORGE.md §4.3) is the value of
//! its last statement when that is an expression statement, else `null`.

use std::sync::Arc;

use arcstr::ArcStr;

use super::types::{FieldInfo, StructInfo};
use super::Interp;
use crate::builtins::concurrency::sleep_for;
use crate::error::{Ctrl, EvalResult};
use crate::syntax::ast::*;
use crate::value::display::display;
use crate::value::{new_cell, TypeKind, TypeValue, Value, VariantCtor};

impl Interp<'_> {
    /// Runs a block and yields its value.
    pub(crate) fn block_value(&mut self, b: &'static Block) -> EvalResult {
        let Some((last, rest)) = b.stmts.split_last() else {
            return Ok(Value::Null);
        };
        for s in rest {
            self.exec(s)?;
        }
        match &last.kind {
            StmtKind::Expr(e) => self.eval(e),
            _ => self.exec(last).map(|_| Value::Null),
        }
    }

    pub(crate) fn exec_block(&mut self, b: &'static Block) -> Result<(), Ctrl> {
        for s in &b.stmts {
            self.exec(s)?;
        }
        Ok(())
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

    pub(crate) fn exec(&mut self, s: &'static Stmt) -> Result<(), Ctrl> {
        match &s.kind {
            StmtKind::Expr(e) => self.eval(e).map(drop),
            StmtKind::Let { decl, value } => {
                let v = self.eval(value)?;
                self.bind(decl, v);
                Ok(())
            }
            StmtKind::Assign { place, op, value } => self.assign(place, *op, value),
            StmtKind::While { cond, body } => loop {
                self.tick().map_err(|c| c.at(s.span))?;
                if !self.eval(cond)?.truthy() {
                    return Ok(());
                }
                match self.exec_block(body) {
                    Ok(()) | Err(Ctrl::Continue) => {}
                    Err(Ctrl::Break) => return Ok(()),
                    Err(other) => return Err(other),
                }
            },
            StmtKind::Return(v) => {
                let v = match v {
                    Some(e) => self.eval(e)?,
                    None => Value::Null,
                };
                Err(Ctrl::Return(v))
            }
            StmtKind::For { first, second, iter, body } => self.exec_for(first, second.as_ref(), iter, body, s.span),
            StmtKind::Fn { decl, def, .. } => {
                if matches!(decl.slot, Slot::Global(_)) {
                    return Ok(()); // hoisted
                }
                let f = self.make_closure(def);
                self.bind_fn(decl, f);
                Ok(())
            }
            StmtKind::LetTuple { decls, value } => {
                let v = self.eval(value)?;
                let Value::Array(items) = &v else {
                    return Err(
                        Ctrl::runtime(format!("cannot destructure {} as a tuple", v.type_name())).at(value.span)
                    );
                };
                for (i, d) in decls.iter().enumerate() {
                    self.bind(d, items.get(i).cloned().unwrap_or(Value::Null));
                }
                Ok(())
            }
            StmtKind::Loop(body) => loop {
                self.tick().map_err(|c| c.at(s.span))?;
                match self.exec_block(body) {
                    Ok(()) | Err(Ctrl::Continue) => {}
                    Err(Ctrl::Break) => return Ok(()),
                    Err(other) => return Err(other),
                }
            },
            StmtKind::Repeat { count, body } => {
                let n = match self.eval(count)? {
                    Value::Int(n) => n,
                    Value::Float(f) if f.is_finite() => f as i64,
                    other => {
                        return Err(Ctrl::runtime(format!("repeat needs a number of times, got {}", other.type_name()))
                            .at(count.span))
                    }
                };
                for _ in 0..n.max(0) {
                    self.tick().map_err(|c| c.at(s.span))?;
                    match self.exec_block(body) {
                        Ok(()) | Err(Ctrl::Continue) => {}
                        Err(Ctrl::Break) => return Ok(()),
                        Err(other) => return Err(other),
                    }
                }
                Ok(())
            }
            StmtKind::Break => Err(Ctrl::Break),
            StmtKind::Continue => Err(Ctrl::Continue),
            StmtKind::Print { kind, value } => {
                let v = self.eval(value)?;
                let mut text = display(&v);
                match kind {
                    PrintKind::Say => {}
                    PrintKind::Yell => text = text.to_uppercase(),
                    PrintKind::Whisper => text = text.to_lowercase(),
                }
                text.push('\n');
                crate::output::write(&text);
                Ok(())
            }
            StmtKind::Struct(def) => self.exec_struct(def),
            StmtKind::Enum { decl, def } => {
                self.bind(decl, Value::Type(Arc::new(TypeValue { name: def.name.clone(), kind: TypeKind::Enum })));
                for v in &def.variants {
                    let value = if v.arity == 0 {
                        Self::construct_variant(&def.name, &v.name, Vec::new())
                    } else {
                        Value::Variant(Arc::new(VariantCtor {
                            enum_name: def.name.clone(),
                            variant: v.name.clone(),
                            arity: v.arity,
                        }))
                    };
                    self.bind(&v.decl, value);
                }
                Ok(())
            }
            StmtKind::Interface { decl, def } => {
                Arc::make_mut(&mut self.state.types).interfaces.insert(def.name.clone(), def.methods.clone());
                let t = TypeValue { name: def.name.clone(), kind: TypeKind::Interface(def.methods.clone()) };
                self.bind(decl, Value::Type(Arc::new(t)));
                Ok(())
            }
            StmtKind::Impl { type_name, interface, methods } => {
                self.exec_impl(type_name, interface.as_ref(), methods, s)
            }
            StmtKind::Import { module, bindings, names, path } => match module {
                Some(m) => self.exec_import(m, bindings, s.span),
                None if names.as_ref().is_some_and(|n| n.is_empty()) => Ok(()),
                None => Err(Ctrl::runtime(format!("cannot import '{path}': import cycle")).at(s.span)),
            },
            StmtKind::Wait(e) => {
                let v = self.eval(e)?;
                self.native_span = s.span;
                sleep_for(self, &v, "wait").map_err(|c| c.at(s.span))
            }
            StmtKind::Unpack { pattern, value } => self.exec_unpack(pattern, value),
            StmtKind::TryCatch { body, name, handler } => {
                let (stack, cells, squads) = (self.stack.len(), self.cells.len(), self.squads.len());
                match self.exec_block(body) {
                    Err(Ctrl::Error(e)) => {
                        self.stack.truncate(stack.max(self.frame.base + self.frame.def.locals as usize));
                        self.cells.truncate(cells);
                        self.squads.truncate(squads);
                        self.bind(name, super::eval::error_object(e.kind, &e.message));
                        self.exec_block(handler)
                    }
                    other => other,
                }
            }
            StmtKind::Check { value, kind } => self.exec_check(value, kind),
            StmtKind::Decorator(d) => match d.name.as_str() {
                "server" => Err(Ctrl::runtime(
                    "@server: HTTP services (forge serve) are not available yet in this version of forge",
                )
                .at(d.span)),
                _ => Ok(()),
            },
        }
    }

    fn exec_for(
        &mut self,
        first: &'static VarDecl,
        second: Option<&'static VarDecl>,
        iter: &'static Expr,
        body: &'static Block,
        span: crate::syntax::span::Span,
    ) -> Result<(), Ctrl> {
        // `for i in a..b` counts without building the array.
        if let (ExprKind::Range(lo, hi), None) = (&iter.kind, second) {
            let (lo, hi) = (self.eval(lo)?, self.eval(hi)?);
            let (Value::Int(lo), Value::Int(hi)) = (lo, hi) else {
                return Err(Ctrl::runtime("range bounds must be integers").at(iter.span));
            };
            for i in lo..hi {
                self.tick().map_err(|c| c.at(span))?;
                self.bind(first, Value::Int(i));
                match self.exec_block(body) {
                    Ok(()) | Err(Ctrl::Continue) => {}
                    Err(Ctrl::Break) => return Ok(()),
                    Err(other) => return Err(other),
                }
            }
            return Ok(());
        }
        let collection = self.eval(iter)?;
        match collection {
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
                    match self.exec_block(body) {
                        Ok(()) | Err(Ctrl::Continue) => {}
                        Err(Ctrl::Break) => return Ok(()),
                        Err(other) => return Err(other),
                    }
                }
                Ok(())
            }
            Value::Object(obj) => {
                for (k, v) in obj.fields.iter() {
                    self.tick().map_err(|c| c.at(span))?;
                    self.bind(first, Value::Str(k.clone()));
                    if let Some(s) = second {
                        self.bind(s, v.clone());
                    }
                    match self.exec_block(body) {
                        Ok(()) | Err(Ctrl::Continue) => {}
                        Err(Ctrl::Break) => return Ok(()),
                        Err(other) => return Err(other),
                    }
                }
                Ok(())
            }
            Value::Channel(ch) => loop {
                self.tick().map_err(|c| c.at(span))?;
                self.native_span = iter.span;
                let Some(v) = crate::builtins::concurrency::receive(self, &ch).map_err(|c| c.at(iter.span))? else {
                    return Ok(());
                };
                self.bind(first, v);
                match self.exec_block(body) {
                    Ok(()) | Err(Ctrl::Continue) => {}
                    Err(Ctrl::Break) => return Ok(()),
                    Err(other) => return Err(other),
                }
            },
            _ => Err(Ctrl::runtime("can only iterate over arrays, objects, or channels").at(iter.span)),
        }
    }

    fn exec_struct(&mut self, def: &'static StructDef) -> Result<(), Ctrl> {
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
        self.bind(&def.decl, Value::Type(Arc::new(TypeValue { name: def.name.clone(), kind: TypeKind::Struct })));
        Ok(())
    }

    fn exec_impl(
        &mut self,
        type_name: &'static ArcStr,
        interface: Option<&'static ArcStr>,
        methods: &'static [Arc<FnDef>],
        s: &'static Stmt,
    ) -> Result<(), Ctrl> {
        for m in methods {
            let f = self.make_closure(m);
            Arc::make_mut(&mut self.state.types).add_method(type_name.clone(), m.name.clone(), f);
        }
        let Some(iface) = interface else {
            return Ok(());
        };
        let required = self.state.types.interfaces.get(iface).cloned().unwrap_or_default();
        for name in required {
            if self.state.types.method(type_name, &name).is_none() {
                return Err(Ctrl::runtime(format!(
                    "'{type_name}' does not implement '{name}' required by power '{iface}'"
                ))
                .at(s.span));
            }
        }
        Ok(())
    }

    fn exec_import(
        &mut self,
        module: &'static Module,
        bindings: &'static [(u32, u32)],
        span: crate::syntax::span::Span,
    ) -> Result<(), Ctrl> {
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
        Ok(())
    }

    /// Runs a module's top level in a frame of its own.
    pub(crate) fn run_module(&mut self, main: &'static FnDef) -> EvalResult {
        self.enter_call()?;
        let base = self.stack.len();
        let cell_base = self.cells.len();
        let saved = std::mem::replace(&mut self.frame, super::Frame { base, cell_base, closure: None, def: main });
        self.stack.resize(base + main.locals as usize, Value::Null);
        self.cells.resize(cell_base + main.cells as usize, None);
        self.hoist(&main.body);
        let r = self.block_value(&main.body);
        self.stack.truncate(base);
        self.cells.truncate(cell_base);
        self.frame = saved;
        self.depth -= 1;
        match r {
            Err(Ctrl::Return(v)) => Ok(v),
            other => other,
        }
    }

    fn exec_unpack(&mut self, pattern: &'static UnpackPattern, value: &'static Expr) -> Result<(), Ctrl> {
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
        Ok(())
    }

    fn exec_check(&mut self, value: &'static Expr, kind: &'static CheckKind) -> Result<(), Ctrl> {
        let v = self.eval(value)?;
        let ok = match kind {
            CheckKind::Truthy => v.truthy(),
            CheckKind::NotEmpty => {
                !matches!(&v, Value::Null)
                    && !matches!(&v, Value::Str(s) if s.is_empty())
                    && !matches!(&v, Value::Array(a) if a.is_empty())
            }
            CheckKind::Between(lo, hi) => {
                let lo = self.eval(lo)?;
                let hi = self.eval(hi)?;
                let ge = crate::ops::compare_op(BinOp::Ge, &v, &lo).map_err(|c| c.at(value.span))?;
                let le = crate::ops::compare_op(BinOp::Le, &v, &hi).map_err(|c| c.at(value.span))?;
                ge && le
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Ctrl::runtime(format!("check failed: {} did not pass validation", display(&v))).at(value.span))
        }
    }
}
