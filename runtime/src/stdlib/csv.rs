//! The `csv` module (FORGE.md §10): `parse`/`stringify` between CSV text
//! (a header line, RFC-4180 quoting) and an Array of Objects, and
//! `read`/`write` for files, whose reading and writing run on the
//! scheduler's blocking pool (parsing and formatting stay on the task).

use arcstr::ArcStr;

use crate::builtins::args;
use crate::builtins::offload::{self, FILE_IO};
use crate::builtins::{Builder, NativeCx};
use crate::error::{Ctrl, EvalResult};
use crate::value::display::write_display;
use crate::value::{Map, Value};

pub fn register(b: &mut Builder) {
    b.module("csv", |m| {
        m.func("parse", 1, 1, parse);
        m.func("stringify", 1, 1, stringify);
        m.func("read", 1, 1, read);
        m.func("write", 2, 2, write);
    });
}

/// A field as a value: an Int, a Float (plain decimal or exponent
/// notation), `true`/`false`, or else the text itself.
fn convert(field: &str) -> Value {
    match field {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = field.parse::<i64>() {
        return Value::Int(n);
    }
    // Rust also reads `inf`, `NaN` and `infinity`; those stay text, as do
    // integers too long for 64 bits (identifiers, not quantities).
    let numeric = field.bytes().any(|b| b.is_ascii_digit())
        && field.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && field.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
    if numeric {
        if let Ok(f) = field.parse::<f64>() {
            if f.is_finite() {
                return Value::Float(f);
            }
        }
    }
    Value::from(field)
}

/// Parses CSV text with a header line into an Array of Objects. A short
/// row gets `null` for its missing columns; extra fields are dropped.
pub fn parse_text(text: &str, func: &str) -> Result<Value, Ctrl> {
    let mut reader = ::csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let headers: Vec<ArcStr> =
        reader.headers().map_err(|e| Ctrl::runtime(format!("{func}() error: {e}")))?.iter().map(ArcStr::from).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| Ctrl::runtime(format!("{func}() error: {e}")))?;
        let mut row = Map::default();
        for (i, key) in headers.iter().enumerate() {
            row.insert(key.clone(), record.get(i).map_or(Value::Null, convert));
        }
        rows.push(Value::object(row));
    }
    Ok(Value::array(rows))
}

/// Appends `field`, quoted when it holds a comma, a quote or a line break.
fn write_field(out: &mut String, field: &str, alone: bool) {
    // A lone empty field is quoted so the line does not read as blank.
    if field.contains([',', '"', '\n', '\r']) || (alone && field.is_empty()) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// CSV text of an Array of Objects: the header is the first row's keys,
/// every line ends with `\n`. Strings are written as they are, `null` and
/// missing keys as empty fields, other values in their display form.
pub fn stringify_rows(rows: &Value, func: &str) -> Result<String, Ctrl> {
    let rows = match rows {
        Value::Array(rows) => rows,
        _ => return Err(args::requires(func, "an array of objects")),
    };
    let mut objects = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        match row {
            Value::Object(o) => objects.push(o),
            _ => return Err(args::requires(func, "an array of objects")),
        }
    }
    let Some(first) = objects.first() else { return Ok(String::new()) };
    let header: Vec<&ArcStr> = first.fields.keys().collect();
    if header.is_empty() {
        return Ok(String::new());
    }
    let alone = header.len() == 1;
    let mut out = String::new();
    for (i, key) in header.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_field(&mut out, key, alone);
    }
    out.push('\n');
    let mut text = String::new();
    for row in &objects {
        for (i, key) in header.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            text.clear();
            match row.fields.get(*key) {
                None | Some(Value::Null) => {}
                Some(v) => write_display(&mut text, v),
            }
            write_field(&mut out, &text, alone);
        }
        out.push('\n');
    }
    Ok(out)
}

fn parse(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    parse_text(args::string(&args[0], "csv.parse")?, "csv.parse")
}

fn stringify(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    stringify_rows(&args[0], "csv.stringify").map(Value::from)
}

fn read(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let path = args::string(&args[0], "csv.read")?.clone();
    let text = offload::run(cx, FILE_IO, || Ok(move || std::fs::read_to_string(path.as_str())))?
        .map_err(|e| Ctrl::runtime(format!("csv.read error: {e}")))?;
    parse_text(&text, "csv.read")
}

