//! The `json` module (FORGE.md §10): `parse`, `stringify`, `pretty`,
//! `valid`, and the JSON reader/writer other parts of the runtime share
//! (`fs.read_json`/`write_json`, the HTTP server).
//!
//! Both directions are written here rather than going through
//! `serde_json::Value`, so that Floats print exactly as the display form
//! (§3: `1.0`, `1e20`), objects keep document order, and nesting is limited
//! to [`MAX_DEPTH`] levels so hostile input cannot exhaust the stack.

use std::fmt::Write;

use arcstr::ArcStr;

use crate::builtins::args;
use crate::builtins::{Builder, NativeCx};
use crate::error::{Ctrl, EvalResult};
use crate::value::display::{write_float, write_quoted};
use crate::value::{Map, Value};

/// Arrays and objects nested deeper than this are rejected by the parser
/// and the serializer.
pub const MAX_DEPTH: usize = 1000;

/// The largest indent `json.pretty` accepts.
const MAX_INDENT: i64 = 32;

pub fn register(b: &mut Builder) {
    b.module("json", |m| {
        m.func("parse", 1, 1, parse);
        m.func("stringify", 1, 1, stringify);
        m.func("pretty", 1, 2, pretty);
        m.func("valid", 1, 1, valid);
    });
}

// ---------------------------------------------------------------------------
// Serializer

struct Writer {
    out: String,
    /// Spaces per level, or `None` for the compact form.
    indent: Option<usize>,
    too_deep: bool,
}

impl Writer {
    fn newline(&mut self, level: usize) {
        if let Some(n) = self.indent {
            self.out.push('\n');
            for _ in 0..n * level {
                self.out.push(' ');
            }
        }
    }

    fn value(&mut self, v: &Value, depth: usize) {
        match v {
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => {
                let _ = write!(self.out, "{n}");
            }
            Value::Float(f) if f.is_finite() => write_float(&mut self.out, *f),
            Value::Str(s) => write_quoted(&mut self.out, s),
            Value::Array(items) => {
                if items.is_empty() {
                    self.out.push_str("[]");
                } else if depth >= MAX_DEPTH {
                    self.too_deep = true;
                    self.out.push_str("null");
                } else {
                    self.out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            self.separator();
                        }
                        self.newline(depth + 1);
                        self.value(item, depth + 1);
                    }
                    self.newline(depth);
                    self.out.push(']');
                }
            }
            Value::Object(obj) => {
                if obj.fields.is_empty() {
                    self.out.push_str("{}");
                } else if depth >= MAX_DEPTH {
                    self.too_deep = true;
                    self.out.push_str("null");
                } else {
                    self.out.push('{');
                    for (i, (k, item)) in obj.fields.iter().enumerate() {
                        if i > 0 {
                            self.separator();
                        }
                        self.newline(depth + 1);
                        write_quoted(&mut self.out, k);
                        self.out.push_str(": ");
                        self.value(item, depth + 1);
                    }
                    self.newline(depth);
                    self.out.push('}');
                }
            }
            // inf, NaN, enum values, Result, Option, functions, channels,
            // task handles and types have no JSON form.
            _ => self.out.push_str("null"),
        }
    }

    fn separator(&mut self) {
        self.out.push_str(if self.indent.is_some() { "," } else { ", " });
    }
}

fn write_json(v: &Value, indent: Option<usize>) -> Result<String, String> {
    let mut w = Writer { out: String::new(), indent, too_deep: false };
    w.value(v, 0);
    if w.too_deep {
        Err(format!("value is nested more than {MAX_DEPTH} levels deep"))
    } else {
        Ok(w.out)
    }
}

/// Compact JSON text of `v` (`{"a": 1, "b": [1.0]}`), as `json.stringify`
/// writes it. Parts nested more than [`MAX_DEPTH`] levels deep are written
/// as `null`.
pub fn to_json_compact(v: &Value) -> String {
    let mut w = Writer { out: String::new(), indent: None, too_deep: false };
    w.value(v, 0);
    w.out
}

/// Multi-line JSON text of `v` with `indent` spaces per level, as
/// `json.pretty` writes it (no trailing newline). Parts nested more than
/// [`MAX_DEPTH`] levels deep are written as `null`.
pub fn to_json_pretty(v: &Value, indent: usize) -> String {
    let mut w = Writer { out: String::new(), indent: Some(indent), too_deep: false };
    w.value(v, 0);
    w.out
}

/// Like [`to_json_pretty`] but fails (with a message naming `func`) when
/// `v` is nested too deeply.
pub(crate) fn pretty_checked(v: &Value, indent: usize, func: &str) -> Result<String, Ctrl> {
    write_json(v, Some(indent)).map_err(|e| Ctrl::runtime(format!("{func}() cannot serialize: {e}")))
}

