//! Calls (functions, natives, variant constructors, methods) and reads of
//! fields and indexes.
//!
//! Arguments are evaluated straight onto the value stack; a Forge function's
//! frame starts at its first argument, so parameters need no copying.

use std::sync::Arc;

use smallvec::SmallVec;

use super::{Frame, Interp};
use crate::builtins::{registry, NativeFn};
use crate::error::{msg, Ctrl, EvalResult, Unwind, MAX_TRACE};
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use crate::value::{new_cell, Closure, Value};

pub(crate) type NativeArgs = SmallVec<[Value; 4]>;

impl Interp<'_> {
    #[inline(never)]
    pub(crate) fn eval_call(&mut self, callee: &'static Expr, args: &'static [Expr], span: Span) -> EvalResult {
        if let ExprKind::Var(VarRef { slot, .. }) = &callee.kind {
            match *slot {
                // A named top-level function: no need to clone its closure.
                Slot::Global(g) => {
                    if let Some(Value::Func(c)) = &self.state.globals[g as usize] {
                        if c.captures.is_empty() {
                            let def = c.def;
                            self.push_args(args)?;
                            return self.call_closure(def, None, args.len(), span);
                        }
                    }
                }
                Slot::Builtin(b) => {
                    if let Value::Builtin(native) = registry().value(b) {
                        let native: &'static NativeFn = native;
                        let argv = self.eval_native_args(None, args)?;
                        return self.call_native(native, argv, span);
                    }
                }
                _ => {}
            }
        }
        let f = self.eval(callee)?;
        self.push_args(args)?;
        self.call_value(&f, args.len(), span)
    }

    pub(crate) fn push_args(&mut self, args: &'static [Expr]) -> Result<(), Ctrl> {
        let start = self.stack.len();
        for a in args {
            match self.operand(a) {
                Ok(v) => self.stack.push(v),
                Err(e) => {
                    self.stack.truncate(start);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    #[inline(never)]
    fn eval_native_args(&mut self, first: Option<Value>, args: &'static [Expr]) -> Result<NativeArgs, Ctrl> {
        let mut argv = NativeArgs::new();
        argv.extend(first);
        for a in args {
            argv.push(self.eval(a)?);
        }
        Ok(argv)
    }

    /// Calls `f` with the `argc` values on top of the stack (consuming them).
    pub(crate) fn call_value(&mut self, f: &Value, argc: usize, span: Span) -> EvalResult {
        match f {
            Value::Func(c) => {
                let closure = if c.captures.is_empty() { None } else { Some(c.clone()) };
                self.call_closure(c.def, closure, argc, span)
            }
            Value::Builtin(native) => {
                let start = self.stack.len() - argc;
                let argv: NativeArgs = self.stack.drain(start..).collect();
                self.call_native(native, argv, span)
            }
            Value::Variant(v) => {
                let start = self.stack.len() - argc;
                let args: Vec<Value> = self.stack.drain(start..).collect();
                if args.len() != v.arity {
                    return Err(msg::arity(&v.variant, v.arity, v.arity, args.len()).at(span));
                }
                Ok(Self::construct_variant(&v.enum_name, &v.variant, args))
            }
            other => {
                let len = self.stack.len();
                self.stack.truncate(len - argc);
                Err(msg::not_callable(other.type_name()).at(span))
            }
        }
    }

    #[inline(never)]
    pub(crate) fn call_native(&mut self, native: &'static NativeFn, mut argv: NativeArgs, span: Span) -> EvalResult {
        let r = self.in_native(span, |me| native.call(me, &mut argv));
        r.map_err(|c| c.at(span))
    }

    /// Runs a Forge function whose `argc` arguments are on top of the stack.
    pub(crate) fn call_closure(
        &mut self,
        def: &'static FnDef,
        closure: Option<Arc<Closure>>,
        argc: usize,
        span: Span,
    ) -> EvalResult {
        let nparams = def.params.len();
        let required = def.required_params();
        if argc < required || argc > nparams {
            let len = self.stack.len();
            self.stack.truncate(len - argc);
            return Err(msg::arity(&def.name, required, nparams, argc).at(span));
        }
        if let Err(e) = self.enter_call_and_tick() {
            let len = self.stack.len();
            self.stack.truncate(len - argc);
            return Err(e.at(span));
        }
        let base = self.stack.len() - argc;
        let cell_base = self.cells.len();
        let saved = std::mem::replace(&mut self.frame, Frame { base, cell_base, closure });
        let frame_len = base + def.locals as usize;
        if self.stack.len() < frame_len {
            self.stack.resize(frame_len, Value::Null);
        }
        if def.cells > 0 {
            self.cells.resize(cell_base + def.cells as usize, None);
        }
        let r = self.run_body(def, argc);
        self.stack.truncate(base);
        self.cells.truncate(cell_base);
        self.frame = saved;
        self.depth -= 1;
        match r {
            Ok(v) => Ok(v),
            Err(mut c) => {
                if let Unwind::Error(e) = &mut *c.0 {
                    if e.trace.len() < MAX_TRACE {
                        e.trace.push((def.name.clone(), span));
                    }
                }
                Err(c)
            }
        }
    }

    fn run_body(&mut self, def: &'static FnDef, argc: usize) -> EvalResult {
        for (i, p) in def.params.iter().enumerate() {
            if i >= argc {
                let d = p.default.as_ref().expect("arity checked");
                let v = self.eval(d)?;
                self.stack[self.frame.base + i] = v;
            }
            if let Slot::Cell(c) = p.decl.slot {
                let v = std::mem::take(&mut self.stack[self.frame.base + i]);
                self.cells[self.frame.cell_base + c as usize] = Some(new_cell(v));
            }
        }
        self.exec_block_tail(&def.body)?;
        Ok(std::mem::take(&mut self.ret))
    }

    /// `recv.name(args)`.
    #[inline(never)]
    pub(crate) fn call_method(
        &mut self,
        recv: Value,
        name: &'static arcstr::ArcStr,
        args: &'static [Expr],
        span: Span,
    ) -> EvalResult {
        if let Some((f, receiver)) = self.find_method(&recv, name) {
            let start = self.stack.len();
            if let Some(r) = receiver {
                self.stack.push(r);
            }
            let pushed = self.stack.len() - start;
            self.push_args(args).inspect_err(|_| self.stack.truncate(start))?;
            return self.call_value(&f, pushed + args.len(), span);
        }
        if let Some(native) = registry().method(name) {
            let argv = self.eval_native_args(Some(recv), args)?;
            return self.call_native(native, argv, span);
        }
        Err(no_method(&recv, name).at(span))
    }

    /// A user-defined method (or a function-valued field) that `recv.name`
    /// names, with the receiver to pass first (`None` for fields and static
    /// methods).
    pub(crate) fn find_method(&self, recv: &Value, name: &str) -> Option<(Value, Option<Value>)> {
        match recv {
            Value::Object(o) => {
                if let Some(v) = o.fields.get(name) {
                    if v.is_callable() {
                        return Some((v.clone(), None));
                    }
                }
                let tag = o.tag.as_ref()?;
                if let Some(m) = self.state.types.method(tag, name) {
                    return Some((m.clone(), Some(recv.clone())));
                }
                let info = self.state.types.structs.get(tag)?;
                info.embedded().find_map(|e| o.fields.get(e).and_then(|inner| self.find_method(inner, name)))
            }
            Value::Enum(e) => self.state.types.method(&e.enum_name, name).map(|m| (m.clone(), Some(recv.clone()))),
            Value::Type(t) => self.state.types.method(&t.name, name).map(|m| (m.clone(), None)),
            _ => None,
        }
    }

    /// Whether `v.name(…)` would find something to call (for `satisfies`).
    pub(crate) fn answers(&self, v: &Value, name: &str) -> bool {
        self.find_method(v, name).is_some()
    }

    /// `base.name`.
    #[inline(never)]
    pub(crate) fn field(&mut self, base: &Value, name: &str) -> EvalResult {
        match base {
            Value::Object(o) => {
                if let Some(v) = o.fields.get(name) {
                    return Ok(v.clone());
                }
                if let Some(tag) = &o.tag {
                    if name == "__type__" {
                        return Ok(Value::Str(tag.clone()));
                    }
                    if let Some(v) = self.embedded_field(o, tag, name) {
                        return Ok(v);
                    }
                }
                Err(Ctrl::runtime(format!("no field '{name}' on object")))
            }
            Value::Enum(e) => match name {
                "__type__" => Ok(Value::Str(e.enum_name.clone())),
                "__variant__" => Ok(Value::Str(e.variant.clone())),
                _ => name
                    .strip_prefix('_')
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|i| e.payload.get(i).cloned())
                    .ok_or_else(|| Ctrl::runtime(format!("no field '{name}' on {}", e.variant))),
            },
            Value::Str(_) | Value::Array(_) if matches!(name, "len" | "upper" | "lower" | "trim") => {
                let native = registry().method(name).ok_or_else(|| no_method(base, name))?;
                let mut argv = NativeArgs::new();
                argv.push(base.clone());
                native.call(self, &mut argv)
            }
            Value::Type(t) => self
                .state
                .types
                .method(&t.name, name)
                .cloned()
                .ok_or_else(|| Ctrl::runtime(format!("no method '{name}' on {}", t.name))),
            other => Err(Ctrl::runtime(format!("cannot access field '{name}' on {}", other.type_name()))),
        }
    }

    fn embedded_field(&self, o: &crate::value::Object, tag: &str, name: &str) -> Option<Value> {
        let info = self.state.types.structs.get(tag)?;
        info.embedded().find_map(|e| match o.fields.get(e)? {
            Value::Object(inner) => inner.fields.get(name).cloned().or_else(|| {
                let t = inner.tag.as_ref()?;
                self.embedded_field(inner, t, name)
            }),
            _ => None,
        })
    }

    /// `base[index]`.
    #[inline(never)]
    pub(crate) fn index(&self, base: &Value, index: &Value) -> EvalResult {
        match (base, index) {
            (Value::Array(items), Value::Int(i)) => {
                let len = items.len();
                let at = if *i < 0 { i.checked_add(len as i64) } else { Some(*i) };
                match at {
                    Some(k) if k >= 0 && (k as usize) < len => Ok(items[k as usize].clone()),
                    _ => Err(msg::index_out_of_bounds(*i, "array", len)),
                }
            }
            (Value::Str(s), Value::Int(i)) => {
                let len = s.chars().count();
                let at = if *i < 0 { i.checked_add(len as i64) } else { Some(*i) };
                match at.filter(|k| *k >= 0 && (*k as usize) < len) {
                    Some(k) => Ok(Value::str(s.chars().nth(k as usize).map(String::from).unwrap_or_default())),
                    None => Err(msg::index_out_of_bounds(*i, "string", len)),
                }
            }
            (Value::Object(o), Value::Str(k)) => {
                o.fields.get(k.as_str()).cloned().ok_or_else(|| Ctrl::runtime(format!("key '{k}' not found")))
            }
            _ => Err(msg::invalid_index()),
        }
    }
}

pub(crate) fn no_method(recv: &Value, name: &str) -> Ctrl {
    let type_name = match recv {
        Value::Object(o) => o.tag.as_deref().unwrap_or("Object").to_string(),
        Value::Enum(e) => e.enum_name.to_string(),
        other => other.type_name().to_string(),
    };
    Ctrl::runtime(format!("no method '{name}' on {type_name}"))
}
