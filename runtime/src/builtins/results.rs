//! `Ok`/`Err`/`Some`/`None` and their helpers (FORGE.md §7.3).

use super::{Builder, NativeCx};
use crate::error::{Ctrl, EvalResult};
use crate::value::display::display;
use crate::value::Value;

pub fn register(b: &mut Builder) {
    for name in ["Ok", "ok"] {
        b.func(name, 1, 1, |_, a| Ok(Value::ok(std::mem::take(&mut a[0]))));
    }
    for name in ["Err", "err"] {
        b.func(name, 1, 1, |_, a| Ok(Value::err(std::mem::take(&mut a[0]))));
    }
    b.func("Some", 1, 1, |_, a| Ok(Value::some(std::mem::take(&mut a[0]))));
    b.value("None", Value::None);
    b.func("is_ok", 1, 1, |_, a| result_check("is_ok", &a[0]).map(Value::Bool));
    b.func("is_err", 1, 1, |_, a| result_check("is_err", &a[0]).map(|r| Value::Bool(!r)));
    b.func("is_some", 1, 1, |_, a| option_check("is_some", &a[0]).map(Value::Bool));
    b.func("is_none", 1, 1, |_, a| option_check("is_none", &a[0]).map(|s| Value::Bool(!s)));
    b.func("unwrap", 1, 1, unwrap);
    b.func("unwrap_or", 2, 2, unwrap_or);
    b.func("unwrap_err", 1, 1, unwrap_err);
}

/// `true` for `Ok`, `false` for `Err`.
fn result_check(name: &str, v: &Value) -> Result<bool, Ctrl> {
    match v {
        Value::Ok(_) => Ok(true),
        Value::Err(_) => Ok(false),
        _ => Err(Ctrl::runtime(format!("{name}() requires a Result value"))),
    }
}

/// `true` for `Some`, `false` for `None`.
fn option_check(name: &str, v: &Value) -> Result<bool, Ctrl> {
    match v {
        Value::Some(_) => Ok(true),
        Value::None => Ok(false),
        _ => Err(Ctrl::runtime(format!("{name}() requires an Option value"))),
    }
}

fn unwrap(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
    match &a[0] {
        Value::Ok(v) | Value::Some(v) => Ok((**v).clone()),
        Value::Err(e) => Err(Ctrl::runtime(format!("unwrap() on Err: {}", display(e)))),
        Value::None => Err(Ctrl::runtime("unwrap() called on None")),
        _ => Err(Ctrl::runtime("unwrap() requires a Result or Option value")),
    }
}

fn unwrap_or(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
    match &a[0] {
        Value::Ok(v) | Value::Some(v) => Ok((**v).clone()),
        Value::Err(_) | Value::None => Ok(std::mem::take(&mut a[1])),
        _ => Err(Ctrl::runtime("unwrap_or() requires a Result or Option value")),
    }
}

fn unwrap_err(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
    match &a[0] {
        Value::Err(e) => Ok((**e).clone()),
        Value::Ok(v) => Err(Ctrl::runtime(format!("unwrap_err() on Ok: {}", display(v)))),
        _ => Err(Ctrl::runtime("unwrap_err() requires a Result value")),
    }
}
