//! Values between the task's heap and the outside: `Value`s for natives
//! (arguments out, results back in) and `Message`s for other tasks.
//!
//! A closure handed to a native keeps its identity: the `Value` closure
//! made for it is remembered in `Machine::exported` (and its object rooted,
//! GC rule 3), so a callback runs the very closure, with its cells. A
//! closure sent to another task is copied with fresh cells instead (GC
//! rule 1: an `ObjRef` never leaves its heap).

use std::sync::Arc;

use parking_lot::Mutex;
use smallvec::{smallvec, SmallVec};

use arcstr::ArcStr;

use super::cell_map::CellMap;
use super::Machine;
use crate::error::Ctrl;
use crate::message::Message;
use crate::value::{Closure, EnumValue, Map, Object, Value};
use crate::vm::gc::heap::{ArrayObj, ClosureObj, EnumObj, FieldMap, HeapObj, ObjectObj};
use crate::vm::value::{ObjRef, Val};

/// How closures are exported.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// To a native in this task: identity kept.
    Call,
    /// To another task: cells copied.
    Message,
}

/// The state of one export session. Conversions walk values with explicit
/// work lists, never recursion, so any depth the program can build crosses.
struct Exporter {
    mode: Mode,
    cells: CellMap<ObjRef, Arc<Mutex<Value>>>,
    /// Message mode: an estimate of the bytes the copy holds (see
    /// `copy_size`), so a copy kept alive can be charged to the heap limit.
    bytes: usize,
}

/// A `spawn` block on its way to its task: the function, and the values of
/// its cells, each of them plain (scalar, string or handle), so the task
/// gives each a fresh cell with no conversion work list.
pub struct PlainClosure {
    proto: &'static crate::vm::bytecode::chunk::Proto,
    values: Box<[Value]>,
}

/// Values copied out for other tasks by [`Machine::export_messages`].
pub(crate) struct Exported {
    pub values: Vec<Value>,
    /// Estimated bytes of the copies (strings, channels and handles are
    /// shared, not copied, and count nothing).
    pub bytes: usize,
}

/// A pending step of an export: visit a value, or build a container from
/// the last converted values once its children are done.
enum ExportStep {
    Visit(Val),
    Cell(ObjRef),
    Array(usize),
    Object(Option<ArcStr>, Vec<ArcStr>),
    Closure { def: &'static crate::syntax::ast::FnDef, captures: usize, handle: ObjRef },
    Enum(ArcStr, ArcStr, usize),
    Ok,
    Err,
    Some,
    FillCell(Arc<Mutex<Value>>),
}

/// A pending step of an import.
enum ImportStep {
    Visit(Value),
    Cell(Arc<Mutex<Value>>),
    Array(usize),
    Object(Option<ArcStr>, Vec<ArcStr>),
    Closure(&'static crate::vm::bytecode::chunk::Proto, usize),
    Enum(ArcStr, ArcStr, usize),
    Ok,
    Err,
    Some,
    FillCell(ObjRef),
}

impl Machine {
    /// A value for a native call.
    pub(crate) fn export(&mut self, v: Val) -> Result<Value, Ctrl> {
        if let Some(s) = scalar(v) {
            return Ok(s);
        }
        // A channel (the argument of every `send`/`receive`) is a handle.
        if let Val::Obj(r) = v {
            if let HeapObj::Channel(c) = self.heap.get(r) {
                return Ok(Value::Channel(c.clone()));
            }
        }
        let mut ex = Exporter { mode: Mode::Call, cells: CellMap::default(), bytes: 0 };
        self.export_with(v, &mut ex)
    }

    /// A copy of `v` for another task.
    pub(crate) fn export_message(&mut self, v: Val) -> Result<Message, Ctrl> {
        if let Some(s) = scalar(v) {
            return Ok(Message::plain(s));
        }
        let mut ex = Exporter { mode: Mode::Message, cells: CellMap::default(), bytes: 0 };
        let value = self.export_with(v, &mut ex)?;
        Ok(Message::detached(value, !ex.cells.is_empty()))
    }

    /// Several values for another task, sharing one cell map (two closures
    /// that share a cell still share its copy).
    pub(crate) fn export_messages(&mut self, vs: &[Val]) -> Result<Exported, Ctrl> {
        let mut ex = Exporter { mode: Mode::Message, cells: CellMap::default(), bytes: 0 };
        let mut values = Vec::with_capacity(vs.len());
        for v in vs {
            values.push(self.export_with(*v, &mut ex)?);
        }
        Ok(Exported { values, bytes: ex.bytes })
    }

