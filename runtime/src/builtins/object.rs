//! Object built-ins (FORGE.md §9 "Objects"): `keys`, `values`, `entries`,
//! `from_entries`, `has_key`, `get` (dotted paths), `pick`, `omit`, `merge`
//! and `diff`. `contains` on Objects (key present) lives in `array.rs` with
//! the other `contains`.
//!
//! Invariants:
//! 1. Entries keep insertion order; a later value for an existing key
//!    replaces the value and keeps the key's position.
//! 2. Struct instances are accepted wherever an Object is; results that
//!    build a new set of entries (`pick`, `omit`, `merge`, …) are plain
//!    Objects, as with object spread (FORGE.md §5).
//! 3. Arguments are never changed; `merge` reuses its first argument's map
//!    only when it holds the only reference (copy-on-write).

use std::sync::Arc;

use arcstr::ArcStr;
use rustc_hash::FxHashSet;

use super::args::{self, requires, take};
use super::{Builder, NativeCx};
use crate::error::{Ctrl, EvalResult};
use crate::value::compare::equal;
use crate::value::{Map, Object, Value};

pub fn register(b: &mut Builder) {
    b.method("keys", 1, 1, keys);
    b.method("values", 1, 1, values);
    b.method("entries", 1, 1, entries);
    b.func("from_entries", 1, 1, from_entries);
    b.method("has_key", 2, 2, has_key);
    b.method("get", 2, 3, get);
    b.method("pick", 2, 2, pick);
    b.method("omit", 2, 2, omit);
    b.method("merge", 2, 2, merge);
    b.func("diff", 2, 2, diff);
}

/// An Object of the given entries.
fn object_of<const N: usize>(entries: [(ArcStr, Value); N]) -> Value {
    Value::object(entries.into_iter().collect())
}

fn keys(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let o = args::object(&args[0], "keys")?;
    Ok(Value::array(o.fields.keys().map(|k| Value::Str(k.clone())).collect()))
}

fn values(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let o = args::object(&args[0], "values")?;
    Ok(Value::array(o.fields.values().cloned().collect()))
}

/// `[[key, value], …]`.
fn entries(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let o = args::object(&args[0], "entries")?;
    let pairs = o.fields.iter().map(|(k, v)| Value::array(vec![Value::Str(k.clone()), v.clone()])).collect();
    Ok(Value::array(pairs))
}

/// The Object of `[[key, value], …]` (keys are Strings; invariant 1).
fn from_entries(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let pairs = args::array(&args[0], "from_entries")?;
    let bad = || requires("from_entries", "an array of [key, value] pairs");
    let mut fields = Map::with_capacity_and_hasher(pairs.len(), Default::default());
    for p in pairs.iter() {
        let Value::Array(kv) = p else { return Err(bad()) };
        let [Value::Str(k), v] = kv.as_slice() else { return Err(bad()) };
        fields.insert(k.clone(), v.clone());
    }
    Ok(Value::object(fields))
}

/// Whether the Object has key `k` (a non-String key is never present).
fn has_key(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let o = args::object(&args[0], "has_key")?;
    Ok(Value::Bool(args[1].as_str().is_some_and(|k| o.fields.contains_key(k))))
}

/// `get(o, "a.b.0"[, default])`: follows a dotted path, numeric segments
/// indexing Arrays (negative from the end); a missing step gives `default`
/// (or `null`). A key that itself contains dots is found directly too.
fn get(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let root = &args[0];
    if !matches!(root, Value::Object(_) | Value::Array(_)) {
        return Err(requires("get", "an object"));
    }
    let found = match &args[1] {
        Value::Str(path) => lookup(root, path),
        Value::Int(i) => step(root, &i.to_string()),
        _ => return Err(requires("get", "a string path")),
    };
    Ok(found.or(args.get(2)).cloned().unwrap_or_default())
}

fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    if let Value::Object(o) = root {
        if let Some(v) = o.fields.get(path) {
            return Some(v);
        }
    }
    path.split('.').try_fold(root, step)
}

/// One path segment: a key of an Object or an index of an Array.
fn step<'a>(v: &'a Value, segment: &str) -> Option<&'a Value> {
    match v {
        Value::Object(o) => o.fields.get(segment),
        Value::Array(a) => {
            let i: i64 = segment.parse().ok()?;
            let i = if i < 0 { i.checked_add(a.len() as i64)? } else { i };
            a.get(usize::try_from(i).ok()?)
        }
        _ => None,
    }
}

