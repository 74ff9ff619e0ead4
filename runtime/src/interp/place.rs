//! Assignment to places (FORGE.md §2, §4.1): `v = e`, `v.f[i] op= e`, and
//! `push`/`pop` on a place, which update the place in place.
//!
//! Containers on the path are made unique with `Arc::make_mut` (copy on
//! write), so writing through one variable never changes another.

use std::sync::Arc;

use arcstr::ArcStr;
use smallvec::smallvec;

use super::call::NativeArgs;
use super::Interp;
use crate::builtins::registry;
use crate::error::{msg, Ctrl, EvalResult};
use crate::ops;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use crate::value::Value;

/// One evaluated step of a place's path.
pub(crate) enum Key {
    Field(&'static ArcStr),
    Index(Value),
}

impl Interp<'_> {
    fn eval_path(&mut self, path: &'static [PathSeg]) -> Result<Vec<Key>, Ctrl> {
        let mut keys = Vec::with_capacity(path.len());
        for seg in path {
            keys.push(match seg {
                PathSeg::Field(name) => Key::Field(name),
                PathSeg::Index(e) => Key::Index(self.eval(e)?),
            });
        }
        Ok(keys)
    }

    /// Runs `f` on the storage of the place's root variable.
    fn with_root<R>(
        &mut self,
        root: &'static VarRef,
        f: impl FnOnce(&mut Value) -> Result<R, Ctrl>,
    ) -> Result<R, Ctrl> {
        match root.slot {
            Slot::Local(i) => f(&mut self.stack[self.frame.base + i as usize]),
            Slot::Cell(c) => {
                let cell = self.cells[self.frame.cell_base + c as usize]
                    .get_or_insert_with(|| crate::value::new_cell(Value::Null))
                    .clone();
                let mut guard = cell.lock();
                f(&mut guard)
            }
            Slot::Upvalue(u) => {
                let cell = self.frame.closure.as_ref().expect("upvalue outside a closure").captures[u as usize].clone();
                let mut guard = cell.lock();
                f(&mut guard)
            }
            Slot::Global(g) => {
                let info = &self.program.globals[g as usize];
                if info.imported && !info.mutable {
                    return Err(msg::immutable(&root.name));
                }
                if self.state.globals[g as usize].is_none() {
                    return Err(msg::undefined(&root.name));
                }
                let globals = Arc::make_mut(&mut self.state.globals);
                f(globals[g as usize].as_mut().expect("checked above"))
            }
            _ => Err(msg::undefined(&root.name)),
        }
    }

    #[inline(never)]
    pub(crate) fn assign(
        &mut self,
        place: &'static Place,
        op: Option<BinOp>,
        value: &'static Expr,
    ) -> Result<(), Ctrl> {
        let v = self.eval(value)?;
        let keys = self.eval_path(&place.path)?;
        // A plain `x = v` on a global declared later (not yet run) defines it.
        if let (Slot::Global(g), true, None) = (place.root.slot, keys.is_empty(), op) {
            let info = &self.program.globals[g as usize];
            if (info.mutable || !info.imported) && self.state.globals[g as usize].is_none() {
                return Err(msg::undefined(&place.root.name).at(place.span));
            }
        }
        self.with_root(&place.root, |root| set_path(root, &keys, op, v)).map_err(|c| c.at(place.span))
    }

    /// The place's current value (a clone).
    fn read_place(&mut self, place: &'static Place, keys: &[Key]) -> EvalResult {
        let mut v = match place.root.slot {
            Slot::Global(g) => {
                self.state.globals[g as usize].clone().ok_or_else(|| msg::undefined(&place.root.name))?
            }
            _ => self.read_var(&place.root)?,
        };
        for k in keys {
            v = match k {
                Key::Field(name) => self.field(&v, name)?,
                Key::Index(i) => self.index(&v, i)?,
            };
        }
        Ok(v)
    }

    /// `push(v, x)` / `pop(v)` with `v` a place.
    #[inline(never)]
    pub(crate) fn eval_place_call(
        &mut self,
        builtin: u32,
        place: &'static Place,
        args: &'static [Expr],
        span: Span,
    ) -> EvalResult {
        let Value::Builtin(native) = registry().value(builtin) else { unreachable!("push/pop are natives") };
        let keys = self.eval_path(&place.path)?;
        // Arguments run left to right: the place is read (and a missing
        // variable reported) before the values. The copy is dropped at once
        // so the update below still happens in place.
        drop(self.read_place(place, &keys).map_err(|c| c.at(span))?);
        let mut extra = NativeArgs::new();
        for a in args {
            extra.push(self.eval(a)?);
        }
        self.update_place(place, &keys, native, extra, span)
    }

