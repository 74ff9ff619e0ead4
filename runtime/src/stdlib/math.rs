//! The `math` module (FORGE.md §10): constants `pi`, `e`, `inf`, and numeric
//! functions. Int results are checked (`integer overflow`), and `floor`,
//! `ceil` and `round` always return an Int.

use crate::builtins::args::{self, requires};
use crate::builtins::{Builder, NativeCx};
use crate::error::{msg, Ctrl, EvalResult};
use crate::value::Value;

pub fn register(b: &mut Builder) {
    b.module("math", |m| {
        m.value("pi", Value::Float(std::f64::consts::PI));
        m.value("e", Value::Float(std::f64::consts::E));
        m.value("inf", Value::Float(f64::INFINITY));
        m.func("sqrt", 1, 1, sqrt);
        m.func("pow", 2, 2, pow);
        m.func("abs", 1, 1, abs);
        m.func("max", 2, 2, max);
        m.func("min", 2, 2, min);
        m.func("floor", 1, 1, floor);
        m.func("ceil", 1, 1, ceil);
        m.func("round", 1, 1, round);
        m.func("sin", 1, 1, sin);
        m.func("cos", 1, 1, cos);
        m.func("tan", 1, 1, tan);
        m.func("log", 1, 1, log);
        m.func("random", 0, 0, random);
        m.func("random_int", 2, 2, random_int);
        m.func("clamp", 3, 3, clamp);
    });
}

/// A numeric argument, keeping whether it was an Int.
#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn of(v: &Value, name: &str) -> Result<Num, Ctrl> {
        match v {
            Value::Int(n) => Ok(Num::Int(*n)),
            Value::Float(f) => Ok(Num::Float(*f)),
            _ => Err(requires(name, "a number")),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::Int(n) => n as f64,
            Num::Float(f) => f,
        }
    }
}

/// Converts an already-rounded Float to Int: NaN and values outside the
/// 64-bit range are errors, never a wrapped or saturated number.
pub fn float_to_int(f: f64) -> Result<i64, Ctrl> {
    if f.is_nan() {
        return Err(Ctrl::runtime("cannot convert NaN to Int"));
    }
    // i64::MIN is exactly representable; i64::MAX + 1 = 2^63 is the first
    // value out of range.
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        return Err(msg::overflow());
    }
    Ok(f as i64)
}

fn float_fn(args: &[Value], name: &str, f: fn(f64) -> f64) -> EvalResult {
    Ok(Value::Float(f(args::number(&args[0], name)?)))
}

fn sqrt(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    float_fn(args, "math.sqrt", f64::sqrt)
}

fn sin(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    float_fn(args, "math.sin", f64::sin)
}

fn cos(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    float_fn(args, "math.cos", f64::cos)
}

fn tan(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    float_fn(args, "math.tan", f64::tan)
}

fn log(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    float_fn(args, "math.log", f64::ln)
}

/// `b ** x` for Ints with `x >= 0`, or `None` on overflow.
fn int_pow(b: i64, x: i64) -> Option<i64> {
    match u32::try_from(x) {
        Ok(x) => b.checked_pow(x),
        // Exponents this large only fit for bases 0, 1 and -1.
        Err(_) => match b {
            0 | 1 => Some(b),
            -1 => Some(if x % 2 == 0 { 1 } else { -1 }),
            _ => None,
        },
    }
}

fn pow(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let b = Num::of(&args[0], "math.pow")?;
    let x = Num::of(&args[1], "math.pow")?;
    match (b, x) {
        (Num::Int(b), Num::Int(x)) if x >= 0 => int_pow(b, x).map(Value::Int).ok_or_else(msg::overflow),
        _ => Ok(Value::Float(b.as_f64().powf(x.as_f64()))),
    }
}

fn abs(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    match Num::of(&args[0], "math.abs")? {
        Num::Int(n) => n.checked_abs().map(Value::Int).ok_or_else(msg::overflow),
        Num::Float(f) => Ok(Value::Float(f.abs())),
    }
}

