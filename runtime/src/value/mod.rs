//! The interpreter's value: a Rust-owned enum (seed memory model), 16 bytes.
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | `Value` and the heap payloads it points to |
//! | `display.rs` | the display form of FORGE.md §3 |
//! | `compare.rs` | `==` (deep, never fails) and `<` ordering |
//! | `detach.rs` | copies that may cross to another task |
//! | `drop.rs` | dropping deeply nested values without recursion |
//!
//! Arrays and objects have value semantics through copy-on-write: a clone
//! is an `Arc` increment, a write through a place calls `Arc::make_mut`.
//! Everything here is `Send + Sync`; the only mutable shared state inside a
//! value is a closure's captured cells, and those are replaced by fresh
//! copies whenever a value crosses to another task (`detach.rs`).

pub mod compare;
pub mod detach;
pub mod display;
mod drop;

use std::sync::Arc;

use arcstr::ArcStr;
use indexmap::IndexMap;
use parking_lot::Mutex;
use rustc_hash::FxBuildHasher;

use crate::builtins::NativeFn;
use crate::syntax::ast::FnDef;

pub type Map = IndexMap<ArcStr, Value, FxBuildHasher>;

/// A captured variable, shared by the closures of one task.
pub type CellRef = Arc<Mutex<Value>>;

pub fn new_cell(v: Value) -> CellRef {
    Arc::new(Mutex::new(v))
}

#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(ArcStr),
    Array(Arc<Array>),
    Object(Arc<Object>),
    Func(Arc<Closure>),
    Builtin(&'static NativeFn),
    Ok(Arc<Value>),
    Err(Arc<Value>),
    Some(Arc<Value>),
    None,
    Enum(Arc<EnumValue>),
    /// The constructor function of a data variant (`Circle` in `Circle(2.0)`).
    Variant(Arc<VariantCtor>),
    /// A struct, enum or interface name used as a value (`Color.red()`,
    /// `satisfies(v, Shape)`).
    Type(Arc<TypeValue>),
    Channel(crate::concurrency::ChannelRef),
    Task(Arc<crate::concurrency::TaskHandle>),
}

/// The elements of an array value: a `Vec` whose drop never recurses into
/// nested containers (`drop.rs`), so a million-deep nesting cannot overflow
/// the stack when it is freed.
#[derive(Clone, Debug, Default)]
pub struct Array(Vec<Value>);

impl Array {
    pub fn new(items: Vec<Value>) -> Array {
        Array(items)
    }

    /// The elements, moved out.
    pub fn into_vec(mut self) -> Vec<Value> {
        std::mem::take(&mut self.0)
    }
}

impl std::ops::Deref for Array {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}

impl std::ops::DerefMut for Array {
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        &mut self.0
    }
}

impl From<Vec<Value>> for Array {
    fn from(items: Vec<Value>) -> Array {
        Array(items)
    }
}

impl FromIterator<Value> for Array {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Array {
        Array(iter.into_iter().collect())
    }
}

/// An object literal or a struct instance (tagged with its struct's name).
#[derive(Clone, Debug, Default)]
pub struct Object {
    pub tag: Option<ArcStr>,
    pub fields: Map,
}

/// A function value: code plus the cells it captured.
#[derive(Debug)]
pub struct Closure {
    pub def: &'static FnDef,
    pub captures: Box<[CellRef]>,
}

#[derive(Clone, Debug)]
pub struct EnumValue {
    pub enum_name: ArcStr,
    pub variant: ArcStr,
    pub payload: Box<[Value]>,
}

#[derive(Debug)]
pub struct VariantCtor {
    pub enum_name: ArcStr,
    pub variant: ArcStr,
    pub arity: usize,
}

#[derive(Debug)]
pub enum TypeKind {
    Struct,
    Enum,
    Interface(Vec<ArcStr>),
}

#[derive(Debug)]
pub struct TypeValue {
    pub name: ArcStr,
    pub kind: TypeKind,
}

impl Value {
    pub fn str(s: impl Into<ArcStr>) -> Value {
        Value::Str(s.into())
    }

    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(Array(items)))
    }

    pub fn object(fields: Map) -> Value {
        Value::Object(Arc::new(Object { tag: None, fields }))
    }

    pub fn ok(v: Value) -> Value {
        Value::Ok(Arc::new(v))
    }

    pub fn err(v: Value) -> Value {
        Value::Err(Arc::new(v))
    }

    pub fn some(v: Value) -> Value {
        Value::Some(Arc::new(v))
    }

    /// The name `typeof` returns (FORGE.md §2).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "Null",
            Value::Bool(_) => "Bool",
            Value::Int(_) => "Int",
            Value::Float(_) => "Float",
            Value::Str(_) => "String",
            Value::Array(_) => "Array",
            Value::Object(_) | Value::Enum(_) => "Object",
            Value::Func(_) | Value::Variant(_) => "Function",
            Value::Builtin(_) => "BuiltIn",
            Value::Ok(_) | Value::Err(_) => "Result",
            Value::Some(_) | Value::None => "Option",
            Value::Type(_) => "Type",
            Value::Channel(_) => "Channel",
            Value::Task(_) => "TaskHandle",
        }
    }

    /// Truthiness (FORGE.md §2).
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null | Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(n) => *n != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => o.tag.is_some() || !o.fields.is_empty(),
            _ => true,
        }
    }

    /// Whether the value holds other values (dropping it may recurse).
    #[inline]
    pub fn has_children(&self) -> bool {
        matches!(
            self,
            Value::Array(_) | Value::Object(_) | Value::Enum(_) | Value::Ok(_) | Value::Err(_) | Value::Some(_)
        )
    }

    /// Whether dropping this value can free anything (scalars cannot).
    #[inline(always)]
    pub fn is_heap(&self) -> bool {
        !matches!(
            self,
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::None | Value::Builtin(_)
        )
    }

    /// Drops a value, skipping the drop glue call for scalars (hot paths of
    /// the interpreter discard many Ints).
    #[inline(always)]
    pub fn discard(self) {
        if self.is_heap() {
            drop(self)
        } else {
            std::mem::forget(self)
        }
    }

    /// A clone that copies scalars without calling the clone glue.
    #[inline(always)]
    pub fn fast_clone(&self) -> Value {
        match self {
            Value::Int(n) => Value::Int(*n),
            Value::Bool(b) => Value::Bool(*b),
            Value::Float(f) => Value::Float(*f),
            Value::Null => Value::Null,
            other => other.clone(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_callable(&self) -> bool {
        matches!(self, Value::Func(_) | Value::Builtin(_) | Value::Variant(_))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(ArcStr::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(ArcStr::from(s))
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::array(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_two_words() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
    }

    #[test]
    fn value_crosses_threads() {
        fn is_send_sync<T: Send + Sync>() {}
        is_send_sync::<Value>();
    }
}
