//! Task dumps on demand: every live task, its state and what it waits on,
//! printed on stderr while the program keeps running (issue 5, item 6).
//!
//! Two triggers, both set up by [`Watcher`]:
//!
//! - **SIGQUIT** (`kill -QUIT PID`, or Ctrl-\ in a terminal) prints a dump.
//!   The handler is installed before the program is loaded, so the signal
//!   never takes its default action (ending the process with a core dump);
//!   a SIGQUIT that arrives before the main task starts says so instead.
//! - **`FORGE_DUMP_TASKS`** ([`Plan`]) asks for dumps without a signal:
//!   `exit` prints one when the program ends (the tasks the end abandons:
//!   FORGE.md §8 lets unfinished tasks die with the main task, and this says
//!   which they were and where they stood); a number of milliseconds prints
//!   one periodically (for a run where nobody can send a signal, such as a
//!   CI job that hangs); `500,exit` does both.
//!
//! The signal is handled by `signal-hook`: its handler only writes to a
//! pipe, and the dump is made on the watcher's own thread, which reads the
//! scheduler's task table like any other thread (`Runtime::dump`) — nothing
//! runs inside the signal handler and no worker is stopped. The text comes
//! from `runtime::run::render_dump`, whose task lines are those of the
//! deadlock report.
//!
//! Rejected: writing dumps to a file named by `FORGE_DUMP_TASKS`. A dump
//! belongs with the program's other diagnostics, on stderr, as Go's and the
//! JVM's thread dumps are; a supervisor that keeps stderr keeps the dumps.

use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use scheduler::Runtime;
use signal_hook::consts::SIGQUIT;
use signal_hook::iterator::Signals;

/// When to dump without being asked by a signal (`FORGE_DUMP_TASKS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// One dump when the program ends (`exit`).
    pub at_exit: bool,
    /// A dump every this often while the program runs (`500`, `500ms`, `2s`).
    pub every: Option<Duration>,
}

impl Plan {
    /// Reads `FORGE_DUMP_TASKS`; a value it cannot read is reported on
    /// stderr and ignored (the program still runs).
    pub fn from_env() -> Plan {
        match std::env::var("FORGE_DUMP_TASKS") {
            Ok(text) => Plan::parse(&text).unwrap_or_else(|| {
                eprintln!(
                    "forge: ignoring FORGE_DUMP_TASKS={text:?}: want `exit`, a period in milliseconds \
                     such as `500` (or `500ms`, `2s`), or both, as `500,exit`"
                );
                Plan::default()
            }),
            Err(_) => Plan::default(),
        }
    }

    /// `exit`, a period, or both separated by a comma; empty, `0` and `off`
    /// ask for nothing. `None` when a part is not understood.
    pub fn parse(text: &str) -> Option<Plan> {
        let mut plan = Plan::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "exit" => plan.at_exit = true,
                "off" | "0" => {}
                _ => {
                    let (digits, unit_ms) = match part.strip_suffix("ms") {
                        Some(d) => (d, 1),
                        None => match part.strip_suffix('s') {
                            Some(d) => (d, 1000),
                            None => (part, 1),
                        },
                    };
                    let n: u64 = digits.trim().parse().ok().filter(|&n| n > 0)?;
                    plan.every = Some(Duration::from_millis(n.checked_mul(unit_ms)?));
                }
            }
        }
        Some(plan)
    }
}

/// The SIGQUIT handler and the dump threads of one run.
#[derive(Clone)]
pub struct Watcher {
    runtime: Arc<OnceLock<Runtime>>,
}

impl Watcher {
    /// Installs the SIGQUIT handler and its thread. If the handler cannot
    /// be installed the program runs without it (a warning says so).
    pub fn install() -> Watcher {
        let runtime: Arc<OnceLock<Runtime>> = Arc::new(OnceLock::new());
        let seen = runtime.clone();
        let started = Signals::new([SIGQUIT]).map_err(|e| e.to_string()).and_then(|mut signals| {
            std::thread::Builder::new()
                .name("forge-sigquit".into())
                .spawn(move || {
                    for _ in signals.forever() {
                        match seen.get() {
                            Some(rt) => write_dump(rt, "SIGQUIT"),
                            None => write_stderr("forge task dump (SIGQUIT): the program has not started yet\n"),
                        }
                    }
                })
                .map(drop)
                .map_err(|e| e.to_string())
        });
        if let Err(e) = started {
            eprintln!("forge: SIGQUIT task dumps are unavailable: {e}");
        }
        Watcher { runtime }
    }

    /// Called once the program's scheduler exists: SIGQUIT dumps its tasks
    /// from now on, and `plan`'s dumps are set up.
    pub fn attach(&self, runtime: &Runtime, plan: Plan) {
        if self.runtime.set(runtime.clone()).is_err() {
            return;
        }
        if let Some(period) = plan.every {
            let rt = runtime.clone();
            let trigger = format!("every {} ms", period.as_millis());
            let spawned = std::thread::Builder::new().name("forge-dump".into()).spawn(move || loop {
                std::thread::sleep(period);
                write_dump(&rt, &trigger);
            });
            if let Err(e) = spawned {
                eprintln!("forge: periodic task dumps are unavailable: {e}");
            }
        }
        if plan.at_exit {
            let rt = runtime.clone();
            runtime::exit::at_exit(move || write_dump(&rt, "at exit"));
        }
    }
}

/// Prints one dump on stderr in a single write, so it is not interleaved
/// with the program's own stderr lines.
fn write_dump(runtime: &Runtime, trigger: &str) {
    write_stderr(&runtime::run::render_dump(runtime, trigger));
}

fn write_stderr(text: &str) {
    // A closed stderr is no reason to disturb the program.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_from_text() {
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(Plan::parse(""), Some(Plan::default()));
        assert_eq!(Plan::parse("off"), Some(Plan::default()));
        assert_eq!(Plan::parse("0"), Some(Plan::default()));
        assert_eq!(Plan::parse("exit"), Some(Plan { at_exit: true, every: None }));
        assert_eq!(Plan::parse("500"), Some(Plan { at_exit: false, every: ms(500) }));
        assert_eq!(Plan::parse("250ms"), Some(Plan { at_exit: false, every: ms(250) }));
        assert_eq!(Plan::parse("2s"), Some(Plan { at_exit: false, every: ms(2000) }));
        assert_eq!(Plan::parse("500, exit"), Some(Plan { at_exit: true, every: ms(500) }));
        assert_eq!(Plan::parse("sometimes"), None);
        assert_eq!(Plan::parse("-5"), None);
        assert_eq!(Plan::parse("/tmp/dump.txt"), None);
    }
}
