//! Unit tests of the machine without a scheduler: compile a program, run
//! its top level to the end, and look at its globals and heap.

use std::sync::Arc;

use super::{Exit, Machine, VmLimits, VmRun};
use crate::error::Unwind;
use crate::syntax::span::SourceMap;
use crate::value::display::display;
use crate::vm::compiler::compile_program;
use crate::vm::stats::VmStats;

fn limits(gc_stress: bool, max_heap: usize) -> VmLimits {
    VmLimits { max_depth: 2_000, budget: 1_000_000, max_heap, gc_stress }
}

/// Runs `src`'s top level on a fresh machine; the machine, and the error
/// message if it failed.
fn run(src: &str, limits: VmLimits) -> (Machine, Option<String>) {
    let program = crate::program::load_source("test.fg", src.to_string(), Vec::new(), Arc::new(SourceMap::new()))
        .unwrap_or_else(|f| panic!("{}", f.render()));
    let vm = compile_program(program).expect("compiles");
    let mut m = Machine::new(VmRun::new(vm, limits, Some(Arc::new(VmStats::default()))));
    m.enter_main();
    let err = loop {
        match m.run(0) {
            Ok(Exit::Returned(_)) => break None,
            Ok(Exit::Yielded) => continue,
            Ok(Exit::Blocked(r)) => panic!("blocked without a scheduler: {r}"),
            Err(c) => match *c.0 {
                Unwind::Error(e) => break Some(e.message),
                other => panic!("unexpected {other:?}"),
            },
        }
    };
    (m, err)
}

/// The display form of global `name`.
fn global(m: &mut Machine, name: &str) -> String {
    let slot =
        m.run.vm.program.globals.iter().position(|g| g.name == name).unwrap_or_else(|| panic!("no global {name}"));
    let v = m.global(slot).unwrap_or_else(|| panic!("{name} unset"));
    display(&m.export(v).expect("exports"))
}

#[test]
fn arrays_are_values_even_when_registers_share_a_handle() {
    let src =
        "let a = [1, [2, 3]]\nlet mut b = a\nb[1][0] = 9\nb.push(4)\nfn f(x) { x[0] = 7\n return x }\nlet c = f(a)\n";
    for stress in [false, true] {
        let (mut m, err) = run(src, limits(stress, usize::MAX));
        assert_eq!(err, None);
        assert_eq!(global(&mut m, "a"), "[1, [2, 3]]");
        assert_eq!(global(&mut m, "b"), "[1, [9, 3], 4]");
        assert_eq!(global(&mut m, "c"), "[7, [2, 3]]");
    }
}

#[test]
fn stress_collections_keep_everything_reachable_and_free_the_rest() {
    // Garbage in a loop, closures over cells, a deep structure kept alive.
    let src = "let mut kept = []\nlet mut n = 0\nfn adder(k) { return fn(x) { return x + k } }\n\
               while n < 300 { let junk = [n, str(n), {v: n}]\n kept = [kept, adder(n)(1)]\n n += 1 }\n\
               let mut depth = 0\nlet mut p = kept\nwhile len(p) > 0 { depth += p[1]\n p = p[0] }\n";
    let (mut m, err) = run(src, limits(true, usize::MAX));
    assert_eq!(err, None);
    assert_eq!(global(&mut m, "depth"), (1..=300).sum::<i64>().to_string());
    let stats = m.heap_stats();
    assert!(stats.collections > 300, "stress mode collects at safepoints after allocations: {stats:?}");
    m.heap.verify().expect("no live object refers to a freed one");
    // After a collection with only the globals as roots, the junk is gone.
    m.frames.clear();
    m.collect_garbage();
    assert!(m.heap.live_objects() < 2_000, "{} objects survive", m.heap.live_objects());
}

#[test]
fn errors_unwind_to_handlers_with_their_message() {
    let src = "let mut r = []\ntry { let x = [1][5] } catch e { r.push(e.message) }\n\
               try { let y = 1 / 0 } catch e { r.push(e.message) }\n\
               try { let z = null.f } catch e { r.push(e.message) }\n";
    let (mut m, err) = run(src, limits(false, usize::MAX));
    assert_eq!(err, None);
    assert_eq!(
        global(&mut m, "r"),
        r#"["index out of bounds: index 5 on array of length 1", "division by zero", "cannot access field 'f' on Null"]"#
    );
}