    /// A spawn's callee and arguments for another task, sharing one cell
    /// map (no list of all of them is built first: spawning is hot).
    pub(crate) fn export_call(&mut self, f: Val, args: &[Val]) -> Result<(Value, Vec<Value>), Ctrl> {
        let mut ex = Exporter { mode: Mode::Message, cells: CellMap::default(), bytes: 0 };
        let f = self.export_with(f, &mut ex)?;
        let mut values = Vec::with_capacity(args.len());
        for v in args {
            values.push(self.export_with(*v, &mut ex)?);
        }
        Ok((f, values))
    }

    /// What copying `v` out of the heap costs: containers are rebuilt,
    /// while strings, channels, handles and types are shared.
    fn copy_size(&self, v: Val) -> usize {
        let Val::Obj(r) = v else { return 0 };
        match self.heap.get(r) {
            HeapObj::Str(_) | HeapObj::Channel(_) | HeapObj::Task(_) | HeapObj::Type(_) | HeapObj::Variant(_) => 0,
            obj => obj.size(),
        }
    }

    fn export_with(&mut self, root: Val, ex: &mut Exporter) -> Result<Value, Ctrl> {
        if let Some(f) = self.export_plain_closure(root, ex) {
            return Ok(f);
        }
        // Small values (a spawn's closure and arguments, a message) convert
        // without touching the allocator.
        let mut steps: SmallVec<[ExportStep; 8]> = smallvec![ExportStep::Visit(root)];
        let mut out: SmallVec<[Value; 8]> = SmallVec::new();
        let mut cells_out: SmallVec<[Arc<Mutex<Value>>; 4]> = SmallVec::new();
        while let Some(step) = steps.pop() {
            match step {
                ExportStep::Visit(v) => {
                    if ex.mode == Mode::Message {
                        ex.bytes += self.copy_size(v);
                    }
                    self.export_visit(v, &mut steps, &mut out)
                }
                ExportStep::Cell(cell) => match ex.cells.get(&cell) {
                    Some(c) => cells_out.push(c.clone()),
                    None => {
                        let fresh = Arc::new(Mutex::new(Value::Null));
                        ex.cells.insert(cell, fresh.clone());
                        cells_out.push(fresh.clone());
                        let inner = match self.heap.get(cell) {
                            HeapObj::Cell(v) => *v,
                            _ => Val::Null,
                        };
                        steps.push(ExportStep::FillCell(fresh));
                        steps.push(ExportStep::Visit(inner));
                    }
                },
                ExportStep::FillCell(cell) => *cell.lock() = pop(&mut out),
                ExportStep::Array(n) => {
                    let items = last(&mut out, n);
                    out.push(Value::array(items));
                }
                ExportStep::Object(tag, keys) => {
                    let values = last(&mut out, keys.len());
                    let fields: Map = keys.into_iter().zip(values).collect();
                    out.push(Value::Object(Arc::new(Object { tag, fields })));
                }
                ExportStep::Closure { def, captures, handle } => {
                    let captures = last(&mut cells_out, captures);
                    let f = Arc::new(Closure { def, captures: captures.into_boxed_slice() });
                    // A callback in this task runs the closure itself.
                    if ex.mode == Mode::Call {
                        let rare = &mut *self.rare;
                        rare.exported.push((Arc::as_ptr(&f) as usize, handle));
                        rare.native_roots.push(Val::Obj(handle));
                    }
                    out.push(Value::Func(f));
                }
                ExportStep::Enum(enum_name, variant, n) => {
                    let payload = last(&mut out, n).into_boxed_slice();
                    out.push(Value::Enum(Arc::new(EnumValue { enum_name, variant, payload })));
                }
                ExportStep::Ok => {
                    let x = pop(&mut out);
                    out.push(Value::ok(x));
                }
                ExportStep::Err => {
                    let x = pop(&mut out);
                    out.push(Value::err(x));
                }
                ExportStep::Some => {
                    let x = pop(&mut out);
                    out.push(Value::some(x));
                }
            }
        }
        Ok(pop(&mut out))
    }

