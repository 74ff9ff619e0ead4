//! Hostile programs end with a clear Forge error and exit status 1 — never
//! a Rust panic (101), an abort or a hang — on every tier.

use std::process::{Command, Output};

const TIERS: [&str; 2] = ["--interp", "--vm"];

/// Runs `source` on one tier with extra environment variables.
fn forge_run_env(tier: &str, name: &str, source: &[u8], env: &[(&str, &str)]) -> Output {
    let dir = std::env::temp_dir().join(format!("forge-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{}-{name}", tier.trim_start_matches('-')));
    std::fs::write(&path, source).expect("write program");
    let out = Command::new(env!("CARGO_BIN_EXE_forge"))
        .args(["run", tier])
        .arg(&path)
        .envs(env.iter().copied())
        .output()
        .expect("run forge");
    let _ = std::fs::remove_file(&path);
    out
}

/// Runs `source` on every tier; the outputs come back in `TIERS` order.
fn forge_run(name: &str, source: &[u8]) -> Vec<Output> {
    TIERS.iter().map(|tier| forge_run_env(tier, name, source, &[])).collect()
}

fn assert_forge_errors(outs: &[Output], needle: &str) {
    for out in outs {
        assert_forge_error(out, needle);
    }
}

fn assert_stdout(outs: &[Output], want: &str) {
    for (tier, out) in TIERS.iter().zip(outs) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{tier} stderr: {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{tier} stderr: {stderr}");
    }
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
    assert_forge_errors(&forge_run("parens.fg", src.as_bytes()), "nested too deeply");
}

#[test]
fn deeply_nested_blocks() {
    let src = format!("{}say 1\n{}", "if true {\n".repeat(50_000), "}\n".repeat(50_000));
    assert_forge_errors(&forge_run("blocks.fg", src.as_bytes()), "nested too deeply");
}

#[test]
fn ten_megabyte_string_literal_works() {
    let src = format!("let s = \"{}\"\nsay len(s)\n", "a".repeat(10 * 1024 * 1024));
    assert_stdout(&forge_run("big_string.fg", src.as_bytes()), "10485760\n");
}

#[test]
fn invalid_utf8_file() {
    assert_forge_errors(&forge_run("bad_utf8.fg", b"say \"ok\"\n\xff\xfe\n"), "not valid UTF-8");
}

#[test]
fn runaway_recursion_is_a_stack_overflow() {
    assert_forge_errors(&forge_run("recurse.fg", b"fn f(n) { return f(n + 1) + 1 }\nsay f(0)\n"), "stack overflow");
}

#[test]
fn runaway_recursion_in_a_task_fails_that_task_only() {
    let src = b"fn f(n) { return f(n + 1) + 1 }\nlet h = spawn { return f(0) }\ntry { await h } catch e { say e.message }\nsay \"main goes on\"\n";
    assert_stdout(&forge_run("recurse_task.fg", src), "task failed: stack overflow\nmain goes on\n");
}

#[test]
fn recursion_ten_thousand_deep_works_in_any_task() {
    let src = b"fn d(n) { if n == 0 { return 0 }\n return 1 + d(n - 1) }\nsay d(10000)\nsay await spawn d(10000)\n";
    assert_stdout(&forge_run("deep.fg", src), "10000\n10000\n");
}

#[test]
fn million_level_nesting_is_compared_printed_and_freed() {
    let src = b"let mut a = []\nrepeat 1000000 times { a = [a] }\nlet mut b = []\nrepeat 1000000 times { b = [b] }\nsay a == b\ntype L = Cons(Int, L) | Nil\nlet mut l = Nil\nfor i in 0..1000000 { l = Cons(i, l) }\nsay len(str(a)) > 0\na = null\nl = null\nsay \"freed\"\n";
    assert_stdout(&forge_run("nesting.fg", src), "true\ntrue\nfreed\n");
}

#[test]
fn huge_range_is_an_error() {
    assert_forge_errors(&forge_run("range.fg", b"let r = 0..9000000000000\n"), "too large");
}

#[test]
fn wrong_types_have_locations() {
    for out in forge_run("types.fg", b"let a = 1\nsay a - \"x\"\n") {
        assert_forge_error(&out, "cannot apply Sub to Int and String");
        assert!(String::from_utf8_lossy(&out.stderr).contains("types.fg:2:"));
    }
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

#[test]
fn heap_limit_is_an_out_of_memory_error_in_the_task() {
    let src = b"fn grow() { let mut a = []\n while true { a = push(a, \"xxxxxxxxxxxxxxxx\" + str(len(a))) } }\nlet h = spawn grow()\ntry { await h } catch e { say e.message }\nsay \"main goes on\"\n";
    let out = forge_run_env("--vm", "oom.fg", src, &[("FORGE_MAX_HEAP", "8M")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "task failed: out of memory (heap limit reached)\nmain goes on\n");
}

#[test]
fn garbage_under_a_heap_limit_is_collected_not_reported() {
    // Allocates far more than the limit in total, but little at any time.
    let src = b"let mut n = 0\nrepeat 200000 times { let t = [str(n), str(n + 1), [n]]\n n = n + len(t) }\nsay n\n";
    let out = forge_run_env("--vm", "churn.fg", src, &[("FORGE_MAX_HEAP", "2M")]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "600000\n");
}

#[test]
fn uncaught_out_of_memory_has_a_location() {
    let out = forge_run_env(
        "--vm",
        "oom_main.fg",
        b"let mut a = []\nwhile true { a = push(a, [1, 2, 3]) }\n",
        &[("FORGE_MAX_HEAP", "4M")],
    );
    assert_forge_error(&out, "out of memory");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("oom_main.fg:2:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn stats_report_collections_and_instructions() {
    let src = b"let mut kept = []\nrepeat 50000 times { kept = [[1, 2], len(kept)] }\nsay len(kept)\n";
    let out = Command::new(env!("CARGO_BIN_EXE_forge"))
        .args(["run", "--stats", "--vm"])
        .arg(write_temp("stats.fg", src))
        .env("FORGE_GC_STRESS", "1")
        .output()
        .expect("run forge");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let figure = |name: &str| -> u64 {
        let line =
            stderr.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_else(|| panic!("{name} in {stderr}"));
        line.split_whitespace().find_map(|w| w.parse().ok()).unwrap_or_else(|| panic!("number in {line}"))
    };
    assert!(figure("instructions executed") > 50_000, "{stderr}");
    assert!(figure("gc collections") >= 50_000, "stress mode collects after every allocation: {stderr}");
    assert!(stderr.contains("gc pause max:") && stderr.contains("peak heap:"), "{stderr}");
    assert_eq!(figure("tasks spawned"), 1, "{stderr}");
    assert!(stderr.contains("steals:") && stderr.contains("budget yields:"), "{stderr}");
}

fn write_temp(name: &str, source: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("forge-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, source).expect("write program");
    path
}