fn pick(args: &[Value], name: &str, int: fn(i64, i64) -> i64, float: fn(f64, f64) -> f64) -> EvalResult {
    match (Num::of(&args[0], name)?, Num::of(&args[1], name)?) {
        (Num::Int(a), Num::Int(b)) => Ok(Value::Int(int(a, b))),
        (a, b) => Ok(Value::Float(float(a.as_f64(), b.as_f64()))),
    }
}

fn max(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    pick(args, "math.max", i64::max, f64::max)
}

fn min(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    pick(args, "math.min", i64::min, f64::min)
}

fn to_int(args: &[Value], name: &str, f: fn(f64) -> f64) -> EvalResult {
    match Num::of(&args[0], name)? {
        Num::Int(n) => Ok(Value::Int(n)),
        Num::Float(x) => float_to_int(f(x)).map(Value::Int),
    }
}

fn floor(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    to_int(args, "math.floor", f64::floor)
}

fn ceil(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    to_int(args, "math.ceil", f64::ceil)
}

/// `f64::round` halves away from zero (`2.5` → 3, `-2.5` → -3).
fn round(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    to_int(args, "math.round", f64::round)
}

fn random(_cx: &mut dyn NativeCx, _args: &mut [Value]) -> EvalResult {
    Ok(Value::Float(fastrand::f64()))
}

fn random_int(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let lo = args::int(&args[0], "math.random_int", "integer arguments")?;
    let hi = args::int(&args[1], "math.random_int", "integer arguments")?;
    if lo > hi {
        return Err(Ctrl::runtime(format!("math.random_int() requires lo <= hi, got {lo} and {hi}")));
    }
    Ok(Value::Int(fastrand::i64(lo..=hi)))
}

fn clamp(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let name = "math.clamp";
    let (x, lo, hi) = (Num::of(&args[0], name)?, Num::of(&args[1], name)?, Num::of(&args[2], name)?);
    if let (Num::Int(x), Num::Int(lo), Num::Int(hi)) = (x, lo, hi) {
        if lo > hi {
            return Err(Ctrl::runtime(format!("math.clamp() requires lo <= hi, got {lo} and {hi}")));
        }
        return Ok(Value::Int(x.clamp(lo, hi)));
    }
    let (x, lo, hi) = (x.as_f64(), lo.as_f64(), hi.as_f64());
    // Not `f64::clamp`: it panics on a NaN bound.
    if lo > hi || lo.is_nan() || hi.is_nan() {
        return Err(Ctrl::runtime("math.clamp() requires lo <= hi"));
    }
    Ok(Value::Float(if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }))
}

#[cfg(test)]
mod tests {
    use crate::builtins::testing::{call_module, show};
    use crate::value::Value;

    fn m(name: &str, args: Vec<Value>) -> String {
        show(call_module("math", name, args))
    }

    #[test]
    fn sqrt_and_pow() {
        assert_eq!(m("sqrt", vec![Value::Float(2.25)]), "1.5");
        assert_eq!(m("sqrt", vec![Value::Int(2)]), "1.4142135623730951");
        assert_eq!(m("sqrt", vec![Value::Int(-1)]), "NaN");
        assert_eq!(m("sqrt", vec!["x".into()]), "error: math.sqrt() requires a number");
        assert_eq!(m("pow", vec![Value::Int(2), Value::Int(10)]), "1024");
        assert_eq!(m("pow", vec![Value::Int(2), Value::Int(-1)]), "0.5");
        assert_eq!(m("pow", vec![Value::Float(2.0), Value::Float(0.5)]), "1.4142135623730951");
        assert_eq!(m("pow", vec![Value::Int(10), Value::Int(0)]), "1");
        assert_eq!(m("pow", vec![Value::Int(2), Value::Int(63)]), "error: integer overflow");
        assert_eq!(m("pow", vec![Value::Int(-2), Value::Int(63)]), "-9223372036854775808");
        assert_eq!(m("pow", vec![Value::Int(-1), Value::Int(i64::MAX)]), "-1");
        assert_eq!(m("pow", vec![Value::Int(3), Value::Int(i64::MAX)]), "error: integer overflow");
        assert_eq!(m("pow", vec![Value::Int(2)]), "error: math.pow() expected 2 arguments but got 1");
    }