    /// `f` as a [`PlainClosure`] when it is a closure whose distinct cells
    /// hold plain values; `None` otherwise.
    pub(crate) fn export_spawn_block(&self, f: Val) -> Option<PlainClosure> {
        let Val::Obj(r) = f else { return None };
        let HeapObj::Closure(c) = self.heap.get(r) else { return None };
        // Two captures of one cell must stay one cell: the general path.
        if c.upvals.iter().enumerate().any(|(i, cell)| c.upvals[..i].contains(cell)) {
            return None;
        }
        let values = self.plain_cell_values(c)?;
        Some(PlainClosure { proto: c.proto, values: values.into_boxed_slice() })
    }

    /// The values in closure `c`'s cells, when each is a leaf or a handle
    /// (`handle_or_leaf`); exactly as long as the captures, so it boxes
    /// without a reallocation.
    #[inline]
    fn plain_cell_values(&self, c: &ClosureObj) -> Option<Vec<Value>> {
        let mut values = Vec::with_capacity(c.upvals.len());
        for cell in c.upvals.iter() {
            let HeapObj::Cell(v) = self.heap.get(*cell) else { return None };
            values.push(self.handle_or_leaf(*v)?);
        }
        Some(values)
    }

    /// A [`PlainClosure`] in this heap, with a fresh cell per value.
    pub(crate) fn import_spawn_block(&mut self, p: &PlainClosure) -> Result<Val, Ctrl> {
        let mut upvals = Vec::with_capacity(p.values.len());
        for v in p.values.iter() {
            let inner = self.import_leaf(v)?.unwrap_or_default();
            upvals.push(self.heap.alloc(HeapObj::Cell(inner))?);
        }
        let closure = ClosureObj { proto: p.proto, upvals: upvals.into_boxed_slice() };
        Ok(Val::Obj(self.heap.alloc(HeapObj::Closure(closure))?))
    }

    /// A message-mode copy of a closure whose cells hold leaves or handles
    /// (a `spawn` block with arguments, a closure sent on a channel). Built
    /// without the work list, with the same cell sharing (`ex.cells`) and
    /// the same byte count as the general path. `None` for anything else.
    fn export_plain_closure(&self, root: Val, ex: &mut Exporter) -> Option<Value> {
        let Val::Obj(r) = root else { return None };
        let HeapObj::Closure(c) = self.heap.get(r) else { return None };
        if ex.mode != Mode::Message || c.upvals.len() > 8 {
            return None;
        }
        let inner = self.plain_cell_values(c)?;
        ex.bytes += self.copy_size(root);
        let mut captures = Vec::with_capacity(c.upvals.len());
        for (cell, v) in c.upvals.iter().zip(inner) {
            let copy = match ex.cells.get(cell) {
                Some(copy) => copy.clone(),
                None => {
                    let fresh = Arc::new(Mutex::new(v));
                    ex.cells.insert(*cell, fresh.clone());
                    fresh
                }
            };
            captures.push(copy);
        }
        Some(Value::Func(Arc::new(Closure { def: c.proto.def, captures: captures.into_boxed_slice() })))
    }

    /// Converts a leaf at once, or schedules a container's children (last
    /// first, so they finish in order) and then its construction.
    fn export_visit(&self, v: Val, steps: &mut SmallVec<[ExportStep; 8]>, out: &mut SmallVec<[Value; 8]>) {
        let Val::Obj(r) = v else {
            out.push(scalar(v).unwrap_or_default());
            return;
        };
        let children = |steps: &mut SmallVec<[ExportStep; 8]>, items: &[Val]| {
            steps.extend(items.iter().rev().map(|v| ExportStep::Visit(*v)))
        };
        let obj = self.heap.get(r);
        if let Some(x) = handle_value(obj) {
            out.push(x);
            return;
        }
        match obj {
            HeapObj::Array(a) => match a.items.iter().map(|v| self.handle_or_leaf(*v)).collect::<Option<Vec<_>>>() {
                Some(items) => out.push(Value::array(items)),
                None => {
                    steps.push(ExportStep::Array(a.items.len()));
                    children(steps, &a.items);
                }
            },
            HeapObj::Object(o) => {
                steps.push(ExportStep::Object(o.tag.clone(), o.fields.keys().cloned().collect()));
                steps.extend(o.fields.values().rev().map(|v| ExportStep::Visit(*v)));
            }
            HeapObj::Closure(c) => {
                steps.push(ExportStep::Closure { def: c.proto.def, captures: c.upvals.len(), handle: r });
                steps.extend(c.upvals.iter().rev().map(|cell| ExportStep::Cell(*cell)));
            }
            HeapObj::Cell(inner) => steps.push(ExportStep::Visit(*inner)),
            HeapObj::Enum(e) => {
                steps.push(ExportStep::Enum(e.enum_name.clone(), e.variant.clone(), e.payload.len()));
                children(steps, &e.payload);
            }
            HeapObj::Ok(x) => steps.extend([ExportStep::Ok, ExportStep::Visit(*x)]),
            HeapObj::Err(x) => steps.extend([ExportStep::Err, ExportStep::Visit(*x)]),
            HeapObj::Some(x) => steps.extend([ExportStep::Some, ExportStep::Visit(*x)]),
            // Free, and the strings and handles taken above.
            HeapObj::Free
            | HeapObj::Str(_)
            | HeapObj::Channel(_)
            | HeapObj::Task(_)
            | HeapObj::Type(_)
            | HeapObj::Variant(_) => out.push(Value::Null),
        }
    }

