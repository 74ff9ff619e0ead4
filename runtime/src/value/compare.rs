//! Equality and ordering (FORGE.md §2, §5). `==` is deep and never fails;
//! `<` takes two numbers or two Strings and raises otherwise.

use std::cmp::Ordering;

use super::Value;
use crate::error::Ctrl;

/// `a == b`. Iterative, so comparing deeply nested values cannot exhaust
/// the stack.
pub fn equal(a: &Value, b: &Value) -> bool {
    let mut work = vec![(a, b)];
    while let Some((x, y)) = work.pop() {
        if !shallow_equal(x, y, &mut work) {
            return false;
        }
    }
    true
}

/// Compares the tops of `a` and `b`; pushes pairs of children still to compare.
fn shallow_equal<'v>(a: &'v Value, b: &'v Value, work: &mut Vec<(&'v Value, &'v Value)>) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) | (Value::None, Value::None) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => int_float_eq(*x, *y),
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            if std::sync::Arc::ptr_eq(x, y) {
                return true;
            }
            if x.len() != y.len() {
                return false;
            }
            work.extend(x.iter().zip(y.iter()));
            true
        }
        (Value::Object(x), Value::Object(y)) => {
            if std::sync::Arc::ptr_eq(x, y) {
                return true;
            }
            if x.tag != y.tag || x.fields.len() != y.fields.len() {
                return false;
            }
            for (k, v) in &x.fields {
                match y.fields.get(k) {
                    Some(w) => work.push((v, w)),
                    None => return false,
                }
            }
            true
        }
        (Value::Enum(x), Value::Enum(y)) => {
            if x.enum_name != y.enum_name || x.variant != y.variant || x.payload.len() != y.payload.len() {
                return false;
            }
            work.extend(x.payload.iter().zip(y.payload.iter()));
            true
        }
        (Value::Ok(x), Value::Ok(y)) | (Value::Err(x), Value::Err(y)) | (Value::Some(x), Value::Some(y)) => {
            work.push((x, y));
            true
        }
        (Value::Func(x), Value::Func(y)) => std::sync::Arc::ptr_eq(x, y),
        (Value::Variant(x), Value::Variant(y)) => std::sync::Arc::ptr_eq(x, y),
        (Value::Builtin(x), Value::Builtin(y)) => std::ptr::eq(*x, *y),
        (Value::Type(x), Value::Type(y)) => x.name == y.name,
        (Value::Channel(x), Value::Channel(y)) => x.same(y),
        (Value::Task(x), Value::Task(y)) => std::sync::Arc::ptr_eq(x, y),
        _ => false,
    }
}

/// Exact comparison of an Int with a Float (no rounding surprises near 2^63).
fn int_float_eq(i: i64, f: f64) -> bool {
    cmp_int_float(i, f) == Some(Ordering::Equal)
}

fn cmp_int_float(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f >= 9.223_372_036_854_776e18 {
        return Some(Ordering::Less);
    }
    if f < -9.223_372_036_854_776e18 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    match i.cmp(&(t as i64)) {
        Ordering::Equal => 0.0f64.partial_cmp(&(f - t)),
        other => Some(other),
    }
}

/// Numeric or lexicographic ordering; `None` for NaN. Errors for other types.
pub fn compare(a: &Value, b: &Value) -> Result<Option<Ordering>, Ctrl> {
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) => cmp_int_float(*x, *y),
        (Value::Float(x), Value::Int(y)) => cmp_int_float(*y, *x).map(Ordering::reverse),
        (Value::Str(x), Value::Str(y)) => Some(x.as_str().cmp(y.as_str())),
        _ => {
            return Err(Ctrl::runtime(format!("cannot compare {} and {}", a.type_name(), b.type_name())));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_equality_across_types() {
        assert!(equal(&Value::Int(1), &Value::Float(1.0)));
        assert!(!equal(&Value::Float(f64::NAN), &Value::Float(f64::NAN)));
        assert!(!equal(&Value::Int(i64::MAX), &Value::Float(9_223_372_036_854_775_808.0)));
        assert!(!equal(&Value::Int(1), &"1".into()));
    }

    #[test]
    fn deep_values_compare_without_recursion() {
        let mut a = Value::Null;
        let mut b = Value::Null;
        for _ in 0..200_000 {
            a = Value::array(vec![a]);
            b = Value::array(vec![b]);
        }
        assert!(equal(&a, &b));
    }

    #[test]
    fn ordering() {
        assert_eq!(compare(&Value::Int(2), &Value::Float(2.5)).ok(), Some(Some(Ordering::Less)));
        assert_eq!(compare(&"B".into(), &"a".into()).ok(), Some(Some(Ordering::Less)));
        assert!(compare(&Value::Int(1), &"2".into()).is_err());
    }
}
