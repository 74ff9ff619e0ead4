//! Blocking work of natives (file system calls, reading stdin) on the
//! scheduler's blocking pool, never on a worker (HACKING.md, rule 3 of
//! tasks).
//!
//! A native calls [`run`] with a closure that prepares the job on the task
//! (argument checks stay before it, since they run on every attempt) and
//! returns the job, which runs on a pool thread and returns plain data —
//! `String`, `Vec<u8>`, `std::io::Result<…>` — never a `Value`; the native
//! turns that into values on its task. Meanwhile the task waits on `what`
//! (`file I/O`, `stdin`), shown in deadlock reports and task dumps, and the
//! scheduler counts the job in flight so the runtime is not taken for
//! deadlocked.
//!
//! Each tier implements `NativeCx::offload`: the interpreter submits and
//! waits in place ([`in_place`]: its coroutine parks); the VM, which re-runs
//! a native from the start after a wait, keeps the job of the call in
//! progress and asks `prepare` only on the first attempt.

use std::task::Poll;

use scheduler::{BlockingJob, BlockingWork, WaitKind, WaitReason};

use super::{Job, JobOutput, NativeCx};
use crate::error::Ctrl;

/// The wait reason of file system natives.
pub const FILE_IO: &BlockingWork = &BlockingWork("file I/O");
/// The wait reason of natives reading stdin.
pub const STDIN: &BlockingWork = &BlockingWork("stdin");

/// Runs the job made by `prepare` on the blocking pool and returns its
/// output once it has ended (see the module docs).
pub fn run<T, F>(
    cx: &mut dyn NativeCx,
    what: &'static scheduler::BlockingWork,
    prepare: impl FnOnce() -> Result<F, Ctrl>,
) -> Result<T, Ctrl>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let mut prepare = Some(prepare);
    let mut submit = || -> Result<Job, Ctrl> {
        let prepare = prepare.take().ok_or_else(|| internal("a blocking job was submitted twice"))?;
        let job = prepare()?;
        Ok(Box::new(move || Box::new(job()) as JobOutput))
    };
    let out = cx.offload(what, &mut submit)?;
    out.downcast::<T>().map(|b| *b).map_err(|_| internal("a blocking job returned another type"))
}

/// `NativeCx::offload` for a tier whose natives wait in place (their stack
/// survives the wait): submit, then wait until the job has ended.
pub fn in_place(
    cx: &mut dyn NativeCx,
    what: &'static scheduler::BlockingWork,
    submit: &mut dyn FnMut() -> Result<Job, Ctrl>,
) -> Result<JobOutput, Ctrl> {
    let job = submit()?;
    let handle = submit_job(cx, job)?;
    loop {
        if let Some(out) = poll(cx, what, &handle)? {
            return Ok(out);
        }
    }
}

/// Hands `job` to the blocking pool; the current task is woken when it ends.
pub fn submit_job(cx: &mut dyn NativeCx, job: Job) -> Result<BlockingJob<JobOutput>, Ctrl> {
    let waker = cx.waker();
    cx.runtime().spawn_blocking(job, waker).map_err(|e| Ctrl::runtime(format!("cannot run blocking work: {e}")))
}

/// The job's output if it has ended, else waits on `what` (`Ok(None)` when
/// woken on a tier that resumes in place; on the VM the wait is an error
/// that suspends the task).
pub fn poll(
    cx: &mut dyn NativeCx,
    what: &'static scheduler::BlockingWork,
    job: &BlockingJob<JobOutput>,
) -> Result<Option<JobOutput>, Ctrl> {
    match job.poll(&cx.waker()) {
        Poll::Ready(Ok(out)) => Ok(Some(out)),
        Poll::Ready(Err(e)) => Err(internal(&format!("{e} ({what})"))),
        Poll::Pending => {
            let reason = WaitReason { kind: WaitKind::Blocking(what), at: cx.location() };
            cx.wait(reason)?;
            Ok(None)
        }
    }
}

fn internal(text: &str) -> Ctrl {
    Ctrl::runtime(format!("internal error: {text}"))
}