/// The String keys listed in an Array argument (others are ignored).
fn key_list<'a>(v: &'a Value, name: &str) -> Result<impl Iterator<Item = &'a ArcStr>, Ctrl> {
    let list = args::array(v, name)?;
    Ok(list.iter().filter_map(|k| match k {
        Value::Str(s) => Some(s),
        _ => None,
    }))
}

/// The entries of the listed keys that exist, in the list's order.
fn pick(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let o = args::object(&args[0], "pick")?;
    let mut fields = Map::default();
    for k in key_list(&args[1], "pick")? {
        if let Some(v) = o.fields.get(k.as_str()) {
            fields.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::object(fields))
}

/// All entries except the listed keys, in the Object's order.
fn omit(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let o = args::object(&args[0], "omit")?;
    let drop: FxHashSet<&str> = key_list(&args[1], "omit")?.map(|k| k.as_str()).collect();
    let fields = o.fields.iter().filter(|(k, _)| !drop.contains(k.as_str())).map(|(k, v)| (k.clone(), v.clone()));
    Ok(Value::object(fields.collect()))
}

/// `a`'s entries, then `b`'s: `b` wins on shared keys, which keep `a`'s
/// position (invariant 1).
fn merge(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    args::object(&args[0], "merge")?;
    args::object(&args[1], "merge")?;
    let (Value::Object(mut a), Value::Object(b)) = (take(args, 0), take(args, 1)) else {
        return Err(requires("merge", "an object"));
    };
    let out: &mut Object = Arc::make_mut(&mut a);
    out.tag = None;
    for (k, v) in b.fields.iter() {
        out.fields.insert(k.clone(), v.clone());
    }
    Ok(Value::Object(a))
}

/// `{ k: { "from": x, "to": y } }` for keys whose values differ,
/// `{ k: { "removed": x } }` for keys only in `a`, `{ k: { "added": y } }`
/// for keys only in `b`: `a`'s keys in order, then `b`'s new ones.
fn diff(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = args::object(&args[0], "diff")?;
    let b = args::object(&args[1], "diff")?;
    let mut out = Map::default();
    for (k, x) in &a.fields {
        let change = match b.fields.get(k) {
            Some(y) if equal(x, y) => continue,
            Some(y) => object_of([(arcstr::literal!("from"), x.clone()), (arcstr::literal!("to"), y.clone())]),
            None => object_of([(arcstr::literal!("removed"), x.clone())]),
        };
        out.insert(k.clone(), change);
    }
    for (k, y) in &b.fields {
        if !a.fields.contains_key(k) {
            out.insert(k.clone(), object_of([(arcstr::literal!("added"), y.clone())]));
        }
    }
    Ok(Value::object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{call, show};

    fn run(name: &str, args: Vec<Value>) -> String {
        show(call(name, args))
    }

    fn obj(entries: &[(&str, Value)]) -> Value {
        Value::object(entries.iter().map(|(k, v)| (ArcStr::from(*k), v.clone())).collect())
    }

    fn strs(ss: &[&str]) -> Value {
        Value::array(ss.iter().map(|&s| Value::from(s)).collect())
    }

    fn user() -> Value {
        obj(&[("name", "Alice".into()), ("age", Value::Int(30)), ("tags", strs(&["admin"]))])
    }

    #[test]
    fn keys_values_entries_in_insertion_order() {
        assert_eq!(run("keys", vec![user()]), r#"["name", "age", "tags"]"#);
        assert_eq!(run("values", vec![user()]), r#"["Alice", 30, ["admin"]]"#);
        assert_eq!(run("entries", vec![user()]), r#"[["name", "Alice"], ["age", 30], ["tags", ["admin"]]]"#);
        assert_eq!(run("keys", vec![Value::Int(1)]), "error: keys() requires an object");
        let point = Value::Object(Arc::new(Object {
            tag: Some("P".into()),
            fields: [(ArcStr::from("x"), Value::Int(1))].into_iter().collect(),
        }));
        assert_eq!(run("keys", vec![point]), r#"["x"]"#);
    }

    #[test]
    fn from_entries_round_trips() {
        let pairs = Value::array(vec![
            Value::array(vec!["k".into(), Value::Int(1)]),
            Value::array(vec!["j".into(), Value::array(vec![Value::Int(2), Value::Int(3)])]),
            Value::array(vec!["k".into(), Value::Int(9)]),
        ]);
        assert_eq!(run("from_entries", vec![pairs]), r#"{ "k": 9, "j": [2, 3] }"#);
        let entries = call("entries", vec![user()]).unwrap();
        assert_eq!(show(call("from_entries", vec![entries])), show(Ok(user())));
        assert_eq!(
            run("from_entries", vec![Value::array(vec![strs(&["only"])])]),
            "error: from_entries() requires an array of [key, value] pairs"
        );
    }

    #[test]
    fn has_key_and_contains() {
        assert_eq!(run("has_key", vec![user(), "age".into()]), "true");
        assert_eq!(run("has_key", vec![user(), "email".into()]), "false");
        assert_eq!(run("has_key", vec![user(), Value::Int(1)]), "false");
        assert_eq!(run("contains", vec![user(), "name".into()]), "true");
        assert_eq!(run("contains", vec![user(), "Alice".into()]), "false");
    }

    #[test]
    fn get_follows_dotted_paths() {
        let config = obj(&[
            ("db", obj(&[("host", "localhost".into()), ("port", Value::Int(5432))])),
            ("items", Value::array(vec![Value::Int(10), Value::Int(20), Value::Int(30)])),
            ("a.b", Value::Int(7)),
        ]);
        assert_eq!(run("get", vec![config.clone(), "db.host".into()]), "localhost");
        assert_eq!(run("get", vec![config.clone(), "db.port".into()]), "5432");
        assert_eq!(run("get", vec![config.clone(), "db.name".into(), "mydb".into()]), "mydb");
        assert_eq!(run("get", vec![config.clone(), "missing".into()]), "null");
        assert_eq!(run("get", vec![config.clone(), "items.1".into()]), "20");
        assert_eq!(run("get", vec![config.clone(), "items.-1".into()]), "30");
        assert_eq!(run("get", vec![config.clone(), "items.9".into(), Value::Int(0)]), "0");
        assert_eq!(run("get", vec![config.clone(), "items.x".into()]), "null");
        assert_eq!(run("get", vec![config.clone(), "db.host.deeper".into()]), "null");
        assert_eq!(run("get", vec![config.clone(), "a.b".into()]), "7");
        assert_eq!(run("get", vec![config.clone(), "db".into()]), r#"{ "host": "localhost", "port": 5432 }"#);
        assert_eq!(run("get", vec![strs(&["x", "y"]), Value::Int(1)]), "y");
        assert_eq!(run("get", vec![Value::Null, "a".into()]), "error: get() requires an object");
    }

    #[test]
    fn pick_omit_merge() {
        let u = obj(&[
            ("name", "Alice".into()),
            ("age", Value::Int(30)),
            ("email", "a@x.io".into()),
            ("password", "secret".into()),
        ]);
        assert_eq!(run("pick", vec![u.clone(), strs(&["name", "email"])]), r#"{ "name": "Alice", "email": "a@x.io" }"#);
        assert_eq!(run("pick", vec![u.clone(), strs(&["missing"])]), "{}");
        assert_eq!(
            run("omit", vec![u.clone(), strs(&["password"])]),
            r#"{ "name": "Alice", "age": 30, "email": "a@x.io" }"#
        );
        let defaults = obj(&[("color", "blue".into()), ("size", "medium".into())]);
        let overrides = obj(&[("size", "large".into()), ("weight", Value::Int(10))]);
        assert_eq!(
            run("merge", vec![defaults.clone(), overrides]),
            r#"{ "color": "blue", "size": "large", "weight": 10 }"#
        );
        assert_eq!(show(Ok(defaults)), r#"{ "color": "blue", "size": "medium" }"#);
        assert_eq!(run("merge", vec![obj(&[]), obj(&[])]), "{}");
        assert_eq!(run("merge", vec![obj(&[]), Value::Int(1)]), "error: merge() requires an object");
    }

    #[test]
    fn merge_of_a_struct_is_a_plain_object() {
        let point = Value::Object(Arc::new(Object {
            tag: Some("P".into()),
            fields: [(ArcStr::from("x"), Value::Int(1))].into_iter().collect(),
        }));
        assert_eq!(run("merge", vec![point, obj(&[("y", Value::Int(2))])]), r#"{ "x": 1, "y": 2 }"#);
    }

    #[test]
    fn diff_shape() {
        let a = obj(&[("a", Value::Int(1)), ("b", Value::Int(2)), ("gone", Value::Bool(true))]);
        let b = obj(&[("a", Value::Float(1.0)), ("b", Value::Int(3)), ("c", Value::Int(4))]);
        assert_eq!(
            run("diff", vec![a.clone(), b]),
            r#"{ "b": { "from": 2, "to": 3 }, "gone": { "removed": true }, "c": { "added": 4 } }"#
        );
        assert_eq!(run("diff", vec![a.clone(), a]), "{}");
        assert_eq!(run("diff", vec![obj(&[]), Value::Null]), "error: diff() requires an object");
    }
}