    /// A scalar, a string, or a handle shared between tasks (channel, task,
    /// type): a value with nothing inside to copy, converted without the
    /// work list.
    #[inline]
    fn handle_or_leaf(&self, v: Val) -> Option<Value> {
        match v {
            Val::Obj(r) => handle_value(self.heap.get(r)),
            _ => scalar(v),
        }
    }

    /// A `Value` (a native's result, a received message) in this heap.
    pub(crate) fn import(&mut self, v: &Value) -> Result<Val, Ctrl> {
        // Scalars (most messages) need no cell map.
        if let Some(leaf) = self.import_leaf(v)? {
            return Ok(leaf);
        }
        self.import_container(v, &mut CellMap::default())
    }

    /// Imports several values sharing one cell map.
    pub(crate) fn import_all(&mut self, vs: &[Value]) -> Result<Vec<Val>, Ctrl> {
        let mut cells = CellMap::default();
        vs.iter().map(|v| self.import_with(v, &mut cells)).collect()
    }

    /// `c` in this heap when its cells hold leaves (scalars, strings,
    /// channels…): cells shared through `cells` as on the general path (a
    /// cell already imported is not read again). `None` for anything else.
    fn import_plain_closure(&mut self, c: &Closure, cells: &mut CellMap<usize, ObjRef>) -> Result<Option<Val>, Ctrl> {
        if c.captures.len() > 8 {
            return Ok(None);
        }
        let mut inner: SmallVec<[Val; 8]> = SmallVec::new();
        for cell in c.captures.iter() {
            let key = Arc::as_ptr(cell) as usize;
            let v = match cells.get(&key) {
                Some(r) => Val::Obj(*r),
                None => match self.import_leaf(&cell.lock())? {
                    Some(leaf) => leaf,
                    None => return Ok(None),
                },
            };
            inner.push(v);
        }
        let proto = self.closure_proto(c)?;
        let mut upvals = Vec::with_capacity(c.captures.len());
        for (cell, v) in c.captures.iter().zip(inner) {
            let key = Arc::as_ptr(cell) as usize;
            let r = match cells.get(&key) {
                Some(r) => *r,
                None => {
                    let r = self.heap.alloc(HeapObj::Cell(v))?;
                    cells.insert(key, r);
                    r
                }
            };
            upvals.push(r);
        }
        Ok(Some(Val::Obj(self.heap.alloc(HeapObj::Closure(ClosureObj { proto, upvals: upvals.into_boxed_slice() }))?)))
    }

    /// The bytecode of an exported closure's function.
    fn closure_proto(&self, c: &Closure) -> Result<&'static crate::vm::bytecode::chunk::Proto, Ctrl> {
        self.run
            .vm
            .proto_of(c.def)
            .ok_or_else(|| Ctrl::runtime(format!("internal error: no bytecode for function {}", c.def.name)))
    }

    /// Allocation only, no safepoint: the values converted so far need no
    /// rooting while the work list runs (GC rule 2).
    pub(crate) fn import_with(&mut self, root: &Value, cells: &mut CellMap<usize, ObjRef>) -> Result<Val, Ctrl> {
        if let Some(v) = self.import_leaf(root)? {
            return Ok(v);
        }
        self.import_container(root, cells)
    }