#[test]
fn heap_limit_is_an_error_not_an_abort() {
    let (_, err) = run("let mut a = []\nwhile true { a.push([1, 2, 3, 4]) }\n", limits(false, 1 << 20));
    assert_eq!(err.as_deref(), Some("out of memory (heap limit reached)"));
}

#[test]
fn runaway_recursion_is_a_stack_overflow() {
    let (m, err) = run("fn f(n) { return f(n + 1) }\nf(0)\n", limits(false, usize::MAX));
    assert_eq!(err.as_deref(), Some("stack overflow"));
    assert!(m.frames.len() <= 2_000);
}

#[test]
fn instructions_are_counted() {
    let (m, err) = run("let mut i = 0\nwhile i < 1000 { i += 1 }\n", limits(false, usize::MAX));
    assert_eq!(err, None);
    // Each iteration runs at least the test, the increment and the back edge.
    assert!(m.instructions() >= 3_000, "{}", m.instructions());
    assert!(m.instructions() < 10_000, "{}", m.instructions());
}

#[test]
fn spawns_pass_on_only_the_globals_tasks_can_reach() {
    let src = "let ch = channel()\nlet mut hs = []\nlet cap = 3\nfn over(n) { return n > cap }\nhs.push(spawn { receive(ch) })\nlet unused = 1\n";
    let program = crate::program::load_source("test.fg", src.to_string(), Vec::new(), Arc::new(SourceMap::new()))
        .unwrap_or_else(|f| panic!("{}", f.render()));
    let vm = compile_program(program).expect("compiles");
    let reach = |name: &str| {
        let slot = program.globals.iter().position(|g| g.name == name).unwrap_or_else(|| panic!("no global {name}"));
        vm.task_globals[slot]
    };
    // Read by a spawn block, by a function: passed on.
    assert!(reach("ch") && reach("cap"));
    // Named by the top level only: never read by a task.
    assert!(!reach("hs") && !reach("unused"));
}

#[test]
fn a_call_never_sees_the_registers_of_an_earlier_call() {
    // `f` lives in a cell, and `NewCell` reuses a cell already in its
    // register: registers left over from the first `make` (same base) would
    // tie the second closure to the first one's cell, and `a` would call `b`.
    // `wide` has more than eight registers past its argument (the inline
    // call clears those with a loop, small frames with one store).
    let small = "fn make(k) {\n fn f(n) { if n == 0 { return k }\n return f(n - 1) }\n return f\n}\n";
    let wide = "fn make(k) {\n let x1 = 1\n let x2 = 2\n let x3 = 3\n let x4 = 4\n let x5 = 5\n let x6 = 6\n \
                let x7 = 7\n let x8 = 8\n let x9 = 9\n fn f(n) { if n == 0 { return k }\n return f(n - 1) }\n \
                return f\n}\n";
    for make in [small, wide] {
        let src = format!("{make}let a = make(1)\nlet b = make(2)\nlet r = a(3) * 10 + b(3)\n");
        for stress in [false, true] {
            let (mut m, err) = run(&src, limits(stress, usize::MAX));
            assert_eq!(err, None);
            assert_eq!(global(&mut m, "r"), "12");
        }
    }
}

#[test]
fn natives_and_collections_leave_the_rare_fields_unwritten() {
    // A native call truncates the natives' roots after it, and a
    // collection reads them: neither may allocate the fields they find
    // empty (a parked task would carry them).
    let src = "let a = [3, 1, 2]\nlet n = len(a)\nlet s = str(n) + \"x\"\nlet b = a.map(fn(x) { return x * 2 })\n";
    let (mut m, err) = run(src, limits(true, usize::MAX));
    assert_eq!(err, None);
    assert_eq!(global(&mut m, "b"), "[6, 2, 4]");
    let (m2, err) = run("let a = [3, 1, 2]\nlet n = len(a)\nlet s = str(n) + \"x\"\n", limits(true, usize::MAX));
    assert_eq!(err, None);
    assert!(!m2.rare.is_allocated(), "natives without callbacks wrote a rare field");
    // A callback hands a closure to a native: that is what the field is for.
    assert!(m.rare.is_allocated());
}
