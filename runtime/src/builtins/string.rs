//! String built-ins (FORGE.md §9 "Strings"): case mapping, trimming,
//! splitting, searching, padding and the identifier-case conversions, plus
//! the methods-only `chars`, `words`, `is_empty`, `char_at`, `trim_start`
//! and `trim_end`. The names shared with Arrays (`reverse`, `contains`,
//! `index_of`, `last_index_of`, `slice`) are registered by `array.rs`, which
//! calls the `pub(super)` helpers here for Strings.
//!
//! Invariants:
//! 1. Lengths and positions count characters (Unicode scalar values), never
//!    bytes; a String is only cut at character boundaries (`byte_at`).
//! 2. A result equal to the input is the input's `ArcStr` (no copy).
//! 3. Results are bounded: a String above `MAX_BYTES` is refused with
//!    `NAME() result too large` instead of exhausting memory.

use arcstr::ArcStr;

use super::args::{self, requires};
use super::array::{opt_end, slice_bounds};
use super::{Builder, NativeCx};
use crate::error::{Ctrl, EvalResult};
use crate::value::Value;

/// The largest String `repeat_str` and `pad_*` build, in bytes.
const MAX_BYTES: usize = 1 << 28;

pub fn register(b: &mut Builder) {
    b.method("upper", 1, 1, upper);
    b.method("lower", 1, 1, lower);
    b.method("trim", 1, 1, trim);
    b.method_only("trim_start", 1, 1, trim_start);
    b.method_only("trim_end", 1, 1, trim_end);
    b.method("split", 2, 2, split);
    b.method("replace", 3, 3, replace);
    b.method("starts_with", 2, 2, starts_with);
    b.method("ends_with", 2, 2, ends_with);
    b.method("substring", 2, 3, substring);
    b.method("pad_start", 2, 3, pad_start);
    b.method("pad_end", 2, 3, pad_end);
    b.method("capitalize", 1, 1, capitalize);
    b.method("title", 1, 1, title);
    b.method("repeat_str", 2, 2, repeat_str);
    b.method("count", 2, 2, count);
    b.method("slugify", 1, 1, slugify);
    b.method("snake_case", 1, 1, snake_case);
    b.method("camel_case", 1, 1, camel_case);
    b.func("lines", 1, 1, lines);
    b.method_only("chars", 1, 1, chars);
    b.method_only("words", 1, 1, words);
    b.method_only("is_empty", 1, 1, is_empty);
    b.method_only("char_at", 2, 2, char_at);
}

// ---------------------------------------------------------------------------
// Character positions (invariant 1), also used by `array.rs`

/// Byte offset of the character at position `n` (`s.len()` past the end).
fn byte_at(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(b, _)| b)
}

/// The characters `[start, end)` of `s` (positions already clamped).
fn chars_between(s: &str, start: usize, end: usize) -> &str {
    let from = byte_at(s, start);
    let rest = &s[from..];
    &rest[..byte_at(rest, end.saturating_sub(start))]
}

/// `s` itself when `part` is all of it, else a new String (invariant 2).
fn keep_or_new(s: &ArcStr, part: &str) -> Value {
    if part.len() == s.len() {
        Value::Str(s.clone())
    } else {
        Value::from(part)
    }
}

/// Character position of the first occurrence of `sub`, or `-1`.
pub(super) fn char_index_of(s: &str, sub: &str) -> i64 {
    s.find(sub).map_or(-1, |b| s[..b].chars().count() as i64)
}

/// Character position of the last occurrence of `sub`, or `-1`.
pub(super) fn char_last_index_of(s: &str, sub: &str) -> i64 {
    s.rfind(sub).map_or(-1, |b| s[..b].chars().count() as i64)
}

/// `slice` on a String: negative positions count from the end.
pub(super) fn char_slice(s: &ArcStr, start: i64, end: Option<i64>) -> Value {
    let (from, to) = slice_bounds(s.chars().count(), start, end);
    keep_or_new(s, chars_between(s, from, to))
}

/// A one-character String.
fn char_value(c: char) -> Value {
    Value::from(&*c.encode_utf8(&mut [0; 4]))
}

/// `reverse` on a String: its characters in reverse order.
pub(super) fn reversed(s: &str) -> Value {
    Value::from(s.chars().rev().collect::<String>())
}

// ---------------------------------------------------------------------------
// Case and trimming