fn stringify(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    write_json(&args[0], None)
        .map(Value::from)
        .map_err(|e| Ctrl::runtime(format!("json.stringify() cannot serialize: {e}")))
}

fn pretty(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let indent = match args.get(1) {
        None => 2,
        Some(Value::Int(n)) if (0..=MAX_INDENT).contains(n) => *n as usize,
        Some(_) => {
            return Err(args::requires("json.pretty", &format!("an indent between 0 and {MAX_INDENT}")));
        }
    };
    pretty_checked(&args[0], indent, "json.pretty").map(Value::from)
}

// ---------------------------------------------------------------------------
// Parser

/// Parses JSON text into a Forge value: objects keep the document's key
/// order (a repeated key keeps its first position and its last value),
/// integers become Int (Float when they do not fit in 64 bits), other
/// numbers Float. The error is the bare description, e.g. `expected value
/// at line 1 column 1`; `json.parse` prefixes it with `JSON parse error: `.
pub fn from_json_str(text: &str) -> Result<Value, String> {
    let mut p = Parser { src: text, bytes: text.as_bytes(), pos: 0 };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(p.error("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    /// `WHAT at line L column C`, positions counted in characters.
    fn error(&self, what: &str) -> String {
        let pos = self.pos.min(self.bytes.len());
        let before = self.src.get(..pos).unwrap_or(self.src);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        format!("{what} at line {line} column {column}")
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        match self.peek() {
            None => Err(self.error("EOF while parsing a value")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Value::Str),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(_) => Err(self.error("expected value")),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, String> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.error("expected value"))
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("recursion limit exceeded"));
        }
        self.pos += 1; // [
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::array(items));
                }
                None => return Err(self.error("EOF while parsing a list")),
                Some(_) => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("recursion limit exceeded"));
        }
        self.pos += 1; // {
        let mut fields = Map::default();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::object(fields));
        }
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'"') => {}
                None => return Err(self.error("EOF while parsing an object")),
                Some(_) => return Err(self.error("key must be a string")),
            }
            let key = self.string()?;
            self.skip_ws();
            match self.peek() {
                Some(b':') => self.pos += 1,
                None => return Err(self.error("EOF while parsing an object")),
                Some(_) => return Err(self.error("expected `:`")),
            }
            self.skip_ws();
            let v = self.value(depth)?;
            fields.insert(key, v);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::object(fields));
                }
                None => return Err(self.error("EOF while parsing an object")),
                Some(_) => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("invalid number")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        let text = &self.src[start..self.pos];
        if integer {
            if let Ok(n) = text.parse::<i64>() {
                return Ok(Value::Int(n));
            }
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => {
                self.pos = start;
                Err(self.error("number out of range"))
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let Some(digits) = self.src.get(self.pos..self.pos + 4) else {
            if self.pos + 4 <= self.bytes.len() {
                return Err(self.error("invalid escape"));
            }
            self.pos = self.bytes.len();
            return Err(self.error("EOF while parsing a string"));
        };
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.error("invalid escape"));
        }
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("invalid escape"))
    }

    /// A string literal starting at the opening quote.
    fn string(&mut self) -> Result<ArcStr, String> {
        self.pos += 1; // "
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error("EOF while parsing a string")),
                Some(b'"') => {
                    out.push_str(&self.src[run..self.pos]);
                    self.pos += 1;
                    return Ok(ArcStr::from(out));
                }
                Some(b'\\') => {
                    out.push_str(&self.src[run..self.pos]);
                    self.pos += 1;
                    let Some(e) = self.peek() else { return Err(self.error("EOF while parsing a string")) };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape()?),
                        _ => {
                            self.pos -= 1;
                            return Err(self.error("invalid escape"));
                        }
                    }
                    run = self.pos;
                }
                Some(0..=0x1f) => {
                    return Err(self.error("control character (\\u0000-\\u001F) found while parsing a string"));
                }
                // Only ASCII bytes are inspected, so every slice boundary
                // above falls on a character boundary.
                Some(_) => self.pos += 1,
            }
        }
    }

    /// The character of `\uXXXX` (after the `u`), joining surrogate pairs.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if !self.bytes[self.pos..].starts_with(b"\\u") {
                return Err(self.error("lone leading surrogate in hex escape"));
            }
            self.pos += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("lone leading surrogate in hex escape"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid unicode code point"))
    }
}

fn parse(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let text = args::string(&args[0], "json.parse")?;
    from_json_str(text).map_err(|e| Ctrl::runtime(format!("JSON parse error: {e}")))
}