/// The text is made on the task, once (not again when the VM restarts the
/// call); the file is written on the blocking pool.
fn write(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let path = args::string(&args[0], "csv.write")?.clone();
    let rows = &args[1];
    let written = offload::run(cx, FILE_IO, || {
        let text = stringify_rows(rows, "csv.write")?;
        Ok(move || std::fs::write(path.as_str(), text))
    })?;
    written.map_err(|e| Ctrl::runtime(format!("csv.write error: {e}")))?;
    Ok(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{call_module, show};

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::object(pairs.into_iter().map(|(k, v)| (ArcStr::from(k), v)).collect())
    }

    fn parse_show(text: &str) -> String {
        show(call_module("csv", "parse", vec![text.into()]))
    }

    #[test]
    fn parsing_converts_fields() {
        assert_eq!(
            parse_show("name,age,active,score\nAlice,30,true,9.5\nBob,25,false,7"),
            r#"[{ "name": "Alice", "age": 30, "active": true, "score": 9.5 }, { "name": "Bob", "age": 25, "active": false, "score": 7 }]"#
        );
        assert_eq!(parse_show("name,age\nAl,30"), r#"[{ "name": "Al", "age": 30 }]"#);
        assert_eq!(
            parse_show("a,b\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",-1e3\n"),
            r#"[{ "a": "x, y", "b": "say \"hi\"" }, { "a": "multi\nline", "b": -1000.0 }]"#
        );
        assert_eq!(
            parse_show("a,b,c\n,inf,NaN\n1\n"),
            r#"[{ "a": "", "b": "inf", "c": "NaN" }, { "a": 1, "b": null, "c": null }]"#
        );
        assert_eq!(
            parse_show("id\n123456789012345678901234\n-.5\n+7\n1-2\nTrue"),
            r#"[{ "id": "123456789012345678901234" }, { "id": -0.5 }, { "id": 7 }, { "id": "1-2" }, { "id": "True" }]"#
        );
        assert_eq!(parse_show(""), "[]");
        assert_eq!(parse_show("a,b\n"), "[]");
        assert_eq!(show(call_module("csv", "parse", vec![Value::Null])), "error: csv.parse() requires a string");
    }

    #[test]
    fn stringify_quotes_when_needed() {
        let rows = Value::array(vec![
            obj(vec![("name", "Al".into()), ("note", "plain".into())]),
            obj(vec![("name", "Bo".into()), ("note", "a,b".into())]),
            obj(vec![("name", "Cy".into()), ("note", "say \"hi\"".into())]),
        ]);
        assert_eq!(
            show(call_module("csv", "stringify", vec![rows])),
            "name,note\nAl,plain\nBo,\"a,b\"\nCy,\"say \"\"hi\"\"\"\n"
        );
        let rows =
            Value::array(vec![obj(vec![("x", Value::Int(1)), ("y", Value::Float(2.5)), ("z", Value::Bool(true))])]);
        assert_eq!(show(call_module("csv", "stringify", vec![rows])), "x,y,z\n1,2.5,true\n");
        let rows = Value::array(vec![
            obj(vec![("a", Value::Int(1)), ("b", Value::array(vec!["p".into(), Value::Int(2)]))]),
            obj(vec![("a", Value::Null)]),
        ]);
        assert_eq!(show(call_module("csv", "stringify", vec![rows])), "a,b\n1,\"[\"\"p\"\", 2]\"\n,\n");
        let rows = Value::array(vec![obj(vec![("a", "".into())])]);
        assert_eq!(show(call_module("csv", "stringify", vec![rows.clone()])), "a\n\"\"\n");
        let Ok(Value::Str(text)) = call_module("csv", "stringify", vec![rows]) else { panic!() };
        assert_eq!(parse_show(&text), r#"[{ "a": "" }]"#);
        assert_eq!(show(call_module("csv", "stringify", vec![Value::array(vec![])])), "");
        assert_eq!(
            show(call_module("csv", "stringify", vec![Value::array(vec![Value::Int(1)])])),
            "error: csv.stringify() requires an array of objects"
        );
    }

    #[test]
    fn files() {
        let path = std::env::temp_dir().join(format!("forge-csv-test-{}.csv", std::process::id()));
        let path = path.to_string_lossy().into_owned();
        let rows = Value::array(vec![
            obj(vec![("item", "pen".into()), ("qty", Value::Int(3))]),
            obj(vec![("item", "ink".into()), ("qty", Value::Int(10))]),
        ]);
        assert_eq!(show(call_module("csv", "write", vec![path.clone().into(), rows])), "null");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "item,qty\npen,3\nink,10\n");
        assert_eq!(
            show(call_module("csv", "read", vec![path.clone().into()])),
            r#"[{ "item": "pen", "qty": 3 }, { "item": "ink", "qty": 10 }]"#
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            show(call_module("csv", "read", vec![path.into()])),
            "error: csv.read error: No such file or directory (os error 2)"
        );
    }
}
