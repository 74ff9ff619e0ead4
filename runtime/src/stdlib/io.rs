//! The `io`, `env` and `log` modules (FORGE.md §10): reading stdin lines
//! (shared with the core `input()` builtin; the read runs on the
//! scheduler's blocking pool, never on a worker), the program's arguments, the
//! process environment seen through a write overlay, and levelled log
//! lines on stderr.
//!
//! `env.set` never calls `std::env::set_var`: other threads may read the
//! environment at the same time, which is undefined behaviour in libc.
//! Instead it writes a process-wide overlay that `env.get`, `env.has`,
//! `env.keys` (and the `FORGE_DEBUG` check of `log.debug`) consult before
//! the real environment.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::OnceLock;

use parking_lot::Mutex;

use crate::builtins::args;
use crate::builtins::offload;
use crate::builtins::{Builder, NativeCx};
use crate::error::{Ctrl, EvalResult};
use crate::value::display::write_display;
use crate::value::Value;

pub fn register(b: &mut Builder) {
    b.module("io", |m| {
        m.func("prompt", 0, 1, prompt);
        m.func("print", 0, usize::MAX, print);
        m.func("args", 0, 0, program_args);
    });
    b.module("env", |m| {
        m.func("get", 1, 2, env_get);
        m.func("set", 2, 2, env_set);
        m.func("has", 1, 1, env_has);
        m.func("keys", 0, 0, env_keys);
    });
    b.module("log", |m| {
        m.func("info", 0, usize::MAX, log_info);
        m.func("warn", 0, usize::MAX, log_warn);
        m.func("error", 0, usize::MAX, log_error);
        m.func("debug", 0, usize::MAX, log_debug);
    });
}

// ---------------------------------------------------------------------------
// io

/// `input([prompt])` / `io.prompt([text])`: writes `prompt` (no newline),
/// flushes stdout, reads one line from stdin and returns it without its
/// `\n` / `\r\n`; `""` at end of input (or on a read error). Bytes that are
/// not UTF-8 are replaced by U+FFFD. The prompt is written on the task, once
/// (not again when the VM restarts the call); the read runs on the blocking
/// pool while the task waits on `stdin`.
pub fn read_line(cx: &mut dyn NativeCx, prompt: Option<&str>) -> Result<String, Ctrl> {
    offload::run(cx, offload::STDIN, || {
        if let Some(p) = prompt {
            crate::output::write(p);
        }
        crate::output::flush();
        Ok(read_stdin_line)
    })
}

/// One line of stdin, as `read_line` returns it (blocks the thread).
fn read_stdin_line() -> String {
    let mut buf = Vec::new();
    if std::io::stdin().lock().read_until(b'\n', &mut buf).is_err() {
        return String::new();
    }
    strip_line_end(String::from_utf8_lossy(&buf).into_owned())
}

fn strip_line_end(mut line: String) -> String {
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    line
}

fn prompt(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let text = args.first().map(crate::value::display::display);
    Ok(Value::from(read_line(cx, text.as_deref())?))
}

fn print(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    crate::builtins::core::print_values(args, false);
    Ok(Value::Null)
}

fn program_args(cx: &mut dyn NativeCx, _args: &mut [Value]) -> EvalResult {
    Ok(Value::array(cx.program_args().into_iter().map(Value::from).collect()))
}

// ---------------------------------------------------------------------------
// env

/// Variables set by the program: `Some(value)`, or `None` for removed.
fn overlay() -> &'static Mutex<HashMap<String, Option<String>>> {
    static OVERLAY: OnceLock<Mutex<HashMap<String, Option<String>>>> = OnceLock::new();
    OVERLAY.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Whether `key` can name an environment variable.
fn valid_key(key: &str) -> bool {
    !key.is_empty() && !key.contains(['=', '\0'])
}

/// The value of environment variable `key` as the program sees it: what
/// `env.set` stored, else the process environment (non-UTF-8 bytes are
/// replaced by U+FFFD).
pub fn env_var(key: &str) -> Option<String> {
    if let Some(v) = overlay().lock().get(key) {
        return v.clone();
    }
    if !valid_key(key) {
        return None;
    }
    std::env::var_os(key).map(|v| v.to_string_lossy().into_owned())
}

/// Sets `key` for the rest of the program (overlay only, see module docs).
pub fn set_env_var(key: &str, value: &str) {
    overlay().lock().insert(key.to_owned(), Some(value.to_owned()));
}

/// Every variable name the program sees, sorted.
pub fn env_var_names() -> Vec<String> {
    let mut names: Vec<String> = std::env::vars_os().map(|(k, _)| k.to_string_lossy().into_owned()).collect();
    {
        let overlay = overlay().lock();
        names.retain(|k| !matches!(overlay.get(k), Some(None)));
        names.extend(overlay.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k.clone()));
    }
    names.sort();
    names.dedup();
    names
}

