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
//!
//! The transitions themselves are [`TaskState`]'s methods: the waker calls
//! [`TaskState::wake`], the worker [`TaskState::start`], [`TaskState::block`],
//! [`TaskState::yielded`] and [`TaskState::finish`]. Its atomic comes from
//! `sync.rs`, so the `loom` models (`tests/loom_models/task.rs`) check
//! this very code.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Wake, Waker};

use parking_lot::Mutex;

use crate::runtime::Shared;
use crate::sync::AtomicU8;
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

const IDLE: u8 = 0;
const SCHEDULED: u8 = 1;
const RUNNING: u8 = 2;
const NOTIFIED: u8 = 3;
const DONE: u8 = 4;

/// Where a task is in its life cycle (see the diagram above).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Blocked; the next wake queues it.
    Idle,
    /// In a run queue (or about to be pushed to one).
    Scheduled,
    /// On a worker.
    Running,
    /// On a worker, and woken since it started: it runs again.
    Notified,
    /// Finished; wakes are ignored.
    Done,
}

/// A task's state machine: one atomic, moved by the task's wakers and by
/// the worker running it.
///
/// The worker owns every transition out of RUNNING and NOTIFIED; wakers only
/// move IDLE → SCHEDULED and RUNNING → NOTIFIED. So exactly one party queues
/// the task after each wake: the waker when it finds it IDLE, the worker
/// when it finds it NOTIFIED after a `Blocked`. Public so that the `loom`
/// models in `tests/` can drive it; the runtime uses it through `TaskCell`.
pub struct TaskState(AtomicU8);

impl Default for TaskState {
    fn default() -> Self {
        TaskState::new()
    }
}

impl TaskState {
    /// A new task's state: SCHEDULED, since spawning queues it.
    pub fn new() -> TaskState {
        TaskState(AtomicU8::new(SCHEDULED))
    }

    /// The current state; a snapshot, since wakers may move it at any time.
    pub fn get(&self) -> State {
        match self.0.load(Ordering::Acquire) {
            IDLE => State::Idle,
            SCHEDULED => State::Scheduled,
            RUNNING => State::Running,
            NOTIFIED => State::Notified,
            _ => State::Done,
        }
    }

    /// A wake: IDLE → SCHEDULED, and `true` (the caller must queue the
    /// task), or RUNNING → NOTIFIED, and `false` (the worker will queue it).
    /// In any other state the task is queued or finished already: `false`.
    pub fn wake(&self) -> bool {
        let mut s = self.0.load(Ordering::Acquire);
        loop {
            let next = match s {
                IDLE => SCHEDULED,
                RUNNING => NOTIFIED,
                _ => return false,
            };
            match self.0.compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return next == SCHEDULED,
                Err(actual) => s = actual,
            }
        }
    }

    /// A worker took the task from a queue: SCHEDULED → RUNNING.
    pub fn start(&self) {
        self.0.store(RUNNING, Ordering::Release);
    }

    /// The task reported `Blocked` (its wakers registered, its body put
    /// back): RUNNING → IDLE, and `false`. If it was woken while running
    /// (NOTIFIED) it goes to SCHEDULED instead and `true` tells the worker
    /// to queue it again: that wake is not lost.
    pub fn block(&self) -> bool {
        match self.0.compare_exchange(RUNNING, IDLE, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => false,
            Err(actual) => {
                debug_assert_eq!(actual, NOTIFIED);
                self.0.store(SCHEDULED, Ordering::Release);
                true
            }
        }
    }

    /// The task used up its budget (body put back): → SCHEDULED; the
    /// caller queues it. A wake in the meantime (NOTIFIED) needs nothing
    /// more, since the task runs again anyway.
    pub fn yielded(&self) {
        self.leave_running(SCHEDULED);
    }

    /// The task finished: → DONE. Later wakes do nothing.
    pub fn finish(&self) {
        self.leave_running(DONE);
    }

    /// RUNNING or NOTIFIED → `next`, while a waker may be moving RUNNING →
    /// NOTIFIED. A swap rather than a store: it happens once per budget
    /// slice or once per task, so it costs nothing measurable, debug builds
    /// can check the state it leaves, and `loom` models it exactly. (loom
    /// 0.7 may order a plain store between the read and the write of a
    /// concurrent compare-exchange, which the memory model forbids:
    /// tokio-rs/loom#254. With a store here it reports a wake lost to a
    /// NOTIFIED written after the store, an execution that cannot happen.)
    fn leave_running(&self, next: u8) {
        let before = self.0.swap(next, Ordering::AcqRel);
        debug_assert!(matches!(before, RUNNING | NOTIFIED), "left state {before} for {next}");
    }
}

