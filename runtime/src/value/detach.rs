//! Copies of values that cross a task boundary (DESIGN.md §4).
//!
//! Arrays, objects and strings are immutable once shared (copy-on-write),
//! so sharing them between tasks is already a copy as far as any program
//! can tell. The one mutable thing a value can hold is a closure's captured
//! cells; `Detacher` rebuilds every closure reachable from a value with fresh
//! cells, keeping sharing *within* the copied values (two closures that
//! shared a cell share its copy). Containers without closures inside are
//! reused as they are, so detaching plain data costs a walk and no copies.

use std::collections::HashMap;
use std::sync::Arc;

use super::{new_cell, CellRef, Closure, EnumValue, Object, Value};

/// Deeper values are passed through untouched instead of recursing further.
const MAX_DEPTH: usize = 500;

/// One copy operation (a spawn, a send, a task result). Cells reached twice
/// are copied once.
#[derive(Default)]
pub struct Detacher {
    cells: HashMap<*const parking_lot::Mutex<Value>, CellRef>,
}

impl Detacher {
    pub fn new() -> Detacher {
        Detacher::default()
    }

    /// Whether any cell was copied so far.
    pub fn created_cells(&self) -> bool {
        !self.cells.is_empty()
    }

    /// A copy of `v` that shares no mutable state with `v`.
    pub fn detach(&mut self, v: &Value) -> Value {
        self.copy(v, 0).unwrap_or_else(|| v.clone())
    }

    /// A fresh cell holding a detached copy of `cell`'s value.
    pub fn cell(&mut self, cell: &CellRef) -> CellRef {
        let key = Arc::as_ptr(cell);
        if let Some(c) = self.cells.get(&key) {
            return c.clone();
        }
        let fresh = new_cell(Value::Null);
        self.cells.insert(key, fresh.clone());
        let inner = cell.lock().clone();
        *fresh.lock() = self.detach(&inner);
        fresh
    }

    /// `None` when `v` holds no closure with captures (reuse it as is).
    fn copy(&mut self, v: &Value, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        match v {
            Value::Func(c) if !c.captures.is_empty() => {
                let captures = c.captures.iter().map(|cell| self.cell(cell)).collect();
                Some(Value::Func(Arc::new(Closure { def: c.def, captures })))
            }
            Value::Array(items) => {
                let changed = self.copy_slice(items, depth)?;
                Some(Value::array(changed))
            }
            Value::Object(obj) => {
                let mut out = None;
                for (i, (_, item)) in obj.fields.iter().enumerate() {
                    if let Some(new) = self.copy(item, depth + 1) {
                        let o: &mut Object = out.get_or_insert_with(|| (**obj).clone());
                        if let Some((_, slot)) = o.fields.get_index_mut(i) {
                            *slot = new;
                        }
                    }
                }
                out.map(|o| Value::Object(Arc::new(o)))
            }
            Value::Enum(e) => {
                let payload = self.copy_slice(&e.payload, depth)?;
                Some(Value::Enum(Arc::new(EnumValue {
                    enum_name: e.enum_name.clone(),
                    variant: e.variant.clone(),
                    payload: payload.into_boxed_slice(),
                })))
            }
            Value::Ok(inner) => self.copy(inner, depth + 1).map(Value::ok),
            Value::Err(inner) => self.copy(inner, depth + 1).map(Value::err),
            Value::Some(inner) => self.copy(inner, depth + 1).map(Value::some),
            _ => None,
        }
    }

    fn copy_slice(&mut self, items: &[Value], depth: usize) -> Option<Vec<Value>> {
        let mut out: Option<Vec<Value>> = None;
        for (i, item) in items.iter().enumerate() {
            if let Some(new) = self.copy(item, depth + 1) {
                out.get_or_insert_with(|| items.to_vec())[i] = new;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::FnDef;

    fn leaked_def() -> &'static FnDef {
        Box::leak(Box::new(FnDef {
            name: "f".into(),
            params: Vec::new(),
            body: Default::default(),
            span: Default::default(),
            is_lambda: true,
            locals: 0,
            cells: 0,
            captures: Vec::new(),
        }))
    }

    #[test]
    fn plain_data_is_shared_not_copied() {
        let arr = Value::array(vec![Value::Int(1), "x".into()]);
        let copy = Detacher::new().detach(&arr);
        match (&arr, &copy) {
            (Value::Array(a), Value::Array(b)) => assert!(Arc::ptr_eq(a, b)),
            _ => panic!(),
        }
    }

    #[test]
    fn cells_are_copied_and_sharing_kept() {
        let cell = new_cell(Value::Int(1));
        let def = leaked_def();
        let f = Value::Func(Arc::new(Closure { def, captures: vec![cell.clone()].into() }));
        let g = Value::Func(Arc::new(Closure { def, captures: vec![cell.clone()].into() }));
        let copy = Detacher::new().detach(&Value::array(vec![f, g]));
        let Value::Array(items) = copy else { panic!() };
        let (Value::Func(a), Value::Func(b)) = (&items[0], &items[1]) else { panic!() };
        assert!(!Arc::ptr_eq(&a.captures[0], &cell));
        assert!(Arc::ptr_eq(&a.captures[0], &b.captures[0]));
        *a.captures[0].lock() = Value::Int(5);
        assert!(matches!(*cell.lock(), Value::Int(1)));
    }
}