fn upper(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    Ok(Value::from(args::string(&args[0], "upper")?.to_uppercase()))
}

fn lower(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    Ok(Value::from(args::string(&args[0], "lower")?.to_lowercase()))
}

fn trim(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "trim")?;
    Ok(keep_or_new(s, s.trim()))
}

fn trim_start(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "trim_start")?;
    Ok(keep_or_new(s, s.trim_start()))
}

fn trim_end(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "trim_end")?;
    Ok(keep_or_new(s, s.trim_end()))
}

/// Upper-cases the first character; the others stay as they are.
fn capitalize(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "capitalize")?;
    let mut cs = s.chars();
    let out: String = match cs.next() {
        Some(c) => c.to_uppercase().chain(cs).collect(),
        None => String::new(),
    };
    Ok(Value::from(out))
}

/// Upper-cases the first character of every word (after whitespace or at
/// the start); everything else, whitespace included, stays as it is.
fn title(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "title")?;
    let mut out = String::with_capacity(s.len());
    let mut word_start = true;
    for c in s.chars() {
        if word_start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        word_start = c.is_whitespace();
    }
    Ok(Value::from(out))
}

// ---------------------------------------------------------------------------
// Splitting, replacing, searching

/// Pieces between occurrences of `sep`; an empty `sep` gives the characters.
fn split(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "split")?;
    let sep = args::string(&args[1], "split")?;
    let pieces: Vec<Value> = if sep.is_empty() {
        s.chars().map(char_value).collect()
    } else {
        s.split(sep.as_str()).map(Value::from).collect()
    };
    Ok(Value::array(pieces))
}

/// Splits on `\n` and `\r\n`; a final line end adds no empty line.
fn lines(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "lines")?;
    Ok(Value::array(s.lines().map(Value::from).collect()))
}

fn chars(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "chars")?;
    Ok(Value::array(s.chars().map(char_value).collect()))
}

/// The runs of non-whitespace characters.
fn words(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "words")?;
    Ok(Value::array(s.split_whitespace().map(Value::from).collect()))
}

/// Every occurrence of `from` replaced by `to`.
fn replace(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "replace")?;
    let from = args::string(&args[1], "replace")?;
    let to = args::string(&args[2], "replace")?;
    if !from.is_empty() && !s.contains(from.as_str()) {
        return Ok(Value::Str(s.clone()));
    }
    Ok(Value::from(s.replace(from.as_str(), to)))
}

fn starts_with(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "starts_with")?;
    Ok(Value::Bool(s.starts_with(args::string(&args[1], "starts_with")?.as_str())))
}

fn ends_with(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "ends_with")?;
    Ok(Value::Bool(s.ends_with(args::string(&args[1], "ends_with")?.as_str())))
}

/// Non-overlapping occurrences of `sub` (an empty `sub`: characters + 1).
fn count(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "count")?;
    let sub = args::string(&args[1], "count")?;
    let n = if sub.is_empty() { s.chars().count() + 1 } else { s.matches(sub.as_str()).count() };
    Ok(Value::Int(n as i64))
}

// ---------------------------------------------------------------------------
// Positions

/// `substring(s, a[, b])`: characters `[a, b)`, clamped to the String
/// (negative positions count as 0).
fn substring(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "substring")?;
    let start = args::int(&args[1], "substring", "integer positions")?.max(0);
    let end = opt_end(args, 2, "substring")?.map(|e| e.max(0));
    let clamp = |i: i64| usize::try_from(i).unwrap_or(usize::MAX);
    let (from, to) = (clamp(start), end.map_or(usize::MAX, clamp));
    if from >= to {
        return Ok(Value::from(""));
    }
    Ok(keep_or_new(s, chars_between(s, from, to)))
}

/// The character at position `i` as a String (negative `i` counts from
/// the end), or `null` out of range.
fn char_at(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "char_at")?;
    let i = args::int(&args[1], "char_at", "an integer position")?;
    let pos = if i < 0 {
        let len = s.chars().count() as i64;
        usize::try_from(len + i).ok()
    } else {
        usize::try_from(i).ok()
    };
    let c = pos.and_then(|p| s.chars().nth(p));
    Ok(c.map_or(Value::Null, char_value))
}

