//! Tasks and their life cycle.
//!
//! A `TaskCell` is the scheduler's record of one task: its state, its body
//! (the `Task` to resume) and what it waits on. State transitions:
//!
//! ```text
//!   spawn ──► SCHEDULED ──(worker takes it)──► RUNNING ──► DONE
//!                 ▲                              │  │
//!                 │         Yielded / NOTIFIED   │  │ Blocked
//!                 └──────────────────────────────┘  ▼
//!                 ◄────────────── wake ────────── IDLE
//! ```
//!
//! A wake while RUNNING moves the task to NOTIFIED; when it then reports
//! Blocked it is queued again at once (rule 2 of the crate: no lost wake-ups).

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Wake, Waker};

use parking_lot::Mutex;

use crate::runtime::Shared;
use crate::wait::WaitReason;

/// A task's number, unique in the process; the main task is 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub u64);

/// How one slice of a task's execution ended.
#[derive(Debug)]
pub enum RunResult {
    /// Out of budget: run again later.
    Yielded,
    /// Waiting; a `Waker` was registered with whatever it waits on.
    Blocked(WaitReason),
    Finished,
}

/// Anything the scheduler can run.
pub trait Task: Send + 'static {
    /// Runs until the task finishes, blocks or spends its budget.
    fn run(&mut self, me: &TaskRef) -> RunResult;
}

pub(crate) const IDLE: u8 = 0;
pub(crate) const SCHEDULED: u8 = 1;
pub(crate) const RUNNING: u8 = 2;
pub(crate) const NOTIFIED: u8 = 3;
pub(crate) const DONE: u8 = 4;

pub struct TaskCell {
    pub(crate) id: TaskId,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) state: AtomicU8,
    cancelled: AtomicBool,
    pub(crate) is_main: bool,
    pub(crate) body: Mutex<Option<Box<dyn Task>>>,
    pub(crate) wait: Mutex<Option<WaitReason>>,
    pub(crate) registry_slot: AtomicUsize,
    pub(crate) shared: Weak<Shared>,
}

/// A shared reference to a task.
pub type TaskRef = Arc<TaskCell>;

impl TaskCell {
    pub(crate) fn new(
        id: TaskId,
        name: Option<Arc<str>>,
        is_main: bool,
        body: Box<dyn Task>,
        shared: Weak<Shared>,
    ) -> TaskCell {
        TaskCell {
            id,
            name,
            state: AtomicU8::new(SCHEDULED),
            cancelled: AtomicBool::new(false),
            is_main,
            body: Mutex::new(Some(body)),
            wait: Mutex::new(None),
            registry_slot: AtomicUsize::new(usize::MAX),
            shared,
        }
    }

    pub fn id(&self) -> TaskId {
        self.id
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// A `std::task::Waker` that schedules this task.
    pub fn waker(self: &Arc<Self>) -> Waker {
        Waker::from(self.clone())
    }

    /// Asks the task to stop at its next check, and wakes it so a blocked
    /// task notices.
    pub fn cancel(self: &Arc<Self>) {
        self.cancelled.store(true, Ordering::Release);
        self.clone().wake();
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    pub fn is_finished(&self) -> bool {
        self.state.load(Ordering::Acquire) == DONE
    }

    /// What the task waits on, if it is blocked.
    pub fn wait_reason(&self) -> Option<WaitReason> {
        if self.state.load(Ordering::Acquire) == IDLE {
            self.wait.lock().clone()
        } else {
            None
        }
    }

    /// Moves IDLE → SCHEDULED (and queues the task) or RUNNING → NOTIFIED.
    fn schedule(self: Arc<Self>) {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            let next = match s {
                IDLE => SCHEDULED,
                RUNNING => NOTIFIED,
                _ => return,
            };
            match self.state.compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    if next == SCHEDULED {
                        trace_wake(self.id);
                        if let Some(shared) = self.shared.upgrade() {
                            shared.push_woken(self);
                        }
                    }
                    return;
                }
                Err(actual) => s = actual,
            }
        }
    }
}

/// Out of line: wakes run on task stacks, and `tracing` reads thread-locals
/// (crate rule 3).
#[inline(never)]
fn trace_wake(id: TaskId) {
    tracing::trace!(target: observability::names::SCHED, event = observability::names::event::WAKE, task.id = id.0);
}

impl Wake for TaskCell {
    fn wake(self: Arc<Self>) {
        self.schedule();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.clone().schedule();
    }
}

impl std::fmt::Debug for TaskCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskCell").field("id", &self.id).field("state", &self.state.load(Ordering::Relaxed)).finish()
    }
}
