//! The `fs` module (FORGE.md §10): files, directories and path strings.
//! Paths are relative to the current directory; failures carry the OS
//! text (`fs.read error: No such file or directory (os error 2)`).
//!
//! Everything that touches the file system runs on the scheduler's blocking
//! pool (`builtins/offload.rs`), never on a worker: the job gets plain data
//! (paths, text) and gives back plain data or an `io::Error`, turned into
//! values and messages here, on the task. Pure path-string functions
//! (`ext`, `basename`, `dirname`, `join_path`, `temp_dir`) run inline.

use std::io::Write;
use std::path::Path;

use arcstr::ArcStr;

use crate::builtins::args;
use crate::builtins::offload::{self, FILE_IO};
use crate::builtins::{Builder, NativeCx};
use crate::error::{Ctrl, EvalResult};
use crate::value::Value;

pub fn register(b: &mut Builder) {
    b.module("fs", |m| {
        m.func("read", 1, 1, read);
        m.func("write", 2, 2, write);
        m.func("append", 2, 2, append);
        m.func("exists", 1, 1, exists);
        m.func("is_file", 1, 1, is_file);
        m.func("is_dir", 1, 1, is_dir);
        m.func("list", 1, 1, list);
        m.func("remove", 1, 1, remove);
        m.func("mkdir", 1, 1, mkdir);
        m.func("copy", 2, 2, copy);
        m.func("rename", 2, 2, rename);
        m.func("size", 1, 1, size);
        m.func("lines", 1, 1, lines);
        m.func("read_json", 1, 1, read_json);
        m.func("write_json", 2, 2, write_json);
        m.func("ext", 1, 1, ext);
        m.func("basename", 1, 1, basename);
        m.func("dirname", 1, 1, dirname);
        m.func("join_path", 2, 2, join_path);
        m.func("temp_dir", 0, 0, temp_dir);
    });
}

/// `fs.NAME error: OS TEXT`.
fn io_error(name: &str, e: std::io::Error) -> Ctrl {
    Ctrl::runtime(format!("fs.{name} error: {e}"))
}

/// The String argument `i` of `fs.NAME`.
fn path_arg<'a>(args: &'a [Value], i: usize, name: &str) -> Result<&'a ArcStr, Ctrl> {
    match &args[i] {
        Value::Str(s) => Ok(s),
        _ => Err(args::requires(&format!("fs.{name}"), "a string")),
    }
}

/// Runs `op` on the blocking pool; its error names `fs.NAME`.
fn on_pool<T: Send + 'static>(
    cx: &mut dyn NativeCx,
    name: &str,
    op: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, Ctrl> {
    offload::run(cx, FILE_IO, || Ok(op))?.map_err(|e| io_error(name, e))
}

/// Reads a whole UTF-8 file on the blocking pool; the error names `fs.NAME`.
pub(crate) fn read_text(cx: &mut dyn NativeCx, path: &ArcStr, name: &str) -> Result<String, Ctrl> {
    let path = path.clone();
    on_pool(cx, name, move || std::fs::read_to_string(path.as_str()))
}

fn read(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    read_text(cx, path_arg(args, 0, "read")?, "read").map(Value::from)
}

fn write(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (path, text) = (path_arg(args, 0, "write")?.clone(), path_arg(args, 1, "write")?.clone());
    on_pool(cx, "write", move || std::fs::write(path.as_str(), text.as_bytes()))?;
    Ok(Value::Null)
}

fn append(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (path, text) = (path_arg(args, 0, "append")?.clone(), path_arg(args, 1, "append")?.clone());
    on_pool(cx, "append", move || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path.as_str())
            .and_then(|mut f| f.write_all(text.as_bytes()))
    })?;
    Ok(Value::Null)
}

/// A question about a path (`exists`, `is_file`, `is_dir`), asked on the
/// blocking pool: a `stat` may block as long as any other file operation.
fn ask(cx: &mut dyn NativeCx, args: &[Value], name: &str, question: fn(&Path) -> bool) -> EvalResult {
    let path = path_arg(args, 0, name)?.clone();
    let answer = offload::run(cx, FILE_IO, || Ok(move || question(Path::new(path.as_str()))))?;
    Ok(Value::Bool(answer))
}

fn exists(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    ask(cx, args, "exists", Path::exists)
}