fn valid(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let text = args::string(&args[0], "json.valid")?;
    Ok(Value::Bool(from_json_str(text).is_ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{call_module, show};
    use crate::value::display::display;
    use crate::value::{EnumValue, Object};
    use std::sync::Arc;

    fn parse_show(text: &str) -> String {
        show(call_module("json", "parse", vec![text.into()]))
    }

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::object(pairs.into_iter().map(|(k, v)| (ArcStr::from(k), v)).collect())
    }

    #[test]
    fn parse_keeps_order_and_types() {
        assert_eq!(parse_show(r#"{"z": 1, "a": [true, null, 2.5]}"#), r#"{ "z": 1, "a": [true, null, 2.5] }"#);
        assert_eq!(parse_show("42"), "42");
        assert_eq!(parse_show("-2.5"), "-2.5");
        assert_eq!(parse_show("1e2"), "100.0");
        assert_eq!(parse_show("-0"), "0");
        assert_eq!(parse_show("9223372036854775807"), "9223372036854775807");
        assert_eq!(parse_show("9223372036854775808"), "9.223372036854776e18");
        assert_eq!(parse_show("-9223372036854775808"), "-9223372036854775808");
        assert_eq!(parse_show(" \"text\" "), "text");
        assert_eq!(parse_show("[]"), "[]");
        assert_eq!(parse_show("{}"), "{}");
        assert_eq!(parse_show(r#""\u00e9\ud83d\ude00\n\/""#), "é😀\n/");
        assert_eq!(parse_show(r#"{"a": 1, "b": 2, "a": 3}"#), r#"{ "a": 3, "b": 2 }"#);
        assert_eq!(parse_show(r#"{"ü": "ß€"}"#), r#"{ "ü": "ß€" }"#);
    }

    #[test]
    fn parse_errors() {
        assert_eq!(parse_show(""), "error: JSON parse error: EOF while parsing a value at line 1 column 1");
        assert_eq!(parse_show("{"), "error: JSON parse error: EOF while parsing an object at line 1 column 2");
        assert_eq!(parse_show("[1,]"), "error: JSON parse error: expected value at line 1 column 4");
        assert_eq!(parse_show("[1 2]"), "error: JSON parse error: expected `,` or `]` at line 1 column 4");
        assert_eq!(parse_show("{\n\"a\" 1}"), "error: JSON parse error: expected `:` at line 2 column 5");
        assert_eq!(parse_show("{1: 2}"), "error: JSON parse error: key must be a string at line 1 column 2");
        assert_eq!(parse_show("1 2"), "error: JSON parse error: trailing characters at line 1 column 3");
        assert_eq!(parse_show("01"), "error: JSON parse error: trailing characters at line 1 column 2");
        assert_eq!(parse_show("1."), "error: JSON parse error: invalid number at line 1 column 3");
        assert_eq!(parse_show("-"), "error: JSON parse error: invalid number at line 1 column 2");
        assert_eq!(parse_show("1e999"), "error: JSON parse error: number out of range at line 1 column 1");
        assert_eq!(parse_show("tru"), "error: JSON parse error: expected value at line 1 column 1");
        assert_eq!(parse_show("NaN"), "error: JSON parse error: expected value at line 1 column 1");
        assert!(parse_show("\"a\u{1}\"").starts_with("error: JSON parse error: control character"));
        assert!(parse_show(r#""\ud800""#).contains("lone leading surrogate"));
        assert!(parse_show(r#""\ud800\u0041""#).contains("lone leading surrogate"));
        assert!(parse_show(r#""\udc00""#).contains("invalid unicode code point"));
        assert!(parse_show(r#""\u12"#).contains("EOF while parsing a string"));
        assert!(parse_show(r#""\q""#).contains("invalid escape"));
        assert!(parse_show("\"\\u00éé\"").contains("invalid escape at line 1 column 4"));
        assert!(parse_show("\"é").contains("EOF while parsing a string at line 1 column 3"));
        assert_eq!(show(call_module("json", "parse", vec![Value::Int(1)])), "error: json.parse() requires a string");
    }

    #[test]
    fn parse_depth_is_limited() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(from_json_str(&ok).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(from_json_str(&deep).unwrap_err().starts_with("recursion limit exceeded"));
        let hostile = "{\"a\":".repeat(100_000);
        assert!(from_json_str(&hostile).unwrap_err().starts_with("recursion limit exceeded"));
    }

    #[test]
    fn stringify_compact() {
        let v = obj(vec![("name", "Al".into()), ("tags", Value::array(vec!["x".into()])), ("n", Value::Float(1.0))]);
        assert_eq!(to_json_compact(&v), r#"{"name": "Al", "tags": ["x"], "n": 1.0}"#);
        let v = Value::array(vec![
            Value::Int(1),
            "a".into(),
            Value::Null,
            Value::Bool(true),
            Value::Float(1e20),
            Value::Float(f64::NAN),
            Value::Float(f64::INFINITY),
            Value::ok(Value::Int(1)),
            Value::None,
            Value::Float(-0.0),
            Value::Float(1.5e-7),
        ]);
        assert_eq!(to_json_compact(&v), r#"[1, "a", null, true, 1e20, null, null, null, null, -0.0, 1.5e-7]"#);
        assert_eq!(to_json_compact(&"tab\tq\"\u{1}".into()), r#""tab\tq\"\u0001""#);
        assert_eq!(to_json_compact(&obj(vec![])), "{}");
        assert_eq!(to_json_compact(&Value::array(vec![])), "[]");
        let s = Value::Object(Arc::new(Object {
            tag: Some("P".into()),
            fields: [("x".into(), Value::Int(1))].into_iter().collect(),
        }));
        assert_eq!(to_json_compact(&s), r#"{"x": 1}"#);
        let e =
            Value::Enum(Arc::new(EnumValue { enum_name: "C".into(), variant: "Red".into(), payload: Box::new([]) }));
        assert_eq!(to_json_compact(&e), "null");
        let f = crate::builtins::testing::callback(|_, _| Ok(Value::Null));
        assert_eq!(to_json_compact(&obj(vec![("k\n", f)])), r#"{"k\n": null}"#);
    }

    #[test]
    fn stringify_round_trips() {
        let text = r#"{"zeta": 1, "alpha": {"y": 2, "b": [1.5, "s", false, null]}, "mid": 0.1}"#;
        let v = from_json_str(text).unwrap();
        assert_eq!(to_json_compact(&v), text);
        assert_eq!(display(&v), r#"{ "zeta": 1, "alpha": { "y": 2, "b": [1.5, "s", false, null] }, "mid": 0.1 }"#);
    }

    #[test]
    fn depth_limit_fits_a_small_stack() {
        // Tasks run on stacks of several MiB; the deepest document allowed
        // must need only a small part of that, also in debug builds.
        let worker = std::thread::Builder::new().stack_size(512 * 1024).spawn(|| {
            let text = "[{\"a\": ".repeat(MAX_DEPTH / 2) + "1" + &"}]".repeat(MAX_DEPTH / 2);
            let v = from_json_str(&text).unwrap();
            assert_eq!(to_json_compact(&v), text);
            assert_eq!(to_json_pretty(&v, 2).lines().count(), MAX_DEPTH * 2 + 1);
        });
        worker.unwrap().join().unwrap();
    }

    #[test]
    fn stringify_depth_is_limited() {
        let mut v = Value::Int(1);
        for _ in 0..MAX_DEPTH {
            v = Value::array(vec![v]);
        }
        assert!(call_module("json", "stringify", vec![v.clone()]).is_ok());
        v = Value::array(vec![v]);
        assert!(show(call_module("json", "stringify", vec![v.clone()]))
            .starts_with("error: json.stringify() cannot serialize"));
        assert!(to_json_compact(&v).contains("[null]"));
    }

    #[test]
    fn pretty_forms() {
        let v = obj(vec![
            ("a", Value::array(vec![Value::Int(1), Value::Int(2)])),
            ("b", obj(vec![])),
            ("c", Value::array(vec![])),
        ]);
        assert_eq!(
            show(call_module("json", "pretty", vec![v.clone()])),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": []\n}"
        );
        let v = obj(vec![("name", "Forge".into()), ("version", Value::Int(3))]);
        assert_eq!(
            show(call_module("json", "pretty", vec![v.clone(), Value::Int(4)])),
            "{\n    \"name\": \"Forge\",\n    \"version\": 3\n}"
        );
        assert_eq!(
            show(call_module("json", "pretty", vec![v.clone(), Value::Int(0)])),
            "{\n\"name\": \"Forge\",\n\"version\": 3\n}"
        );
        assert_eq!(show(call_module("json", "pretty", vec![Value::array(vec![])])), "[]");
        assert_eq!(show(call_module("json", "pretty", vec![Value::Int(7)])), "7");
        assert!(show(call_module("json", "pretty", vec![v.clone(), Value::Int(-1)]))
            .starts_with("error: json.pretty() requires"));
        assert!(show(call_module("json", "pretty", vec![v, "x".into()])).starts_with("error: json.pretty() requires"));
    }

    #[test]
    fn valid_checks() {
        assert_eq!(show(call_module("json", "valid", vec!["[1, 2]".into()])), "true");
        assert_eq!(show(call_module("json", "valid", vec!["[1, 2".into()])), "false");
        assert_eq!(show(call_module("json", "valid", vec!["".into()])), "false");
    }
}