    /// `v.push(x)` / `v.pop()`: a function field or user method wins; else the
    /// built-in updates the place.
    #[inline(never)]
    pub(crate) fn eval_place_method(
        &mut self,
        place: &'static Place,
        name: &'static ArcStr,
        args: &'static [Expr],
        span: Span,
    ) -> EvalResult {
        let keys = self.eval_path(&place.path)?;
        let current = self.read_place(place, &keys).map_err(|c| c.at(span))?;
        if self.find_method(&current, name).is_some() || !matches!(current, Value::Array(_)) {
            return self.call_method(current, name, args, span);
        }
        drop(current); // keep the array unshared so the update is in place
        let native = registry().method(name).expect("push and pop are built-in methods");
        let mut extra = NativeArgs::new();
        for a in args {
            extra.push(self.eval(a)?);
        }
        self.update_place(place, &keys, native, extra, span)
    }

    fn update_place(
        &mut self,
        place: &'static Place,
        keys: &[Key],
        native: &'static crate::builtins::NativeFn,
        extra: NativeArgs,
        span: Span,
    ) -> EvalResult {
        let current = self.with_root(&place.root, |root| take_path(root, keys)).map_err(|c| c.at(span))?;
        let mut argv: NativeArgs = smallvec![current];
        argv.extend(extra);
        let r = self.in_native(span, |me| native.call(me, &mut argv));
        let updated = std::mem::take(&mut argv[0]);
        self.with_root(&place.root, |root| set_path(root, keys, None, updated)).map_err(|c| c.at(span))?;
        r.map_err(|c| c.at(span))
    }
}

/// Resolves an index into `len` elements (negative counts from the end).
fn normalize(i: i64, len: usize) -> Option<usize> {
    let k = if i < 0 { i.checked_add(len as i64)? } else { i };
    (k >= 0 && (k as usize) < len).then_some(k as usize)
}

fn step<'v>(target: &'v mut Value, key: &Key) -> Result<&'v mut Value, Ctrl> {
    match (target, key) {
        (Value::Array(items), Key::Index(Value::Int(i))) => {
            let len = items.len();
            let k = normalize(*i, len).ok_or_else(|| msg::index_out_of_bounds(*i, "array", len))?;
            Ok(&mut Arc::make_mut(items)[k])
        }
        (Value::Object(obj), Key::Field(name)) => {
            let fields = &mut Arc::make_mut(obj).fields;
            fields.get_mut(name.as_str()).ok_or_else(|| Ctrl::runtime(format!("no field '{name}' on object")))
        }
        (Value::Object(obj), Key::Index(Value::Str(name))) => {
            let fields = &mut Arc::make_mut(obj).fields;
            fields.get_mut(name.as_str()).ok_or_else(|| Ctrl::runtime(format!("key '{name}' not found")))
        }
        (Value::Null, Key::Field(name)) => Err(Ctrl::runtime(format!("cannot access field '{name}' on Null"))),
        (other, Key::Field(name)) if !matches!(other, Value::Object(_)) => {
            Err(Ctrl::runtime(format!("cannot access field '{name}' on {}", other.type_name())))
        }
        _ => Err(msg::invalid_index()),
    }
}

/// Writes `value` (combined with the old value by `op`) at `keys` below `target`.
fn set_path(target: &mut Value, keys: &[Key], op: Option<BinOp>, value: Value) -> Result<(), Ctrl> {
    let Some((last, init)) = keys.split_last() else {
        *target = match op {
            None => value,
            Some(op) => ops::binary(op, target, &value)?,
        };
        return Ok(());
    };
    let mut t = target;
    for k in init {
        t = step(t, k)?;
    }
    // The last step may add a field to an object.
    let name = match (&*t, last) {
        (Value::Object(_), Key::Field(name)) => Some((*name).clone()),
        (Value::Object(_), Key::Index(Value::Str(name))) => Some(name.clone()),
        _ => None,
    };
    match (t, name) {
        (Value::Object(obj), Some(name)) => {
            let fields = &mut Arc::make_mut(obj).fields;
            let new = match (op, fields.get(&name)) {
                (None, _) => value,
                (Some(op), Some(old)) => ops::binary(op, old, &value)?,
                (Some(_), None) => return Err(Ctrl::runtime(format!("no field '{name}' on object"))),
            };
            fields.insert(name, new);
            Ok(())
        }
        (Value::Str(_), _) => Err(msg::invalid_index()),
        (t, _) => {
            let slot = step(t, last)?;
            *slot = match op {
                None => value,
                Some(op) => ops::binary(op, slot, &value)?,
            };
            Ok(())
        }
    }
}

/// Takes the value at `keys` out of `target`, leaving `null` behind.
fn take_path(target: &mut Value, keys: &[Key]) -> Result<Value, Ctrl> {
    let mut t = target;
    for k in keys {
        t = step(t, k)?;
    }
    Ok(std::mem::take(t))
}