/// `is_empty()` on a String, Array or Object.
fn is_empty(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let empty = match &args[0] {
        Value::Str(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.fields.is_empty(),
        _ => return Err(requires("is_empty", "a string, array, or object")),
    };
    Ok(Value::Bool(empty))
}

// ---------------------------------------------------------------------------
// Padding and repetition

fn pad_start(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    pad(args, "pad_start", true)
}

fn pad_end(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    pad(args, "pad_end", false)
}

/// Pads to `n` characters with the fill String (default one space), repeated
/// and cut as needed; a String already `n` long or longer is unchanged.
fn pad(args: &[Value], name: &str, at_start: bool) -> EvalResult {
    let s = args::string(&args[0], name)?;
    let n = args::int(&args[1], name, "an integer length")?;
    let fill = match args.get(2) {
        Some(v) => args::string(v, name)?.as_str(),
        None => " ",
    };
    let missing = usize::try_from(n).unwrap_or(0).saturating_sub(s.chars().count());
    if missing == 0 || fill.is_empty() {
        return Ok(Value::Str(s.clone()));
    }
    if missing.saturating_mul(fill.len()) > MAX_BYTES {
        return Err(too_large(name));
    }
    let padding: String = fill.chars().cycle().take(missing).collect();
    let out = if at_start { padding + s.as_str() } else { format!("{s}{padding}") };
    Ok(Value::from(out))
}

/// `s` repeated `n` times.
fn repeat_str(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "repeat_str")?;
    let n = args::int(&args[1], "repeat_str", "an integer count")?;
    let n = usize::try_from(n).map_err(|_| requires("repeat_str", "a non-negative count"))?;
    if s.len().saturating_mul(n) > MAX_BYTES {
        return Err(too_large("repeat_str"));
    }
    Ok(Value::from(s.repeat(n)))
}

fn too_large(name: &str) -> Ctrl {
    Ctrl::runtime(format!("{name}() result too large"))
}

// ---------------------------------------------------------------------------
// Identifier cases

/// Lower-cased letters and digits; every other run of characters becomes
/// one `-`, none at either end: `"Hello World!"` → `hello-world`.
fn slugify(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "slugify")?;
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('-');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    Ok(Value::from(out))
}

/// `helloWorld`, `MyComponent`, `some string` → `hello_world`, … .
fn snake_case(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "snake_case")?;
    let words: Vec<String> = ident_words(s).iter().map(|w| w.to_lowercase()).collect();
    Ok(Value::from(words.join("_")))
}

/// `hello_world`, `some string` → `helloWorld`, `someString`.
fn camel_case(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "camel_case")?;
    let mut out = String::with_capacity(s.len());
    for (i, word) in ident_words(s).iter().enumerate() {
        let lower = word.to_lowercase();
        if i == 0 {
            out.push_str(&lower);
        } else {
            let mut cs = lower.chars();
            out.extend(cs.next().into_iter().flat_map(char::to_uppercase));
            out.push_str(cs.as_str());
        }
    }
    Ok(Value::from(out))
}