    #[test]
    fn abs_max_min_keep_type() {
        assert_eq!(m("abs", vec![Value::Int(-42)]), "42");
        assert_eq!(m("abs", vec![Value::Float(-2.75)]), "2.75");
        assert_eq!(m("abs", vec![Value::Int(i64::MIN)]), "error: integer overflow");
        assert_eq!(m("max", vec![Value::Int(10), Value::Int(20)]), "20");
        assert_eq!(m("max", vec![Value::Int(10), Value::Float(2.5)]), "10.0");
        assert_eq!(m("min", vec![Value::Int(-1), Value::Int(-2)]), "-2");
        assert_eq!(m("min", vec![Value::Null, Value::Int(-2)]), "error: math.min() requires a number");
    }

    #[test]
    fn rounding_returns_int() {
        assert_eq!(m("floor", vec![Value::Float(3.7)]), "3");
        assert_eq!(m("floor", vec![Value::Float(-1.2)]), "-2");
        assert_eq!(m("floor", vec![Value::Int(5)]), "5");
        assert_eq!(m("ceil", vec![Value::Float(-1.8)]), "-1");
        assert_eq!(m("round", vec![Value::Float(2.5)]), "3");
        assert_eq!(m("round", vec![Value::Float(-2.5)]), "-3");
        assert_eq!(m("round", vec![Value::Float(3.4)]), "3");
        assert_eq!(m("floor", vec![Value::Float(1e19)]), "error: integer overflow");
        assert_eq!(m("floor", vec![Value::Float(f64::INFINITY)]), "error: integer overflow");
        assert_eq!(m("floor", vec![Value::Float(i64::MIN as f64)]), "-9223372036854775808");
        assert_eq!(m("round", vec![Value::Float(f64::NAN)]), "error: cannot convert NaN to Int");
    }

    #[test]
    fn trig_and_constants() {
        assert_eq!(m("sin", vec![Value::Int(0)]), "0.0");
        assert_eq!(m("log", vec![Value::Int(1)]), "0.0");
        assert_eq!(m("round", vec![Value::Float((0.5f64).sin() * 1_000_000.0)]), "479426");
        let reg = crate::builtins::registry();
        let Some(Value::Object(math)) = reg.lookup("math").map(|i| reg.value(i).clone()) else { panic!() };
        assert_eq!(crate::value::display::display(&math.fields["pi"]), "3.141592653589793");
        assert_eq!(crate::value::display::display(&math.fields["e"]), "2.718281828459045");
        assert_eq!(crate::value::display::display(&math.fields["inf"]), "inf");
    }

    #[test]
    fn random_and_clamp() {
        for _ in 0..100 {
            let Ok(Value::Float(r)) = call_module("math", "random", vec![]) else { panic!() };
            assert!((0.0..1.0).contains(&r));
            let Ok(Value::Int(d)) = call_module("math", "random_int", vec![Value::Int(1), Value::Int(6)]) else {
                panic!()
            };
            assert!((1..=6).contains(&d));
        }
        assert_eq!(m("random_int", vec![Value::Int(3), Value::Int(3)]), "3");
        assert!(m("random_int", vec![Value::Int(4), Value::Int(3)]).starts_with("error: math.random_int() requires"));
        assert!(!m("random_int", vec![Value::Int(i64::MIN), Value::Int(i64::MAX)]).starts_with("error"));
        assert_eq!(m("clamp", vec![Value::Int(5), Value::Int(1), Value::Int(10)]), "5");
        assert_eq!(m("clamp", vec![Value::Int(-5), Value::Int(0), Value::Int(10)]), "0");
        assert_eq!(m("clamp", vec![Value::Int(15), Value::Int(0), Value::Int(10)]), "10");
        assert_eq!(m("clamp", vec![Value::Float(15.5), Value::Int(0), Value::Int(10)]), "10.0");
        assert!(m("clamp", vec![Value::Int(1), Value::Int(10), Value::Int(0)]).starts_with("error"));
        assert!(m("clamp", vec![Value::Float(1.0), Value::Float(f64::NAN), Value::Int(0)]).starts_with("error"));
    }
}
