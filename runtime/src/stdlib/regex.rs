//! The `regex` module (FORGE.md §10): `test`, `find`, `find_all`,
//! `replace`, `split` with Rust `regex` syntax. Compiled patterns are kept
//! in a small bounded cache, since programs call these in loops.

use std::collections::HashMap;
use std::sync::OnceLock;

use ::regex::Regex;
use parking_lot::Mutex;

use crate::builtins::args;
use crate::builtins::{Builder, NativeCx};
use crate::error::{Ctrl, EvalResult};
use crate::value::Value;

/// How many compiled patterns the cache holds before it starts over.
const CACHE_SIZE: usize = 64;

pub fn register(b: &mut Builder) {
    b.module("regex", |m| {
        m.func("test", 2, 2, test);
        m.func("find", 2, 2, find);
        m.func("find_all", 2, 2, find_all);
        m.func("replace", 3, 3, replace);
        m.func("split", 2, 2, split);
    });
}

/// `invalid regex: WHAT in pattern 'P'` on one line (the `regex` crate's
/// own message spans several lines, with the reason on the last).
fn invalid(pattern: &str, e: &::regex::Error) -> Ctrl {
    let text = e.to_string();
    let reason = match e {
        ::regex::Error::Syntax(_) => text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("error: "))
            .map_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "), str::to_owned),
        _ => text.split_whitespace().collect::<Vec<_>>().join(" "),
    };
    Ctrl::runtime(format!("invalid regex: {reason} in pattern '{pattern}'"))
}

/// The compiled form of `pattern`, from the cache when possible.
pub fn compile(pattern: &str) -> Result<Regex, Ctrl> {
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(re) = cache.lock().get(pattern) {
        return Ok(re.clone());
    }
    // Compile outside the lock: a large pattern may take a while.
    let re = Regex::new(pattern).map_err(|e| invalid(pattern, &e))?;
    let mut cache = cache.lock();
    if cache.len() >= CACHE_SIZE {
        cache.clear();
    }
    cache.insert(pattern.to_owned(), re.clone());
    Ok(re)
}

/// The subject String and the compiled pattern of `regex.NAME(s, p, …)`.
fn subject_and_pattern<'a>(args: &'a [Value], func: &str) -> Result<(&'a str, Regex), Ctrl> {
    let s = args::string(&args[0], func)?;
    let p = args::string(&args[1], func)?;
    Ok((s.as_str(), compile(p)?))
}

fn test(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (s, re) = subject_and_pattern(args, "regex.test")?;
    Ok(Value::Bool(re.is_match(s)))
}

fn find(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (s, re) = subject_and_pattern(args, "regex.find")?;
    Ok(re.find(s).map_or(Value::Null, |m| Value::from(m.as_str())))
}

fn find_all(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (s, re) = subject_and_pattern(args, "regex.find_all")?;
    Ok(Value::array(re.find_iter(s).map(|m| Value::from(m.as_str())).collect()))
}

/// Replaces every match; `$1`, `${name}` in the replacement refer to groups.
fn replace(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (s, re) = subject_and_pattern(args, "regex.replace")?;
    let with = args::string(&args[2], "regex.replace")?;
    Ok(Value::from(re.replace_all(s, with.as_str()).into_owned()))
}

fn split(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (s, re) = subject_and_pattern(args, "regex.split")?;
    Ok(Value::array(re.split(s).map(Value::from).collect()))
}

#[cfg(test)]
mod tests {
    use crate::builtins::testing::{call_module, show};
    use crate::value::Value;

    fn r(name: &str, args: &[&str]) -> String {
        show(call_module("regex", name, args.iter().map(|a| Value::from(*a)).collect()))
    }

    #[test]
    fn matching() {
        assert_eq!(r("test", &["hello world", "world"]), "true");
        assert_eq!(r("test", &["hello world", "^world"]), "false");
        assert_eq!(r("test", &["", "^$"]), "true");
        assert_eq!(r("test", &["CaseSensitive", "(?i)casesensitive"]), "true");
        assert_eq!(r("find", &["order-4521-confirmed", r"\d+"]), "4521");
        assert_eq!(r("find", &["no numbers here", r"\d+"]), "null");
        assert_eq!(r("find_all", &["call 555-1234 or 555-5678", r"\d{3}-\d{4}"]), r#"["555-1234", "555-5678"]"#);
        assert_eq!(r("find_all", &["xyz", "q"]), "[]");
        assert_eq!(r("find_all", &["Ünïcödé wörds", r"\w+"]), r#"["Ünïcödé", "wörds"]"#);
    }

    #[test]
    fn replacing_and_splitting() {
        assert_eq!(r("replace", &["2024-01-15", r"(\d{4})-(\d{2})-(\d{2})", "$2/$3/$1"]), "01/15/2024");
        assert_eq!(r("replace", &["john smith", r"(\w+) (\w+)", "$2 $1"]), "smith john");
        assert_eq!(r("replace", &["a1b22c333", r"\d+", "#"]), "a#b#c#");
        assert_eq!(r("replace", &["unchanged", "zzz", "y"]), "unchanged");
        assert_eq!(r("split", &["one,,two,,,three", ",+"]), r#"["one", "two", "three"]"#);
        assert_eq!(r("split", &["hello   world  foo", r"\s+"]), r#"["hello", "world", "foo"]"#);
    }

    #[test]
    fn errors() {
        assert_eq!(r("test", &["x", "("]), "error: invalid regex: unclosed group in pattern '('");
        assert!(r("find", &["x", "a{99999999}"]).starts_with("error: invalid regex: "));
        assert!(!r("find", &["x", "a{99999999}"]).contains('\n'));
        assert_eq!(
            show(call_module("regex", "test", vec![Value::Int(1), "x".into()])),
            "error: regex.test() requires a string"
        );
        // The cache stays bounded and keeps working past its size.
        for i in 0..200 {
            assert_eq!(r("test", &[&format!("n{i}"), &format!("^n{i}$")]), "true");
        }
    }
}