fn is_file(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    ask(cx, args, "is_file", Path::is_file)
}

fn is_dir(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    ask(cx, args, "is_dir", Path::is_dir)
}

fn list(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let dir = path_arg(args, 0, "list")?.clone();
    let names = on_pool(cx, "list", move || {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir.as_str())? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    })?;
    Ok(Value::array(names.into_iter().map(Value::from).collect()))
}

/// Removes a file, a symbolic link or a whole directory tree.
fn remove(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let path = path_arg(args, 0, "remove")?.clone();
    on_pool(cx, "remove", move || {
        let path = path.as_str();
        let meta = std::fs::symlink_metadata(path)?;
        if meta.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        }
    })?;
    Ok(Value::Null)
}

fn mkdir(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let path = path_arg(args, 0, "mkdir")?.clone();
    on_pool(cx, "mkdir", move || std::fs::create_dir_all(path.as_str()))?;
    Ok(Value::Null)
}

fn copy(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (from, to) = (path_arg(args, 0, "copy")?.clone(), path_arg(args, 1, "copy")?.clone());
    let bytes = on_pool(cx, "copy", move || std::fs::copy(from.as_str(), to.as_str()))?;
    Ok(Value::Int(i64::try_from(bytes).unwrap_or(i64::MAX)))
}

fn rename(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (from, to) = (path_arg(args, 0, "rename")?.clone(), path_arg(args, 1, "rename")?.clone());
    on_pool(cx, "rename", move || std::fs::rename(from.as_str(), to.as_str()))?;
    Ok(Value::Null)
}

fn size(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let path = path_arg(args, 0, "size")?.clone();
    let len = on_pool(cx, "size", move || std::fs::metadata(path.as_str()).map(|m| m.len()))?;
    Ok(Value::Int(i64::try_from(len).unwrap_or(i64::MAX)))
}

/// The file's lines, without their `\n` / `\r\n` ends.
fn lines(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let text = read_text(cx, path_arg(args, 0, "lines")?, "lines")?;
    Ok(Value::array(text.lines().map(Value::from).collect()))
}

fn read_json(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let path = path_arg(args, 0, "read_json")?;
    let text = read_text(cx, path, "read_json")?;
    super::json::from_json_str(&text).map_err(|e| Ctrl::runtime(format!("JSON parse error: {e} (in {path})")))
}

/// Writes `v` as pretty JSON (2 spaces, no trailing newline). The text is
/// made on the task, once (not again when the VM restarts the call).
fn write_json(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let path = path_arg(args, 0, "write_json")?.clone();
    let value = &args[1];
    let written = offload::run(cx, FILE_IO, || {
        let text = super::json::pretty_checked(value, 2, "fs.write_json")?;
        Ok(move || std::fs::write(path.as_str(), text))
    })?;
    written.map_err(|e| io_error("write_json", e))?;
    Ok(Value::Null)
}

fn os_str(s: Option<&std::ffi::OsStr>) -> Value {
    Value::from(s.map(|s| s.to_string_lossy().into_owned()).unwrap_or_default())
}

/// The last extension without the dot: `gz` for `archive.tar.gz`, `""`
/// for `Makefile` or `.bashrc`.
fn ext(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    Ok(os_str(Path::new(path_arg(args, 0, "ext")?.as_str()).extension()))
}

fn basename(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    Ok(os_str(Path::new(path_arg(args, 0, "basename")?.as_str()).file_name()))
}

/// The parent path (`/home/user` for `/home/user/file.txt`; `""` for a bare
/// name).
fn dirname(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let parent = Path::new(path_arg(args, 0, "dirname")?.as_str()).parent();
    Ok(os_str(parent.map(Path::as_os_str)))
}

fn join_path(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (a, b) = (path_arg(args, 0, "join_path")?, path_arg(args, 1, "join_path")?);
    Ok(Value::from(Path::new(a.as_str()).join(b.as_str()).to_string_lossy().into_owned()))
}

fn temp_dir(_cx: &mut dyn NativeCx, _args: &mut [Value]) -> EvalResult {
    Ok(Value::from(std::env::temp_dir().to_string_lossy().into_owned()))
}

#[cfg(test)]
mod tests {
    use crate::builtins::testing::{call_module, show};
    use crate::value::Value;