impl std::fmt::Debug for TaskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

pub struct TaskCell {
    pub(crate) id: TaskId,
    /// Boxed: only the main task has a name, and a thin pointer keeps
    /// every other task's cell a word smaller.
    #[allow(clippy::redundant_allocation)]
    pub(crate) name: Option<Box<Arc<str>>>,
    pub(crate) state: TaskState,
    cancelled: AtomicBool,
    pub(crate) is_main: bool,
    /// The body while the task is not running, and what it waits on while
    /// it is blocked: one lock, taken once when a worker starts the task
    /// and once when it puts the task back.
    pub(crate) slot: Mutex<Slot>,
    pub(crate) shared: Weak<Shared>,
}

/// A task's body and wait reason, under `TaskCell::slot`.
pub(crate) struct Slot {
    pub(crate) body: Option<Box<dyn Task>>,
    pub(crate) wait: Option<WaitReason>,
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
            name: name.map(Box::new),
            state: TaskState::new(),
            cancelled: AtomicBool::new(false),
            is_main,
            slot: Mutex::new(Slot { body: Some(body), wait: None }),
            shared,
        }
    }

    pub fn id(&self) -> TaskId {
        self.id
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref().map(|n| &**n)
    }

    /// The runtime this task belongs to, while it runs (so a task body
    /// need not keep its own reference).
    pub fn runtime(&self) -> Option<crate::Runtime> {
        self.shared.upgrade().map(crate::Runtime::from_shared)
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
        self.state.get() == State::Done
    }

    /// What the task waits on, if it is blocked.
    pub fn wait_reason(&self) -> Option<WaitReason> {
        if self.state.get() == State::Idle {
            self.slot.lock().wait.clone()
        } else {
            None
        }
    }

    /// Moves IDLE → SCHEDULED (and queues the task: in the LIFO slot of the
    /// worker this runs on, else in the injector) or RUNNING → NOTIFIED.
    fn schedule(self: Arc<Self>) {
        if self.state.wake() {
            trace_wake(self.id);
            let owner = self.shared.as_ptr();
            if let Err(me) = crate::runtime::try_push_lifo(owner, self) {
                if let Some(shared) = me.shared.upgrade() {
                    shared.push_woken_remote(me);
                }
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
        f.debug_struct("TaskCell").field("id", &self.id).field("state", &self.state).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The transitions one at a time; `tests/loom_models/task.rs` checks
    /// them racing.
    #[test]
    fn state_machine_transitions() {
        let s = TaskState::new();
        assert_eq!(s.get(), State::Scheduled);
        assert!(!s.wake(), "a queued task is not queued again");

        s.start();
        assert!(!s.block(), "blocked without a wake: parked");
        assert_eq!(s.get(), State::Idle);
        assert!(s.wake(), "the wake of a parked task queues it");
        assert!(!s.wake());
        assert_eq!(s.get(), State::Scheduled);

        s.start();
        assert!(!s.wake(), "a running task is queued by its worker");
        assert_eq!(s.get(), State::Notified);
        assert!(s.block(), "woken while running: queued again at once");
        assert_eq!(s.get(), State::Scheduled);

        s.start();
        assert!(!s.wake());
        s.yielded();
        assert_eq!(s.get(), State::Scheduled);

        s.start();
        s.finish();
        assert_eq!(s.get(), State::Done);
        assert!(!s.wake(), "a finished task is never queued");
        assert_eq!(s.get(), State::Done);
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn a_task_cell_fits_its_allocator_size_class() {
        // With the `Arc`'s two counters, a cell of up to 96 bytes takes
        // mimalloc's 112-byte class; one more word would take 128 for
        // every task (a parked task's size is a benchmark figure).
        assert!(std::mem::size_of::<super::TaskCell>() <= 96, "{}", std::mem::size_of::<super::TaskCell>());
    }
}
