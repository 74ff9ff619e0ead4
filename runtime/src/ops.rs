//! Operators on values (FORGE.md §2, §5), shared by every tier: checked Int
//! arithmetic, IEEE Float arithmetic, String `+`, comparisons, ranges.

use std::cmp::Ordering;

use crate::error::{msg, Ctrl, EvalResult};
use crate::syntax::ast::BinOp;
use crate::value::compare::{compare, equal};
use crate::value::display::write_display;
use crate::value::Value;

/// Arrays built by `a..b` or `range` may not exceed this many elements.
pub const MAX_RANGE: i64 = 100_000_000;

fn type_error(op: BinOp, a: &Value, b: &Value) -> Ctrl {
    Ctrl::runtime(format!("cannot apply {} to {} and {}", op.verb(), a.type_name(), b.type_name()))
}

/// `a OP b` for every binary operator except `&&`/`||`.
pub fn binary(op: BinOp, a: &Value, b: &Value) -> EvalResult {
    match op {
        BinOp::Add => add(a, b),
        BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => arith(op, a, b),
        BinOp::Eq => Ok(Value::Bool(equal(a, b))),
        BinOp::Ne => Ok(Value::Bool(!equal(a, b))),
        BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => Ok(Value::Bool(compare_op(op, a, b)?)),
    }
}

/// `<`, `>`, `<=`, `>=` (false when either side is NaN).
pub fn compare_op(op: BinOp, a: &Value, b: &Value) -> Result<bool, Ctrl> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Ok(match op {
            BinOp::Lt => x < y,
            BinOp::Gt => x > y,
            BinOp::Le => x <= y,
            _ => x >= y,
        });
    }
    let ord = compare(a, b)?;
    Ok(match (op, ord) {
        (_, None) => false,
        (BinOp::Lt, Some(o)) => o == Ordering::Less,
        (BinOp::Gt, Some(o)) => o == Ordering::Greater,
        (BinOp::Le, Some(o)) => o != Ordering::Greater,
        (_, Some(o)) => o != Ordering::Less,
    })
}

pub fn add(a: &Value, b: &Value) -> EvalResult {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.checked_add(*y).map(Value::Int).ok_or_else(msg::overflow),
        (Value::Float(x), Value::Float(y)) => Ok(Value::Float(x + y)),
        (Value::Int(x), Value::Float(y)) => Ok(Value::Float(*x as f64 + y)),
        (Value::Float(x), Value::Int(y)) => Ok(Value::Float(x + *y as f64)),
        (Value::Str(_), _) | (_, Value::Str(_)) => Ok(Value::Str(concat(a, b).into())),
        _ => Err(type_error(BinOp::Add, a, b)),
    }
}

/// String `+`: both sides' display forms.
pub fn concat(a: &Value, b: &Value) -> String {
    let mut out = String::with_capacity(a.as_str().map_or(8, str::len) + b.as_str().map_or(8, str::len));
    write_display(&mut out, a);
    write_display(&mut out, b);
    out
}

fn arith(op: BinOp, a: &Value, b: &Value) -> EvalResult {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => int_arith(op, *x, *y),
        (Value::Float(x), Value::Float(y)) => Ok(Value::Float(float_arith(op, *x, *y))),
        (Value::Int(x), Value::Float(y)) => Ok(Value::Float(float_arith(op, *x as f64, *y))),
        (Value::Float(x), Value::Int(y)) => Ok(Value::Float(float_arith(op, *x, *y as f64))),
        _ => Err(type_error(op, a, b)),
    }
}

pub fn int_arith(op: BinOp, x: i64, y: i64) -> EvalResult {
    int_result(op, x, y).map(Value::Int)
}

/// Int arithmetic (FORGE.md §2), the one definition both tiers use:
/// overflow and division by zero are errors, `i64::MIN % -1` is 0.
#[inline(always)]
pub fn int_result(op: BinOp, x: i64, y: i64) -> Result<i64, Ctrl> {
    match op {
        BinOp::Add => x.checked_add(y).ok_or_else(msg::overflow),
        BinOp::Sub => x.checked_sub(y).ok_or_else(msg::overflow),
        BinOp::Mul => x.checked_mul(y).ok_or_else(msg::overflow),
        BinOp::Div if y == 0 => Err(msg::division_by_zero()),
        BinOp::Div => x.checked_div(y).ok_or_else(msg::overflow),
        _ if y == 0 => Err(msg::division_by_zero()),
        // `i64::MIN % -1` is 0 (FORGE.md §2), not an overflow.
        _ => Ok(x.checked_rem(y).unwrap_or(0)),
    }
}

/// Float arithmetic (IEEE 754; `%` is the remainder of truncated division).
#[inline(always)]
pub fn float_arith(op: BinOp, x: f64, y: f64) -> f64 {
    match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        _ => x % y,
    }
}

/// Unary minus.
pub fn negate(v: &Value) -> EvalResult {
    match v {
        Value::Int(n) => n.checked_neg().map(Value::Int).ok_or_else(msg::overflow),
        Value::Float(f) => Ok(Value::Float(-f)),
        _ => Err(Ctrl::runtime("cannot negate non-number")),
    }
}

/// `a..b`.
pub fn range(a: &Value, b: &Value) -> EvalResult {
    match (a, b) {
        (Value::Int(lo), Value::Int(hi)) => {
            if hi.saturating_sub(*lo) > MAX_RANGE {
                return Err(Ctrl::runtime(format!("range {lo}..{hi} is too large")));
            }
            Ok(Value::array((*lo..*hi).map(Value::Int).collect()))
        }
        _ => Err(Ctrl::runtime("range bounds must be integers")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::display::display;

    fn show(r: EvalResult) -> String {
        match r {
            Ok(v) => display(&v),
            Err(c) => match c.as_error() {
                Some(e) => format!("error: {}", e.message),
                None => format!("{c:?}"),
            },
        }
    }

    #[test]
    fn int_rules() {
        assert_eq!(show(binary(BinOp::Div, &Value::Int(-7), &Value::Int(2))), "-3");
        assert_eq!(show(binary(BinOp::Mod, &Value::Int(-7), &Value::Int(3))), "-1");
        assert_eq!(show(binary(BinOp::Mod, &Value::Int(i64::MIN), &Value::Int(-1))), "0");
        assert_eq!(show(binary(BinOp::Div, &Value::Int(i64::MIN), &Value::Int(-1))), "error: integer overflow");
        assert_eq!(show(binary(BinOp::Add, &Value::Int(i64::MAX), &Value::Int(1))), "error: integer overflow");
        assert_eq!(show(binary(BinOp::Mod, &Value::Int(1), &Value::Int(0))), "error: division by zero");
    }

    #[test]
    fn mixed_and_strings() {
        assert_eq!(show(binary(BinOp::Mod, &Value::Float(7.5), &Value::Int(2))), "1.5");
        assert_eq!(show(binary(BinOp::Add, &"v".into(), &Value::Float(3.0))), "v3.0");
        assert_eq!(show(binary(BinOp::Sub, &Value::Int(1), &"a".into())), "error: cannot apply Sub to Int and String");
        assert_eq!(show(binary(BinOp::Lt, &Value::Int(1), &"a".into())), "error: cannot compare Int and String");
    }
}
