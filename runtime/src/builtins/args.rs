//! Argument checks shared by the built-ins, worded as FORGE.md §7.2 and §9
//! require (`len() requires string, array, or object`).

use std::sync::Arc;

use arcstr::ArcStr;

use crate::error::Ctrl;
use crate::value::{Array, Object, Value};

/// `NAME() requires WHAT`.
pub fn requires(name: &str, what: &str) -> Ctrl {
    Ctrl::runtime(format!("{name}() requires {what}"))
}

pub fn int(v: &Value, name: &str, what: &str) -> Result<i64, Ctrl> {
    match v {
        Value::Int(n) => Ok(*n),
        _ => Err(requires(name, what)),
    }
}

pub fn number(v: &Value, name: &str) -> Result<f64, Ctrl> {
    match v {
        Value::Int(n) => Ok(*n as f64),
        Value::Float(f) => Ok(*f),
        _ => Err(requires(name, "a number")),
    }
}

pub fn string<'a>(v: &'a Value, name: &str) -> Result<&'a ArcStr, Ctrl> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(requires(name, "a string")),
    }
}

pub fn array<'a>(v: &'a Value, name: &str) -> Result<&'a Arc<Array>, Ctrl> {
    match v {
        Value::Array(a) => Ok(a),
        _ => Err(requires(name, "an array")),
    }
}

pub fn object<'a>(v: &'a Value, name: &str) -> Result<&'a Arc<Object>, Ctrl> {
    match v {
        Value::Object(o) => Ok(o),
        _ => Err(requires(name, "an object")),
    }
}

pub fn callable<'a>(v: &'a Value, name: &str) -> Result<&'a Value, Ctrl> {
    if v.is_callable() {
        Ok(v)
    } else {
        Err(requires(name, "a function"))
    }
}

/// Takes an argument out of the slice (leaving `null`), avoiding a clone.
pub fn take(args: &mut [Value], i: usize) -> Value {
    std::mem::take(&mut args[i])
}

/// The optional argument `i`, if given.
pub fn opt(args: &[Value], i: usize) -> Option<&Value> {
    args.get(i)
}