fn env_get(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let key = args::string(&args[0], "env.get")?;
    match env_var(key) {
        Some(v) => Ok(Value::from(v)),
        None => Ok(args.get(1).cloned().unwrap_or(Value::Null)),
    }
}

fn env_set(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let key = args::string(&args[0], "env.set")?;
    let value = args::string(&args[1], "env.set")?;
    if !valid_key(key) {
        return Err(Ctrl::runtime(format!("env.set() invalid variable name '{key}'")));
    }
    if value.contains('\0') {
        return Err(Ctrl::runtime("env.set() value contains a NUL character"));
    }
    set_env_var(key, value);
    Ok(Value::Null)
}

fn env_has(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let key = args::string(&args[0], "env.has")?;
    Ok(Value::Bool(env_var(key).is_some()))
}

fn env_keys(_cx: &mut dyn NativeCx, _args: &mut [Value]) -> EvalResult {
    Ok(Value::array(env_var_names().into_iter().map(Value::from).collect()))
}

// ---------------------------------------------------------------------------
// log

/// `TIMESTAMP LEVEL MESSAGE\n`, e.g. `2026-11-25T22:01:05Z INFO  ready 3`.
fn log_line(timestamp: &str, level: &str, args: &[Value]) -> String {
    let mut line = format!("{timestamp} {level:<5}");
    for a in args {
        line.push(' ');
        write_display(&mut line, a);
    }
    line.push('\n');
    line
}

fn debug_enabled() -> bool {
    env_var("FORGE_DEBUG").is_some_and(|v| !v.is_empty() && v != "0")
}

fn log_at(level: &str, args: &[Value]) -> EvalResult {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let line = log_line(&now, level, args);
    // One write per line so concurrent tasks do not interleave; a closed
    // stderr is not worth failing the program for.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    Ok(Value::Null)
}

fn log_info(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    log_at("INFO", args)
}

fn log_warn(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    log_at("WARN", args)
}

fn log_error(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    log_at("ERROR", args)
}

fn log_debug(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    if debug_enabled() {
        log_at("DEBUG", args)
    } else {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{call_module, show};

    #[test]
    fn line_ends_are_stripped() {
        assert_eq!(strip_line_end("abc\n".into()), "abc");
        assert_eq!(strip_line_end("abc\r\n".into()), "abc");
        assert_eq!(strip_line_end("abc".into()), "abc");
        assert_eq!(strip_line_end("a\rb\r".into()), "a\rb\r");
        assert_eq!(strip_line_end(String::new()), "");
    }

    #[test]
    fn args_come_from_the_context() {
        assert_eq!(show(call_module("io", "args", vec![])), "[]");
    }

    #[test]
    fn env_overlay() {
        let e = |name: &str, args: Vec<Value>| show(call_module("env", name, args));
        let key = "FORGE_STDLIB_TEST_ENV_OVERLAY";
        assert_eq!(e("get", vec![key.into()]), "null");
        assert_eq!(e("get", vec![key.into(), "fallback".into()]), "fallback");
        assert_eq!(e("has", vec![key.into()]), "false");
        assert_eq!(e("set", vec![key.into(), "value-1".into()]), "null");
        assert_eq!(e("get", vec![key.into(), "unused".into()]), "value-1");
        assert_eq!(e("has", vec![key.into()]), "true");
        let Ok(Value::Array(keys)) = call_module("env", "keys", vec![]) else { panic!() };
        assert!(keys.iter().any(|k| k.as_str() == Some(key)));
        e("set", vec![key.into(), "value-2".into()]);
        assert_eq!(e("get", vec![key.into()]), "value-2");
        // The real environment is visible and was not modified.
        assert!(std::env::var_os(key).is_none());
        assert_eq!(e("has", vec!["PATH".into()]), std::env::var_os("PATH").is_some().to_string());
        assert_eq!(e("set", vec!["A=B".into(), "x".into()]), "error: env.set() invalid variable name 'A=B'");
        assert_eq!(e("set", vec!["".into(), "x".into()]), "error: env.set() invalid variable name ''");
        assert_eq!(e("set", vec![key.into(), Value::Int(1)]), "error: env.set() requires a string");
        assert_eq!(e("get", vec!["A=B".into()]), "null");
        assert_eq!(e("get", vec!["A\0B".into()]), "null");
    }

    #[test]
    fn log_lines() {
        let args = vec![Value::from("ready"), Value::Int(3), Value::array(vec!["a".into()])];
        assert_eq!(log_line("2026-11-25T22:01:05Z", "INFO", &args), "2026-11-25T22:01:05Z INFO  ready 3 [\"a\"]\n");
        assert_eq!(log_line("T", "ERROR", &[]), "T ERROR\n");
        assert_eq!(show(call_module("log", "info", vec!["from the stdlib tests".into()])), "null");
        set_env_var("FORGE_DEBUG", "0");
        assert!(!debug_enabled());
        set_env_var("FORGE_DEBUG", "");
        assert!(!debug_enabled());
        set_env_var("FORGE_DEBUG", "1");
        assert!(debug_enabled());
    }
}
