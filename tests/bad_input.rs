//! Hostile programs end with a clear Forge error and exit status 1 — never
//! a Rust panic (101), an abort or a hang.

use std::process::{Command, Output};

fn forge_run(name: &str, source: &[u8]) -> Output {
    let dir = std::env::temp_dir().join(format!("forge-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, source).expect("write program");
    let out =
        Command::new(env!("CARGO_BIN_EXE_forge")).args(["run", "--interp"]).arg(&path).output().expect("run forge");
    let _ = std::fs::remove_file(&path);
    out
}

fn assert_forge_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("error"), "stderr: {stderr}");
    assert!(stderr.contains(needle), "wanted {needle:?} in stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

#[test]
fn hundred_thousand_nested_parentheses() {
    let src = format!("say {}1{}\n", "(".repeat(100_000), ")".repeat(100_000));
    assert_forge_error(&forge_run("parens.fg", src.as_bytes()), "nested too deeply");
}

#[test]
fn deeply_nested_blocks() {
    let src = format!("{}say 1\n{}", "if true {\n".repeat(50_000), "}\n".repeat(50_000));
    assert_forge_error(&forge_run("blocks.fg", src.as_bytes()), "nested too deeply");
}

#[test]
fn ten_megabyte_string_literal_works() {
    let src = format!("let s = \"{}\"\nsay len(s)\n", "a".repeat(10 * 1024 * 1024));
    let out = forge_run("big_string.fg", src.as_bytes());
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "10485760\n");
}

#[test]
fn invalid_utf8_file() {
    let out = forge_run("bad_utf8.fg", b"say \"ok\"\n\xff\xfe\n");
    assert_forge_error(&out, "not valid UTF-8");
}

#[test]
fn runaway_recursion_is_a_stack_overflow() {
    let out = forge_run("recurse.fg", b"fn f(n) { return f(n + 1) + 1 }\nsay f(0)\n");
    assert_forge_error(&out, "stack overflow");
}

#[test]
fn runaway_recursion_in_a_task_fails_that_task_only() {
    let src = b"fn f(n) { return f(n + 1) + 1 }\nlet h = spawn { return f(0) }\ntry { await h } catch e { say e.message }\nsay \"main goes on\"\n";
    let out = forge_run("recurse_task.fg", src);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "task failed: stack overflow\nmain goes on\n");
}

#[test]
fn recursion_ten_thousand_deep_works_in_any_task() {
    let src = b"fn d(n) { if n == 0 { return 0 }\n return 1 + d(n - 1) }\nsay d(10000)\nsay await spawn d(10000)\n";
    let out = forge_run("deep.fg", src);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "10000\n10000\n",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn million_level_nesting_is_compared_printed_and_freed() {
    let src = b"let mut a = []\nrepeat 1000000 times { a = [a] }\nlet mut b = []\nrepeat 1000000 times { b = [b] }\nsay a == b\ntype L = Cons(Int, L) | Nil\nlet mut l = Nil\nfor i in 0..1000000 { l = Cons(i, l) }\nsay len(str(a)) > 0\na = null\nl = null\nsay \"freed\"\n";
    let out = forge_run("nesting.fg", src);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "true\ntrue\nfreed\n");
}

#[test]
fn huge_range_is_an_error() {
    assert_forge_error(&forge_run("range.fg", b"let r = 0..9000000000000\n"), "too large");
}

#[test]
fn wrong_types_have_locations() {
    let out = forge_run("types.fg", b"let a = 1\nsay a - \"x\"\n");
    assert_forge_error(&out, "cannot apply Sub to Int and String");
    assert!(String::from_utf8_lossy(&out.stderr).contains("types.fg:2:"));
}

#[test]
fn missing_file_and_usage_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_forge")).args(["run", "/nonexistent/x.fg"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let out = Command::new(env!("CARGO_BIN_EXE_forge")).args(["frobnicate"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_forge")).args(["run"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}