    fn f(name: &str, args: &[&str]) -> String {
        show(call_module("fs", name, args.iter().map(|a| Value::from(*a)).collect()))
    }

    /// A fresh directory under the system temp dir, unique to this test.
    fn scratch(tag: &str) -> String {
        let dir = std::env::temp_dir().join(format!("forge-fs-test-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.to_string_lossy().into_owned()
    }

    #[test]
    fn files_round_trip() {
        let dir = scratch("files");
        assert_eq!(f("mkdir", &[&format!("{dir}/sub/deeper")]), "null");
        assert_eq!(f("is_dir", &[&format!("{dir}/sub/deeper")]), "true");
        let file = format!("{dir}/a.txt");
        assert_eq!(f("exists", &[&file]), "false");
        assert_eq!(f("write", &[&file, "line1\nline2\n"]), "null");
        assert_eq!(f("append", &[&file, "line3"]), "null");
        assert_eq!(f("read", &[&file]), "line1\nline2\nline3");
        assert_eq!(f("lines", &[&file]), r#"["line1", "line2", "line3"]"#);
        assert_eq!(f("size", &[&file]), "17");
        assert_eq!(f("is_file", &[&file]), "true");
        assert_eq!(f("is_dir", &[&file]), "false");
        let copy = format!("{dir}/b.md");
        assert_eq!(f("copy", &[&file, &copy]), "17");
        let moved = format!("{dir}/c.txt");
        assert_eq!(f("rename", &[&copy, &moved]), "null");
        assert_eq!(f("exists", &[&copy]), "false");
        assert_eq!(f("list", &[&dir]), r#"["a.txt", "c.txt", "sub"]"#);
        assert_eq!(f("remove", &[&file]), "null");
        assert_eq!(f("remove", &[&dir]), "null");
        assert_eq!(f("exists", &[&dir]), "false");
    }

    #[test]
    fn errors_carry_os_text() {
        let dir = scratch("errors");
        let missing = format!("{dir}/missing.txt");
        assert_eq!(f("read", &[&missing]), "error: fs.read error: No such file or directory (os error 2)");
        assert_eq!(f("remove", &[&missing]), "error: fs.remove error: No such file or directory (os error 2)");
        assert_eq!(f("size", &[&missing]), "error: fs.size error: No such file or directory (os error 2)");
        assert!(f("list", &[&missing]).starts_with("error: fs.list error: "));
        assert_eq!(show(call_module("fs", "read", vec![Value::Int(1)])), "error: fs.read() requires a string");
        assert_eq!(
            show(call_module("fs", "write", vec!["x".into(), Value::Int(1)])),
            "error: fs.write() requires a string"
        );
    }

    #[test]
    fn json_files() {
        let dir = scratch("json");
        f("mkdir", &[&dir]);
        let file = format!("{dir}/d.json");
        let v = crate::stdlib::json::from_json_str(r#"{"name": "forge", "list": [1, 2]}"#).unwrap();
        assert_eq!(show(call_module("fs", "write_json", vec![file.clone().into(), v])), "null");
        assert_eq!(f("read", &[&file]), "{\n  \"name\": \"forge\",\n  \"list\": [\n    1,\n    2\n  ]\n}");
        assert_eq!(f("read_json", &[&file]), r#"{ "name": "forge", "list": [1, 2] }"#);
        f("write", &[&file, "{oops"]);
        assert!(
            f("read_json", &[&file]).starts_with("error: JSON parse error: key must be a string at line 1 column 2")
        );
        f("remove", &[&dir]);
    }

    #[test]
    fn path_strings() {
        assert_eq!(f("basename", &["/home/user/file.txt"]), "file.txt");
        assert_eq!(f("dirname", &["/home/user/file.txt"]), "/home/user");
        assert_eq!(f("dirname", &["file.txt"]), "");
        assert_eq!(f("join_path", &["/home", "user"]), "/home/user");
        assert_eq!(f("ext", &["photo.png"]), "png");
        assert_eq!(f("ext", &["Makefile"]), "");
        assert_eq!(f("ext", &["archive.tar.gz"]), "gz");
        assert_eq!(f("ext", &[".bashrc"]), "");
        assert!(!f("temp_dir", &[]).is_empty());
    }
}