    /// `import_with` for a value that is not a leaf (`import_leaf` said so).
    pub(crate) fn import_container(&mut self, root: &Value, cells: &mut CellMap<usize, ObjRef>) -> Result<Val, Ctrl> {
        // A function over plain values (a top-level function, a `spawn`
        // block) needs no work list.
        if let Value::Func(c) = root {
            if let Some(f) = self.import_plain_closure(c, cells)? {
                return Ok(f);
            }
        }
        self.import_work_list(root, cells)
    }

    /// A leaf, or a function without captures (every top-level function),
    /// imported without the caller's cell map; `None` for anything else.
    pub(crate) fn import_simple(&mut self, v: &Value) -> Result<Option<Val>, Ctrl> {
        if let Some(leaf) = self.import_leaf(v)? {
            return Ok(Some(leaf));
        }
        match v {
            Value::Func(c) if c.captures.is_empty() => self.import_plain_closure(c, &mut CellMap::default()),
            _ => Ok(None),
        }
    }

    fn import_work_list(&mut self, root: &Value, cells: &mut CellMap<usize, ObjRef>) -> Result<Val, Ctrl> {
        let mut steps: SmallVec<[ImportStep; 8]> = smallvec![ImportStep::Visit(root.clone())];
        let mut out: SmallVec<[Val; 8]> = SmallVec::new();
        while let Some(step) = steps.pop() {
            let obj = match step {
                ImportStep::Visit(v) => {
                    if let Some(leaf) = self.import_leaf(&v)? {
                        out.push(leaf);
                    } else {
                        self.import_visit(v, &mut steps, &mut out)?;
                    }
                    continue;
                }
                ImportStep::Cell(cell) => {
                    let key = Arc::as_ptr(&cell) as usize;
                    match cells.get(&key) {
                        Some(r) => out.push(Val::Obj(*r)),
                        None => {
                            let r = self.heap.alloc(HeapObj::Cell(Val::Null))?;
                            cells.insert(key, r);
                            out.push(Val::Obj(r));
                            let inner = cell.lock().clone();
                            steps.push(ImportStep::FillCell(r));
                            steps.push(ImportStep::Visit(inner));
                        }
                    }
                    continue;
                }
                ImportStep::FillCell(r) => {
                    let v = out.pop().unwrap_or_default();
                    *self.heap.get_mut(r) = HeapObj::Cell(v);
                    continue;
                }
                ImportStep::Array(n) => HeapObj::Array(ArrayObj { items: last(&mut out, n), shared: false }),
                ImportStep::Object(tag, keys) => {
                    let values = last(&mut out, keys.len());
                    let fields: FieldMap = keys.into_iter().zip(values).collect();
                    HeapObj::Object(Box::new(ObjectObj { tag, fields, shared: false }))
                }
                ImportStep::Closure(proto, n) => {
                    let mut upvals = Vec::with_capacity(n);
                    upvals.extend(out.drain(out.len() - n..).filter_map(|v| v.obj()));
                    HeapObj::Closure(ClosureObj { proto, upvals: upvals.into_boxed_slice() })
                }
                ImportStep::Enum(enum_name, variant, n) => {
                    let payload = last(&mut out, n).into_boxed_slice();
                    HeapObj::Enum(Box::new(EnumObj { enum_name, variant, payload }))
                }
                ImportStep::Ok => HeapObj::Ok(out.pop().unwrap_or_default()),
                ImportStep::Err => HeapObj::Err(out.pop().unwrap_or_default()),
                ImportStep::Some => HeapObj::Some(out.pop().unwrap_or_default()),
            };
            out.push(Val::Obj(self.heap.alloc(obj)?));
        }
        Ok(out.pop().unwrap_or_default())
    }

