//! How the process ends on purpose: the `exit()` built-in, and the CLI once
//! the main task is done. Both flush the program's stdout, then run the
//! at-exit hooks (the `FORGE_DUMP_TASKS=exit` task dump), once.
//!
//! The hooks are process-wide because `exit()` may be called by any task on
//! any worker, far from whoever registered them. A deadlock ends the process
//! without them: its report lists every task already.

use parking_lot::Mutex;

type Hook = Box<dyn FnOnce() + Send>;

static HOOKS: Mutex<Vec<Hook>> = Mutex::new(Vec::new());

/// Registers `hook` to run when the program ends (in registration order).
pub fn at_exit(hook: impl FnOnce() + Send + 'static) {
    HOOKS.lock().push(Box::new(hook));
}

/// Flushes stdout and runs the registered hooks; later calls find none.
pub fn run_hooks() {
    crate::output::flush();
    let hooks = std::mem::take(&mut *HOOKS.lock());
    for hook in hooks {
        hook();
    }
}

/// Ends the process with `code` after [`run_hooks`].
pub fn exit(code: i32) -> ! {
    run_hooks();
    std::process::exit(code)
}
