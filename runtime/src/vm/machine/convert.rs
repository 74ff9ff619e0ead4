//! Values between the task's heap and the outside: `Value`s for natives
//! (arguments out, results back in) and `Message`s for other tasks.
//!
//! A closure handed to a native keeps its identity: the `Value` closure
//! made for it is remembered in `Machine::exported` (and its object rooted,
//! GC rule 3), so a callback runs the very closure, with its cells. A
//! closure sent to another task is copied with fresh cells instead (GC
//! rule 1: an `ObjRef` never leaves its heap).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::Machine;
use crate::error::Ctrl;
use crate::message::Message;
use crate::value::{Closure, EnumValue, Map, Object, Value};
use crate::vm::gc::heap::{ArrayObj, ClosureObj, EnumObj, FieldMap, HeapObj, ObjectObj};
use crate::vm::value::{ObjRef, Val};

/// Containers nested deeper than this cannot cross the heap boundary.
const MAX_DEPTH: usize = 500;

/// How closures are exported.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// To a native in this task: identity kept.
    Call,
    /// To another task: cells copied.
    Message,
}

struct Exporter {
    mode: Mode,
    cells: HashMap<ObjRef, Arc<Mutex<Value>>>,
}

fn too_deep() -> Ctrl {
    Ctrl::runtime("value nested too deeply to pass between tasks or to a built-in")
}

impl Machine {
    /// A value for a native call.
    pub(crate) fn export(&mut self, v: Val) -> Result<Value, Ctrl> {
        if let Some(s) = scalar(v) {
            return Ok(s);
        }
        let mut ex = Exporter { mode: Mode::Call, cells: HashMap::new() };
        self.export_with(v, &mut ex, 0)
    }

    /// A copy of `v` for another task.
    pub(crate) fn export_message(&mut self, v: Val) -> Result<Message, Ctrl> {
        let mut ex = Exporter { mode: Mode::Message, cells: HashMap::new() };
        let value = self.export_with(v, &mut ex, 0)?;
        Ok(Message::detached(value, !ex.cells.is_empty()))
    }

    /// Several values for another task, sharing one cell map (two closures
    /// that share a cell still share its copy).
    pub(crate) fn export_messages(&mut self, vs: &[Val]) -> Result<(Vec<Value>, bool), Ctrl> {
        let mut ex = Exporter { mode: Mode::Message, cells: HashMap::new() };
        let mut out = Vec::with_capacity(vs.len());
        for v in vs {
            out.push(self.export_with(*v, &mut ex, 0)?);
        }
        Ok((out, !ex.cells.is_empty()))
    }

