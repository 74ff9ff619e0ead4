//! Running a loaded program to completion: the entry point the CLI calls.
//!
//! Builds the scheduler, starts the main task, waits for it, and turns the
//! outcome into an exit status and a report on stderr (FORGE.md §7.1, §8).

use std::io::Write;
use std::sync::Arc;

use scheduler::{DeadlockReport, JoinCell, Runtime, RuntimeConfig};

use crate::concurrency::TaskOutcome;
use crate::error::ForgeError;
use crate::interp::coroutine::{Entry, InterpTask, Options};
use crate::interp::TaskState;
use crate::program::Program;
use crate::syntax::diagnostic::render;
use crate::vm::compiler::compile_program;
use crate::vm::machine::tasks::{VmEntry, VmTask};
use crate::vm::machine::VmLimits;

/// Which execution tier runs the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Interp,
    Vm,
}

/// How to run a program.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub tier: Tier,
    pub workers: usize,
    pub options: Options,
    pub vm: VmLimits,
    /// Totals of the VM tasks, filled as they finish (`--stats`).
    pub stats: Option<Arc<crate::vm::stats::VmStats>>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            tier: Tier::Vm,
            workers: scheduler::runtime::default_workers(),
            options: Options::from_env(),
            vm: VmLimits::from_env(),
            stats: None,
        }
    }
}

/// The report for an uncaught error: the diagnostic, then one `at` line per
/// active call.
pub fn render_error(program: &Program, e: &ForgeError) -> String {
    let mut out = render(&program.sources, &e.message, e.span, &[]);
    for (name, span) in &e.trace {
        out.push_str(&format!("  at {name} ({})\n", program.sources.location(*span)));
    }
    out
}

/// The deadlock report of FORGE.md §8.
pub fn render_deadlock(report: &DeadlockReport) -> String {
    let mut out = String::from("error: deadlock: all tasks are blocked\n");
    for t in &report.tasks {
        let name = t.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        let what = t.waiting_on.as_ref().map_or_else(|| "runnable".to_string(), |w| w.to_string());
        out.push_str(&format!("  task {}{name}: {what}\n", t.id.0));
    }
    out
}

/// Runs the program on the configured tier; returns the exit status.
pub fn run(program: &'static Program, config: RunConfig) -> i32 {
    run_with_stats(program, config).0
}

/// Like `run`, also returning the scheduler's counters (`--stats`).
pub fn run_with_stats(program: &'static Program, config: RunConfig) -> (i32, scheduler::SchedStats) {
    let on_deadlock = Arc::new(|report: &DeadlockReport| {
        crate::output::flush();
        let _ = std::io::stderr().write_all(render_deadlock(report).as_bytes());
        std::process::exit(1);
    });
    let runtime = Runtime::new(RuntimeConfig { workers: config.workers, on_deadlock: Some(on_deadlock) });
    let result: JoinCell<TaskOutcome> = JoinCell::new();
    let task: Box<dyn scheduler::Task> = match config.tier {
        Tier::Interp => {
            let state = TaskState::new(program);
            match InterpTask::new(program, state, Entry::Main, result.clone(), config.options, runtime.clone(), true) {
                Ok(t) => Box::new(t),
                Err(e) => {
                    eprintln!("error: cannot start the main task: {e}");
                    return (1, runtime.stats());
                }
            }
        }
        Tier::Vm => {
            let vm = match compile_program(program) {
                Ok(vm) => vm,
                Err(e) => {
                    let _ = std::io::stderr().write_all(render(&program.sources, &e.message, Some(e.span), &[]).as_bytes());
                    return (1, runtime.stats());
                }
            };
            let stats = config.stats.clone().unwrap_or_default();
            Box::new(VmTask::new(vm, config.vm, stats, VmEntry::Main, result.clone(), runtime.clone()))
        }
    };
    let finished = runtime.run("main", task);
    crate::output::flush();
    let code = match (finished, result.try_get()) {
        (_, Some(Ok(_))) => 0,
        (_, Some(Err(e))) => {
            let _ = std::io::stderr().write_all(render_error(program, &e).as_bytes());
            1
        }
        (Err(report), None) => {
            let _ = std::io::stderr().write_all(render_deadlock(&report).as_bytes());
            1
        }
        (Ok(()), None) => {
            eprintln!("error: internal error: the main task ended without a result");
            1
        }
    };
    (code, runtime.stats())
}
