//! Running a loaded program to completion: the entry point the CLI calls.
//!
//! Builds the scheduler, starts the main task, waits for it, and turns the
//! outcome into an exit status and a report on stderr (FORGE.md §7.1, §8).
//!
//! Also the text of the reports about tasks: an uncaught error
//! ([`render_error`]), a deadlock ([`render_deadlock`]) and a task dump
//! ([`render_dump`], for SIGQUIT and `FORGE_DUMP_TASKS`). The last two list
//! tasks with the same [`render_task`] line, so a task reads the same in
//! both.

use std::io::Write;
use std::sync::Arc;

use scheduler::{DeadlockReport, JoinCell, RunState, Runtime, RuntimeConfig, TaskInfo};

use crate::concurrency::TaskOutcome;
use crate::error::ForgeError;
use crate::interp::coroutine::{Entry, InterpTask, Options};
use crate::interp::TaskState;
use crate::program::Program;
use crate::syntax::diagnostic::render;
use crate::vm::compiler::compile_program;
use crate::vm::machine::tasks::{VmEntry, VmTask};
use crate::vm::machine::{VmLimits, VmRun};

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
    /// Called with the scheduler once it exists, before the main task
    /// starts (the CLI starts its task-dump watchers here).
    pub on_start: Option<StartHook>,
}

/// A function given the scheduler of a program about to run.
#[derive(Clone)]
pub struct StartHook(pub Arc<dyn Fn(&Runtime) + Send + Sync>);

impl std::fmt::Debug for StartHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StartHook")
    }
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            tier: Tier::Vm,
            workers: scheduler::runtime::default_workers(),
            options: Options::from_env(),
            vm: VmLimits::from_env(),
            stats: None,
            on_start: None,
        }
    }
}

/// The report for an uncaught error: the diagnostic, then one `at` line per
/// active call, then for `task failed: …` one `task N failed at` line per
/// failed task down to the one where the error happened.
pub fn render_error(program: &Program, e: &ForgeError) -> String {
    let mut out = render(&program.sources, &e.message, e.span, &[]);
    for (name, span) in &e.trace {
        out.push_str(&format!("  at {name} ({})\n", program.sources.location(*span)));
    }
    for (id, span) in &e.failed_tasks {
        match span {
            Some(span) => out.push_str(&format!("  task {} failed at {}\n", id.0, program.sources.location(*span))),
            None => out.push_str(&format!("  task {} failed\n", id.0)),
        }
    }
    out
}

/// One task of a deadlock report or a task dump:
/// `task 2: receive at app.fg:7:5`, `task 1 (main): running`.
///
/// A parked task shows what it waits on (`receive`, `send`, `select`,
/// `await`, `squad`, `sleep`) and where, as Go shows a goroutine's wait
/// reason in place of its state; a task that is not parked shows `running`
/// (on a worker now) or `runnable` (queued for one).
pub fn render_task(t: &TaskInfo) -> String {
    let name = t.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
    let what = match (&t.waiting_on, t.state) {
        (Some(w), RunState::Parked) => w.to_string(),
        (_, state) => state.as_str().to_string(),
    };
    format!("task {}{name}: {what}", t.id.0)
}

/// The deadlock report of FORGE.md §8.
pub fn render_deadlock(report: &DeadlockReport) -> String {
    let mut out = String::from("error: deadlock: all tasks are blocked\n");
    for t in &report.tasks {
        out.push_str(&format!("  {}\n", render_task(t)));
    }
    out
}

/// A task dump: a header with the time, why the dump was taken, the number
/// of live tasks and of workers, then one [`render_task`] line per task.
///
/// ```text
/// forge task dump (SIGQUIT) at 2026-01-05T10:31:02.114Z: 3 live tasks, 2 of 2 workers started
///   task 1 (main): sleep at app.fg:14:5
///   task 2: receive at app.fg:4:9
///   task 3: running
/// ```
pub fn render_dump(runtime: &Runtime, trigger: &str) -> String {
    let tasks = runtime.dump();
    let (started, max) = runtime.workers();
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
    let plural = if tasks.len() == 1 { "" } else { "s" };
    let mut out = format!(
        "forge task dump ({trigger}) at {now}: {} live task{plural}, {started} of {max} workers started\n",
        tasks.len()
    );
    for t in &tasks {
        out.push_str(&format!("  {}\n", render_task(t)));
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
    let runtime =
        Runtime::new(RuntimeConfig { workers: config.workers, on_deadlock: Some(on_deadlock), ..Default::default() });
    if let Some(hook) = &config.on_start {
        (hook.0)(&runtime);
    }
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
                    let _ =
                        std::io::stderr().write_all(render(&program.sources, &e.message, Some(e.span), &[]).as_bytes());
                    return (1, runtime.stats());
                }
            };
            let stats = config.stats.clone();
            Box::new(VmTask::new(VmRun::new(vm, config.vm, stats), VmEntry::Main, result.clone()))
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