    /// A scalar, a string or a handle-like value, converted at once; `None`
    /// for containers.
    #[inline]
    fn import_leaf(&mut self, v: &Value) -> Result<Option<Val>, Ctrl> {
        let obj = match v {
            Value::Null => return Ok(Some(Val::Null)),
            Value::Bool(b) => return Ok(Some(Val::Bool(*b))),
            Value::Int(n) => return Ok(Some(Val::Int(*n))),
            Value::Float(f) => return Ok(Some(Val::Float(*f))),
            Value::Builtin(n) => return Ok(Some(Val::Native(n))),
            Value::None => return Ok(Some(Val::None)),
            Value::Str(s) => HeapObj::Str(s.clone()),
            Value::Channel(c) => HeapObj::Channel(c.clone()),
            Value::Task(t) => HeapObj::Task(t.clone()),
            Value::Type(t) => HeapObj::Type(t.clone()),
            Value::Variant(v) => HeapObj::Variant(v.clone()),
            Value::Func(c) => {
                let key = Arc::as_ptr(c) as usize;
                match self.rare.exported.iter().rev().find(|(k, _)| *k == key) {
                    Some((_, r)) => return Ok(Some(Val::Obj(*r))),
                    None => return Ok(None),
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(Val::Obj(self.heap.alloc(obj)?)))
    }

    /// Schedules a container's children and then its construction.
    fn import_visit(
        &mut self,
        v: Value,
        steps: &mut SmallVec<[ImportStep; 8]>,
        out: &mut SmallVec<[Val; 8]>,
    ) -> Result<(), Ctrl> {
        let visit_all = |steps: &mut SmallVec<[ImportStep; 8]>, items: &[Value]| {
            steps.extend(items.iter().rev().cloned().map(ImportStep::Visit))
        };
        match &v {
            Value::Array(a) => {
                // Flat arrays (the common result of a native) in one go.
                if a.iter().all(|x| {
                    !matches!(
                        x,
                        Value::Array(_)
                            | Value::Object(_)
                            | Value::Func(_)
                            | Value::Enum(_)
                            | Value::Ok(_)
                            | Value::Err(_)
                            | Value::Some(_)
                    )
                }) {
                    let mut items = Vec::with_capacity(a.len());
                    for x in a.iter() {
                        items.push(self.import_leaf(x)?.unwrap_or_default());
                    }
                    out.push(Val::Obj(self.heap.alloc(HeapObj::Array(ArrayObj { items, shared: false }))?));
                    return Ok(());
                }
                steps.push(ImportStep::Array(a.len()));
                visit_all(steps, a);
            }
            Value::Object(o) => {
                steps.push(ImportStep::Object(o.tag.clone(), o.fields.keys().cloned().collect()));
                steps.extend(o.fields.values().rev().cloned().map(ImportStep::Visit));
            }
            Value::Func(c) => {
                let proto = self.closure_proto(c)?;
                steps.push(ImportStep::Closure(proto, c.captures.len()));
                steps.extend(c.captures.iter().rev().cloned().map(ImportStep::Cell));
            }
            Value::Enum(e) => {
                steps.push(ImportStep::Enum(e.enum_name.clone(), e.variant.clone(), e.payload.len()));
                visit_all(steps, &e.payload);
            }
            Value::Ok(x) => steps.extend([ImportStep::Ok, ImportStep::Visit((**x).clone())]),
            Value::Err(x) => steps.extend([ImportStep::Err, ImportStep::Visit((**x).clone())]),
            Value::Some(x) => steps.extend([ImportStep::Some, ImportStep::Visit((**x).clone())]),
            _ => out.push(self.import_leaf(&v)?.unwrap_or_default()),
        }
        Ok(())
    }
}

/// The last `n` converted values, in order (a container's children).
fn last<T, const N: usize>(out: &mut SmallVec<[T; N]>, n: usize) -> Vec<T>
where
    [T; N]: smallvec::Array<Item = T>,
{
    // Exactly `n` long: `collect` would round the capacity up, and turning
    // the vector into a boxed slice would then reallocate it.
    let mut items = Vec::with_capacity(n);
    items.extend(out.drain(out.len() - n..));
    items
}

fn pop(out: &mut SmallVec<[Value; 8]>) -> Value {
    out.pop().unwrap_or_default()
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

/// A string or a handle shared between tasks (channel, task, type,
/// variant constructor): copied out by reference.
#[inline]
fn handle_value(obj: &HeapObj) -> Option<Value> {
    Some(match obj {
        HeapObj::Str(s) => Value::Str(s.clone()),
        HeapObj::Channel(c) => Value::Channel(c.clone()),
        HeapObj::Task(t) => Value::Task(t.clone()),
        HeapObj::Type(t) => Value::Type(t.clone()),
        HeapObj::Variant(v) => Value::Variant(v.clone()),
        _ => return None,
    })
}
