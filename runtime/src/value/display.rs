//! The display form (FORGE.md §3): what `print`, `str`, interpolation,
//! `join` and String `+` produce. A String at top level is its raw text;
//! inside any container it is double-quoted and escaped.

use std::fmt::Write;

use super::Value;

/// Containers nested deeper than this print as `...` instead of recursing
/// further, so a hostile value cannot exhaust the stack.
const MAX_DEPTH: usize = 500;

/// The display form of `v` as a top-level value.
pub fn display(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        _ => {
            let mut out = String::new();
            write_value(&mut out, v, false, 0);
            out
        }
    }
}

/// Appends the top-level display form of `v` to `out`.
pub fn write_display(out: &mut String, v: &Value) {
    write_value(out, v, false, 0);
}

/// Appends a Float exactly as Rust's `{:?}` does.
pub fn write_float(out: &mut String, f: f64) {
    let _ = write!(out, "{f:?}");
}

/// Appends `s` double-quoted with JSON-like escapes.
pub fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_value(out: &mut String, v: &Value, nested: bool, depth: usize) {
    if depth > MAX_DEPTH {
        out.push_str("...");
        return;
    }
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(f) => write_float(out, *f),
        Value::Str(s) => {
            if nested {
                write_quoted(out, s)
            } else {
                out.push_str(s)
            }
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item, true, depth + 1);
            }
            out.push(']');
        }
        Value::Object(obj) => match &obj.tag {
            Some(tag) => {
                out.push_str(tag);
                if obj.fields.is_empty() {
                    out.push_str(" {}");
                    return;
                }
                out.push_str(" { ");
                for (i, (k, v)) in obj.fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push_str(": ");
                    write_value(out, v, true, depth + 1);
                }
                out.push_str(" }");
            }
            None => {
                if obj.fields.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push_str("{ ");
                for (i, (k, v)) in obj.fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_quoted(out, k);
                    out.push_str(": ");
                    write_value(out, v, true, depth + 1);
                }
                out.push_str(" }");
            }
        },
        Value::Enum(e) => {
            out.push_str(&e.variant);
            if !e.payload.is_empty() {
                out.push('(');
                for (i, item) in e.payload.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_value(out, item, true, depth + 1);
                }
                out.push(')');
            }
        }
        Value::Ok(inner) => wrap(out, "Ok", inner, depth),
        Value::Err(inner) => wrap(out, "Err", inner, depth),
        Value::Some(inner) => wrap(out, "Some", inner, depth),
        Value::None => out.push_str("None"),
        Value::Func(c) => {
            let _ = write!(out, "<fn {}>", c.def.name);
        }
        Value::Variant(v) => {
            let _ = write!(out, "<fn {}>", v.variant);
        }
        Value::Builtin(n) => {
            let _ = write!(out, "<builtin {}>", n.name);
        }
        Value::Type(t) => {
            let _ = write!(out, "<type {}>", t.name);
        }
        Value::Channel(_) => out.push_str("<channel>"),
        Value::Task(_) => out.push_str("<task>"),
    }
}

fn wrap(out: &mut String, name: &str, inner: &Value, depth: usize) {
    out.push_str(name);
    out.push('(');
    write_value(out, inner, true, depth + 1);
    out.push(')');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Map, Object};
    use std::sync::Arc;

    #[test]
    fn floats_use_debug_form() {
        for (f, s) in [(7.0, "7.0"), (1e16, "1e16"), (1e-7, "1e-7"), (0.1 + 0.2, "0.30000000000000004"), (-0.0, "-0.0")]
        {
            assert_eq!(display(&Value::Float(f)), s);
        }
        assert_eq!(display(&Value::Float(f64::NAN)), "NaN");
        assert_eq!(display(&Value::Float(f64::NEG_INFINITY)), "-inf");
    }

    #[test]
    fn strings_quoted_only_inside_containers() {
        let v = Value::array(vec!["a\tb".into(), Value::some("s".into())]);
        assert_eq!(display(&v), r#"["a\tb", Some("s")]"#);
        assert_eq!(display(&"plain".into()), "plain");
    }

    #[test]
    fn objects_and_structs() {
        let mut m = Map::default();
        m.insert("a".into(), Value::Int(1));
        assert_eq!(display(&Value::object(m.clone())), r#"{ "a": 1 }"#);
        let s = Value::Object(Arc::new(Object { tag: Some("P".into()), fields: m }));
        assert_eq!(display(&s), "P { a: 1 }");
        assert_eq!(display(&Value::object(Map::default())), "{}");
    }
}