    fn export_with(&mut self, v: Val, ex: &mut Exporter, depth: usize) -> Result<Value, Ctrl> {
        if let Some(s) = scalar(v) {
            return Ok(s);
        }
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let Val::Obj(r) = v else { unreachable!("scalars handled") };
        Ok(match self.heap.get(r) {
            HeapObj::Str(s) => Value::Str(s.clone()),
            HeapObj::Array(a) => {
                let items = a.items.clone();
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.export_with(item, ex, depth + 1)?);
                }
                Value::array(out)
            }
            HeapObj::Object(o) => {
                let (tag, fields) = (o.tag.clone(), o.fields.clone());
                let mut map = Map::with_capacity_and_hasher(fields.len(), Default::default());
                for (k, item) in fields {
                    map.insert(k, self.export_with(item, ex, depth + 1)?);
                }
                Value::Object(Arc::new(Object { tag, fields: map }))
            }
            HeapObj::Closure(c) => {
                let (proto, upvals) = (c.proto, c.upvals.clone());
                // The captured values go along (a native may send the
                // closure to another task, which needs them)...
                let mut captures = Vec::with_capacity(upvals.len());
                for cell in upvals.iter() {
                    captures.push(self.export_cell(*cell, ex, depth)?);
                }
                let f = Arc::new(Closure { def: proto.def, captures: captures.into_boxed_slice() });
                // ...and a callback in this task runs the closure itself.
                if ex.mode == Mode::Call {
                    self.exported.push((Arc::as_ptr(&f) as usize, r));
                    self.native_roots.push(v);
                }
                Value::Func(f)
            }
            HeapObj::Cell(inner) => {
                let inner = *inner;
                self.export_with(inner, ex, depth + 1)?
            }
            HeapObj::Enum(e) => {
                let (enum_name, variant, payload) = (e.enum_name.clone(), e.variant.clone(), e.payload.clone());
                let mut out = Vec::with_capacity(payload.len());
                for item in payload.iter() {
                    out.push(self.export_with(*item, ex, depth + 1)?);
                }
                Value::Enum(Arc::new(EnumValue { enum_name, variant, payload: out.into_boxed_slice() }))
            }
            HeapObj::Ok(x) => {
                let x = *x;
                Value::ok(self.export_with(x, ex, depth + 1)?)
            }
            HeapObj::Err(x) => {
                let x = *x;
                Value::err(self.export_with(x, ex, depth + 1)?)
            }
            HeapObj::Some(x) => {
                let x = *x;
                Value::some(self.export_with(x, ex, depth + 1)?)
            }
            HeapObj::Channel(c) => Value::Channel(c.clone()),
            HeapObj::Task(t) => Value::Task(t.clone()),
            HeapObj::Type(t) => Value::Type(t.clone()),
            HeapObj::Variant(v) => Value::Variant(v.clone()),
            HeapObj::Free => Value::Null,
        })
    }

    fn export_cell(&mut self, cell: ObjRef, ex: &mut Exporter, depth: usize) -> Result<Arc<Mutex<Value>>, Ctrl> {
        if let Some(c) = ex.cells.get(&cell) {
            return Ok(c.clone());
        }
        let fresh = Arc::new(Mutex::new(Value::Null));
        ex.cells.insert(cell, fresh.clone());
        let inner = match self.heap.get(cell) {
            HeapObj::Cell(v) => *v,
            _ => Val::Null,
        };
        let v = self.export_with(inner, ex, depth + 1)?;
        *fresh.lock() = v;
        Ok(fresh)
    }

    /// A `Value` (a native's result, a received message) in this heap.
    pub(crate) fn import(&mut self, v: &Value) -> Result<Val, Ctrl> {
        let mut cells = HashMap::new();
        self.import_with(v, &mut cells, 0)
    }

    /// Imports several values sharing one cell map.
    pub(crate) fn import_all(&mut self, vs: &[Value]) -> Result<Vec<Val>, Ctrl> {
        let mut cells = HashMap::new();
        vs.iter().map(|v| self.import_with(v, &mut cells, 0)).collect()
    }

    fn import_with(&mut self, v: &Value, cells: &mut HashMap<usize, ObjRef>, depth: usize) -> Result<Val, Ctrl> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let obj = match v {
            Value::Null => return Ok(Val::Null),
            Value::Bool(b) => return Ok(Val::Bool(*b)),
            Value::Int(n) => return Ok(Val::Int(*n)),
            Value::Float(f) => return Ok(Val::Float(*f)),
            Value::Builtin(n) => return Ok(Val::Native(n)),
            Value::None => return Ok(Val::None),
            Value::Str(s) => HeapObj::Str(s.clone()),
            Value::Array(a) => {
                let mut items = Vec::with_capacity(a.len());
                for item in a.iter() {
                    items.push(self.import_with(item, cells, depth + 1)?);
                }
                HeapObj::Array(ArrayObj { items, shared: false })
            }
            Value::Object(o) => {
                let mut fields = FieldMap::with_capacity_and_hasher(o.fields.len(), Default::default());
                for (k, item) in &o.fields {
                    fields.insert(k.clone(), self.import_with(item, cells, depth + 1)?);
                }
                HeapObj::Object(Box::new(ObjectObj { tag: o.tag.clone(), fields, shared: false }))
            }
            Value::Func(c) => {
                let key = Arc::as_ptr(c) as usize;
                if let Some((_, r)) = self.exported.iter().rev().find(|(k, _)| *k == key) {
                    return Ok(Val::Obj(*r));
                }
                let proto = self
                    .vm
                    .proto_of(c.def)
                    .ok_or_else(|| Ctrl::runtime(format!("internal error: no bytecode for function {}", c.def.name)))?;
                let mut upvals = Vec::with_capacity(c.captures.len());
                for cell in c.captures.iter() {
                    let ck = Arc::as_ptr(cell) as usize;
                    let r = match cells.get(&ck) {
                        Some(r) => *r,
                        None => {
                            let r = self.heap.alloc(HeapObj::Cell(Val::Null))?;
                            cells.insert(ck, r);
                            let inner = cell.lock().clone();
                            let val = self.import_with(&inner, cells, depth + 1)?;
                            *self.heap.get_mut(r) = HeapObj::Cell(val);
                            r
                        }
                    };
                    upvals.push(r);
                }
                HeapObj::Closure(Box::new(ClosureObj { proto, upvals: upvals.into_boxed_slice() }))
            }
            Value::Enum(e) => {
                let mut payload = Vec::with_capacity(e.payload.len());
                for item in e.payload.iter() {
                    payload.push(self.import_with(item, cells, depth + 1)?);
                }
                HeapObj::Enum(Box::new(EnumObj {
                    enum_name: e.enum_name.clone(),
                    variant: e.variant.clone(),
                    payload: payload.into_boxed_slice(),
                }))
            }
            Value::Ok(x) => HeapObj::Ok(self.import_with(x, cells, depth + 1)?),
            Value::Err(x) => HeapObj::Err(self.import_with(x, cells, depth + 1)?),
            Value::Some(x) => HeapObj::Some(self.import_with(x, cells, depth + 1)?),
            Value::Channel(c) => HeapObj::Channel(c.clone()),
            Value::Task(t) => HeapObj::Task(t.clone()),
            Value::Type(t) => HeapObj::Type(t.clone()),
            Value::Variant(v) => HeapObj::Variant(v.clone()),
        };
        Ok(Val::Obj(self.heap.alloc(obj)?))
    }
}

fn scalar(v: Val) -> Option<Value> {
    Some(match v {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(b),
        Val::Int(n) => Value::Int(n),
        Val::Float(f) => Value::Float(f),
        Val::Native(n) => Value::Builtin(n),
        Val::None => Value::None,
        Val::Obj(_) => return None,
    })
}
