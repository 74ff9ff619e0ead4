//! Unit tests of the interpreter: run small programs on the calling thread
//! (no scheduler; nothing may block) and inspect the value of their last
//! expression.

use std::sync::Arc;

use super::{Host, Interp, Limits, TaskState};
use crate::error::EvalResult;
use crate::program::load_source;
use crate::syntax::span::SourceMap;
use crate::value::display::display;

struct NoTasks {
    task: scheduler::TaskRef,
    runtime: scheduler::Runtime,
}

impl Host for NoTasks {
    fn suspend(&self, reason: Option<scheduler::WaitReason>) {
        assert!(reason.is_none(), "unit-test programs cannot block");
    }
    fn task(&self) -> &scheduler::TaskRef {
        &self.task
    }
    fn runtime(&self) -> &scheduler::Runtime {
        &self.runtime
    }
}

/// A scheduler task handle for the host (never scheduled).
struct Idle;
impl scheduler::Task for Idle {
    fn run(&mut self, _me: &scheduler::TaskRef) -> scheduler::RunResult {
        scheduler::RunResult::Finished
    }
}

fn run(src: &str) -> EvalResult {
    let program = load_source("test.fg", src.to_string(), Vec::new(), Arc::new(SourceMap::new()))
        .unwrap_or_else(|f| panic!("{}", f.render()));
    let runtime = scheduler::Runtime::new(scheduler::RuntimeConfig { workers: 1, ..Default::default() });
    let task = runtime.spawn(None, Box::new(Idle)).expect("under the task limit");
    let host = NoTasks { task, runtime };
    let limits = Limits { max_depth: 200, stack_floor: 0, budget: 1_000 };
    let mut interp = Interp::new(program, TaskState::new(program), limits, &host);
    interp.run_main()
}

fn value(src: &str) -> String {
    match run(src) {
        Ok(v) => display(&v),
        Err(c) => format!("error: {}", c.as_error().map_or("?".into(), |e| e.message.clone())),
    }
}

#[test]
fn block_values_and_trailing_if() {
    assert_eq!(value("fn f(x) { if x > 1 { \"big\" } else { \"small\" } }\n[f(2), f(0)]"), r#"["big", "small"]"#);
    assert_eq!(value("let v = if false { 1 }\nv"), "null");
    assert_eq!(value("match 3 { 1 => \"one\", n => n * 2 }"), "6");
}

#[test]
fn return_from_inside_expressions() {
    assert_eq!(
        value("fn f(x) { let y = match x { 0 => { return \"zero\" }, _ => x }\n return y + 1 }\n[f(0), f(4)]"),
        r#"["zero", 5]"#
    );
    assert_eq!(value("fn g() { for i in 0..10 { if i == 3 { return i } } }\ng()"), "3");
}

#[test]
fn loops_break_and_continue() {
    assert_eq!(
        value("let mut s = 0\nfor i in 0..10 { if i % 2 == 0 { continue }\n if i > 7 { break }\n s += i }\ns"),
        "16"
    );
}

#[test]
fn closures_share_variables_and_loop_variables_are_fresh() {
    assert_eq!(value("let mut n = 0\nlet inc = fn() { n += 1 }\ninc()\ninc()\nn"), "2");
    assert_eq!(value("let mut fs = []\nfor i in 0..3 { push(fs, fn() { i }) }\nmap(fs, fn(f) { f() })"), "[0, 1, 2]");
}

#[test]
fn value_semantics_through_places() {
    assert_eq!(
        value("let mut o = {a: [1]}\nlet copy = o\no.a.push(2)\n[o, copy]"),
        r#"[{ "a": [1, 2] }, { "a": [1] }]"#
    );
}

#[test]
fn depth_limit_is_a_stack_overflow() {
    assert_eq!(value("fn f(n) { f(n + 1) }\nf(0)"), "error: stack overflow");
}

#[test]
fn errors_carry_a_location_and_trace() {
    let err = run("fn f() {\n  1 / 0\n}\nf()").expect_err("fails");
    let e = err.as_error().expect("an error");
    assert_eq!(e.message, "division by zero");
    assert!(e.span.is_some());
    assert_eq!(e.trace.len(), 1);
}
