//! Core built-ins (FORGE.md §9 "Core", §7.4): output, `typeof`, conversions,
//! `len`, `input`, assertions, `satisfies`, `exit`.

use super::args::{opt, requires};
use super::{Builder, NativeCx};
use crate::error::{Ctrl, ErrorKind, EvalResult};
use crate::value::compare::equal;
use crate::value::display::{display, write_display};
use crate::value::{TypeKind, Value};

/// Writes the display forms of `args` separated by spaces (and a newline),
/// as one atomic output call.
pub fn print_values(args: &[Value], newline: bool) {
    let mut line = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        write_display(&mut line, a);
    }
    if newline {
        line.push('\n');
    }
    crate::output::write(&line);
}

pub fn register(b: &mut Builder) {
    b.func("print", 0, usize::MAX, |_, a| {
        print_values(a, false);
        Ok(Value::Null)
    });
    b.func("println", 0, usize::MAX, |_, a| {
        print_values(a, true);
        Ok(Value::Null)
    });
    b.func("typeof", 1, 1, type_of);
    b.func("type", 1, 1, type_of);
    b.func("str", 1, 1, |_, a| Ok(Value::str(display(&a[0]))));
    b.func("int", 1, 1, to_int);
    b.func("float", 1, 1, to_float);
    b.method("len", 1, 1, len);
    b.func("input", 0, 1, input);
    b.func("exit", 0, 1, exit);
    b.func("assert", 1, 2, assert);
    b.func("assert_eq", 2, 3, assert_eq);
    b.func("assert_ne", 2, 3, assert_ne);
    b.func("satisfies", 2, 2, satisfies);
}

fn type_of(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
    Ok(Value::str(a[0].type_name()))
}

fn to_int(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
    match &a[0] {
        Value::Int(n) => Ok(Value::Int(*n)),
        Value::Float(f) => {
            let t = f.trunc();
            if t.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t) {
                Err(Ctrl::runtime(format!("cannot convert '{}' to Int", display(&a[0]))))
            } else {
                Ok(Value::Int(t as i64))
            }
        }
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        Value::Str(s) => {
            parse_int(s).map(Value::Int).ok_or_else(|| Ctrl::runtime(format!("cannot convert '{s}' to Int")))
        }
        other => Err(Ctrl::runtime(format!("cannot convert '{}' to Int", display(other)))),
    }
}

/// Optional sign and digits only (no spaces, no `.`).
fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn to_float(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
    match &a[0] {
        Value::Int(n) => Ok(Value::Float(*n as f64)),
        Value::Float(f) => Ok(Value::Float(*f)),
        Value::Bool(b) => Ok(Value::Float(if *b { 1.0 } else { 0.0 })),
        Value::Str(s) => {
            let t = s.as_str();
            let looks_numeric = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
            match t.parse::<f64>() {
                Ok(f) if looks_numeric => Ok(Value::Float(f)),
                _ => Err(Ctrl::runtime(format!("cannot convert '{s}' to Float"))),
            }
        }
        _ => Err(requires("float", "a number or numeric string")),
    }
}

fn len(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
    let n = match &a[0] {
        Value::Str(s) => s.chars().count(),
        Value::Array(x) => x.len(),
        Value::Object(o) => o.fields.len(),
        _ => return Err(requires("len", "string, array, or object")),
    };
    Ok(Value::Int(n as i64))
}

fn input(cx: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
    let prompt = opt(a, 0).map(display);
    Ok(Value::str(crate::stdlib::io::read_line(cx, prompt.as_deref())?))
}

fn exit(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
    let code = match opt(a, 0) {
        None | Some(Value::Null) => 0,
        Some(Value::Int(n)) => (*n).clamp(i32::MIN as i64, i32::MAX as i64) as i32,
        Some(_) => return Err(requires("exit", "an integer status")),
    };
    crate::exit::exit(code)
}

fn assertion(message: String) -> Ctrl {
    Ctrl::error(ErrorKind::Assertion, format!("assertion failed: {message}"))
}

fn assert(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
    if a[0].truthy() {
        return Ok(Value::Null);
    }
    let msg = opt(a, 1).map(display).unwrap_or_else(|| "assertion failed".into());
    Err(assertion(msg))
}

fn assert_eq(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
    if equal(&a[0], &a[1]) {
        return Ok(Value::Null);
    }
    let prefix = opt(a, 2).map(|m| format!("{}: ", display(m))).unwrap_or_default();
    Err(assertion(format!("{prefix}expected `{}`, got `{}`", display(&a[1]), display(&a[0]))))
}

fn assert_ne(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
    if !equal(&a[0], &a[1]) {
        return Ok(Value::Null);
    }
    let prefix = opt(a, 2).map(|m| format!("{}: ", display(m))).unwrap_or_default();
    Err(assertion(format!("{prefix}expected values to differ, both are `{}`", display(&a[0]))))
}

/// `satisfies(v, I)`: every method of interface `I` is callable on `v`.
fn satisfies(cx: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
    let methods = match &a[1] {
        Value::Type(t) => match &t.kind {
            TypeKind::Interface(m) => m.clone(),
            _ => return Err(requires("satisfies", "an interface as its second argument")),
        },
        _ => return Err(requires("satisfies", "an interface as its second argument")),
    };
    Ok(Value::Bool(methods.iter().all(|m| cx.has_method(&a[0], m))))
}

#[cfg(test)]
mod tests {
    use crate::builtins::testing::{call, show};
    use crate::value::Value;

    #[test]
    fn conversions() {
        assert_eq!(show(call("int", vec!["-15".into()])), "-15");
        assert_eq!(show(call("int", vec![Value::Float(-3.99)])), "-3");
        assert_eq!(show(call("int", vec!["x4".into()])), "error: cannot convert 'x4' to Int");
        assert_eq!(show(call("int", vec![" 4".into()])), "error: cannot convert ' 4' to Int");
        assert_eq!(show(call("float", vec!["1e3".into()])), "1000.0");
        assert_eq!(show(call("float", vec![Value::Bool(true)])), "1.0");
        assert_eq!(show(call("float", vec![Value::Null])), "error: float() requires a number or numeric string");
    }

    #[test]
    fn lengths_and_assertions() {
        assert_eq!(show(call("len", vec!["héllo".into()])), "5");
        assert_eq!(show(call("len", vec![Value::Int(4)])), "error: len() requires string, array, or object");
        assert_eq!(
            show(call("assert_eq", vec![Value::Int(1), Value::Int(2)])),
            "error: assertion failed: expected `2`, got `1`"
        );
        assert_eq!(show(call("assert", vec![Value::Bool(false)])), "error: assertion failed: assertion failed");
    }
}