/// The words of a phrase or identifier: runs of letters and digits, also
/// cut where an upper-case letter follows a lower-case letter or digit
/// (`helloWorld`) and before the last capital of an acronym (`APIKey`).
fn ident_words(s: &str) -> Vec<&str> {
    let cs: Vec<(usize, char)> = s.char_indices().collect();
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    for (k, &(b, c)) in cs.iter().enumerate() {
        if !c.is_alphanumeric() {
            if let Some(st) = start.take() {
                words.push(&s[st..b]);
            }
            continue;
        }
        let prev = k.checked_sub(1).and_then(|p| cs.get(p)).map(|&(_, p)| p);
        let next_lower = cs.get(k + 1).is_some_and(|&(_, n)| n.is_lowercase());
        let cut = c.is_uppercase()
            && prev.is_some_and(|p| p.is_lowercase() || p.is_numeric() || (p.is_uppercase() && next_lower));
        match start {
            Some(st) if cut => {
                words.push(&s[st..b]);
                start = Some(b);
            }
            Some(_) => {}
            None => start = Some(b),
        }
    }
    if let Some(st) = start {
        words.push(&s[st..]);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{call, show};

    fn run(name: &str, args: Vec<Value>) -> String {
        show(call(name, args))
    }

    /// Calls a String built-in with String arguments.
    fn s(name: &str, args: &[&str]) -> String {
        run(name, args.iter().map(|&a| Value::from(a)).collect())
    }

    /// Calls a methods-only built-in (not reachable through `call`).
    fn method(name: &str, args: Vec<Value>) -> String {
        let native = crate::builtins::registry().method(name).expect("method");
        let mut args = args;
        show(native.call(&mut crate::builtins::testing::TestCx::default(), &mut args))
    }

    #[test]
    fn case_and_trim() {
        assert_eq!(s("upper", &["héllo wörld"]), "HÉLLO WÖRLD");
        assert_eq!(s("lower", &["ÀÉÎÕÜ"]), "àéîõü");
        assert_eq!(s("trim", &["\t tabs and spaces \t"]), "tabs and spaces");
        assert_eq!(s("trim", &[""]), "");
        assert_eq!(method("trim_start", vec!["  x  ".into()]), "x  ");
        assert_eq!(method("trim_end", vec!["  x  ".into()]), "  x");
        assert_eq!(run("upper", vec![Value::Int(1)]), "error: upper() requires a string");
    }

    #[test]
    fn capitalize_and_title_touch_only_first_letters() {
        assert_eq!(s("capitalize", &["hello"]), "Hello");
        assert_eq!(s("capitalize", &["HELLO"]), "HELLO");
        assert_eq!(s("capitalize", &["hELLO wORLD"]), "HELLO wORLD");
        assert_eq!(s("capitalize", &[""]), "");
        assert_eq!(s("title", &["the quick brown fox"]), "The Quick Brown Fox");
        assert_eq!(s("title", &["already Title Case"]), "Already Title Case");
        assert_eq!(s("title", &["élan vital"]), "Élan Vital");
        assert_eq!(s("title", &["  two  spaces"]), "  Two  Spaces");
    }

    #[test]
    fn split_lines_chars_words() {
        assert_eq!(s("split", &["a,b,c", ","]), r#"["a", "b", "c"]"#);
        assert_eq!(s("split", &["a,,b", ","]), r#"["a", "", "b"]"#);
        assert_eq!(s("split", &["a::b::c", "::"]), r#"["a", "b", "c"]"#);
        assert_eq!(s("split", &["", ","]), r#"[""]"#);
        assert_eq!(s("split", &["héllo", ""]), r#"["h", "é", "l", "l", "o"]"#);
        assert_eq!(s("split", &["日本,中国", ","]), r#"["日本", "中国"]"#);
        assert_eq!(run("split", vec!["a".into(), Value::Int(1)]), "error: split() requires a string");
        assert_eq!(s("lines", &["first\nsecond\r\nthird\n"]), r#"["first", "second", "third"]"#);
        assert_eq!(s("lines", &["only"]), r#"["only"]"#);
        assert_eq!(method("chars", vec!["añb".into()]), r#"["a", "ñ", "b"]"#);
        assert_eq!(method("words", vec!["  one two\tthree ".into()]), r#"["one", "two", "three"]"#);
    }

    #[test]
    fn replace_and_search() {
        assert_eq!(s("replace", &["hello world", "world", "Forge"]), "hello Forge");
        assert_eq!(s("replace", &["aaa", "a", "bb"]), "bbbbbb");
        assert_eq!(s("replace", &["banana", "an", "AN"]), "bANANa");
        assert_eq!(s("replace", &["a.b.c", ".", ""]), "abc");
        assert_eq!(s("replace", &["straße", "ß", "ss"]), "strasse");
        assert_eq!(s("starts_with", &["🚀 launch", "🚀"]), "true");
        assert_eq!(s("ends_with", &["the mat", "the"]), "false");
        assert_eq!(s("count", &["the cat sat on the mat", "at"]), "3");
        assert_eq!(s("count", &["aaaa", "aa"]), "2");
        assert_eq!(s("count", &["abc", "q"]), "0");
        assert_eq!(s("count", &["abc", ""]), "4");
        assert_eq!(s("index_of", &["the cat sat on the mat", "the"]), "0");
        assert_eq!(s("last_index_of", &["the cat sat on the mat", "the"]), "15");
        assert_eq!(s("last_index_of", &["héé", "é"]), "2");
        assert_eq!(s("index_of", &["abc", "xyz"]), "-1");
    }

    #[test]
    fn substring_counts_characters() {
        let hw = Value::from("hello world");
        assert_eq!(run("substring", vec![hw.clone(), Value::Int(0), Value::Int(5)]), "hello");
        assert_eq!(run("substring", vec![hw.clone(), Value::Int(6)]), "world");
        assert_eq!(run("substring", vec![hw.clone(), Value::Int(3), Value::Int(3)]), "");
        assert_eq!(run("substring", vec![hw.clone(), Value::Int(8), Value::Int(3)]), "");
        assert_eq!(run("substring", vec![hw.clone(), Value::Int(6), Value::Int(99)]), "world");
        assert_eq!(run("substring", vec![hw.clone(), Value::Int(-5), Value::Int(2)]), "he");
        assert_eq!(run("substring", vec![hw, Value::Int(99)]), "");
        assert_eq!(run("substring", vec!["日本語テキスト".into(), Value::Int(2), Value::Int(4)]), "語テ");
        assert_eq!(
            run("substring", vec!["x".into(), Value::Float(1.0)]),
            "error: substring() requires integer positions"
        );
    }

    #[test]
    fn char_at_and_is_empty() {
        assert_eq!(method("char_at", vec!["héllo".into(), Value::Int(1)]), "é");
        assert_eq!(method("char_at", vec!["héllo".into(), Value::Int(-1)]), "o");
        assert_eq!(method("char_at", vec!["héllo".into(), Value::Int(5)]), "null");
        assert_eq!(method("char_at", vec!["héllo".into(), Value::Int(-6)]), "null");
        assert_eq!(method("is_empty", vec!["".into()]), "true");
        assert_eq!(method("is_empty", vec![Value::array(vec![Value::Null])]), "false");
    }

    #[test]
    fn padding_and_repetition() {
        assert_eq!(run("pad_start", vec!["42".into(), Value::Int(5), "0".into()]), "00042");
        assert_eq!(run("pad_start", vec!["hi".into(), Value::Int(6)]), "    hi");
        assert_eq!(run("pad_start", vec!["toolong".into(), Value::Int(3), "*".into()]), "toolong");
        assert_eq!(run("pad_start", vec!["é".into(), Value::Int(3), "*".into()]), "**é");
        assert_eq!(run("pad_start", vec!["x".into(), Value::Int(6), "ab".into()]), "ababax");
        assert_eq!(run("pad_end", vec!["hi".into(), Value::Int(6), ".".into()]), "hi....");
        assert_eq!(run("pad_end", vec!["".into(), Value::Int(3), "-".into()]), "---");
        assert_eq!(run("pad_end", vec!["x".into(), Value::Int(-3)]), "x");
        assert_eq!(run("pad_end", vec!["x".into(), Value::Int(i64::MAX)]), "error: pad_end() result too large");
        assert_eq!(run("repeat_str", vec!["ab".into(), Value::Int(3)]), "ababab");
        assert_eq!(run("repeat_str", vec!["x".into(), Value::Int(0)]), "");
        assert_eq!(
            run("repeat_str", vec!["x".into(), Value::Int(-1)]),
            "error: repeat_str() requires a non-negative count"
        );
        assert_eq!(run("repeat_str", vec!["xy".into(), Value::Int(i64::MAX)]), "error: repeat_str() result too large");
    }

    #[test]
    fn identifier_cases() {
        assert_eq!(s("slugify", &["Hello World!"]), "hello-world");
        assert_eq!(s("slugify", &["The Quick Brown Fox"]), "the-quick-brown-fox");
        assert_eq!(s("slugify", &["  Already-slugged  "]), "already-slugged");
        assert_eq!(s("slugify", &["Crème  Brûlée__2"]), "crème-brûlée-2");
        assert_eq!(s("snake_case", &["helloWorld"]), "hello_world");
        assert_eq!(s("snake_case", &["MyComponent"]), "my_component");
        assert_eq!(s("snake_case", &["some string"]), "some_string");
        assert_eq!(s("snake_case", &["snake me"]), "snake_me");
        assert_eq!(s("snake_case", &["APIKey version2Beta"]), "api_key_version2_beta");
        assert_eq!(s("snake_case", &["already_snake"]), "already_snake");
        assert_eq!(s("camel_case", &["hello_world"]), "helloWorld");
        assert_eq!(s("camel_case", &["some string"]), "someString");
        assert_eq!(s("camel_case", &["HelloWorld"]), "helloWorld");
        assert_eq!(s("camel_case", &["XML-http request"]), "xmlHttpRequest");
        assert_eq!(s("camel_case", &[""]), "");
    }
}
