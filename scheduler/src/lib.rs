//! A work-stealing scheduler for green threads ("tasks"), independent of
//! Forge: it runs anything that implements [`Task`] and answers "yielded",
//! "blocked" or "finished".
//!
//! | file | owns |
//! |---|---|
//! | `task.rs` | `Task`, `TaskCell`, its state machine (`TaskState`), wakers |
//! | `runtime.rs` | workers, run queues, stealing, parking, deadlock detection |
//! | `io.rs` | the tokio runtime the scheduler owns (started on first use) |
//! | `timer.rs` | timers on that runtime, behind sleeps and timeouts |
//! | `blocking.rs` | the blocking pool: blocking closures off the workers |
//! | `registry.rs` | the table of live tasks (for deadlock reports and dumps), the live-task limit |
//! | `channel.rs` | bounded MPMC channels with parking senders/receivers |
//! | `join.rs` | join cells: a task's result, readable by every awaiter |
//! | `wait.rs` | `WaitReason`: what a blocked task waits on |
//! | `sync.rs` | the channel's, join cell's and state machine's mutex, `Arc` and atomics: `std`/`parking_lot`, or `loom`'s under `--cfg loom` |
//!
//! Rules every part keeps:
//! 1. A worker thread never blocks on a task's behalf: a task that cannot go
//!    on registers a `Waker` with what it waits on and returns `Blocked`.
//! 2. No wake-up is lost: a wake that arrives while the task is still running
//!    marks it `NOTIFIED`, and the worker re-queues it instead of parking it.
//! 3. Thread-locals are only touched from `#[inline(never)]` functions, since
//!    a stackful task may resume on another thread (see HACKING.md).
#![forbid(unsafe_code)]

pub mod blocking;
pub mod channel;
mod io;
#[cfg(test)]
mod io_tests;
pub mod join;
pub mod registry;
pub mod runtime;
mod sync;
pub mod task;
pub mod timer;
pub mod wait;

pub use blocking::{BlockingJob, JobError};
pub use channel::{Channel, RecvPoll, SendPoll};
pub use join::JoinCell;
pub use registry::{RunState, TaskInfo, TaskLimit};
pub use runtime::{DeadlockReport, Runtime, RuntimeConfig, SchedStats};
pub use task::{RunResult, Task, TaskId, TaskRef};
pub use timer::TimerKey;
pub use wait::{BlockingWork, Site, SiteNames, WaitKind, WaitReason};
