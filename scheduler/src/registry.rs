//! The table of live tasks (strong references: a blocked task nobody can
//! wake is still live, and a deadlock report must list it). Spawn inserts;
//! deadlock reports and task dumps read it.
//!
//! A finished task leaves lazily: the worker that ran it only takes it off
//! the live count, and the slot is reclaimed when a spawn next sweeps that
//! shard (a shard is swept when it has grown to twice what survived its
//! last sweep, so sweeping costs O(1) per spawn). Removing it at once made
//! the finishing worker write the shard the spawning worker was writing: a
//! cache line passed back and forth per task, and on two workers, spawning
//! ran up to twice as slow. Reports skip finished tasks.
//!
//! Sharded by task id so that workers spawning in parallel rarely contend;
//! slots are reused through per-shard free lists.
//!
//! The registry also enforces the live-task limit (`FORGE_MAX_TASKS`, see
//! `runtime.rs`): a spawn first reserves a place with [`Registry::try_reserve`]
//! and only then builds its task, so a refused spawn costs nothing.
//!
//! A snapshot is not atomic: each task's state is read on its own, so a task
//! may change state while the snapshot is taken. Each line is true of the
//! moment it was read, which is all a dump or a deadlock report needs (a
//! deadlock report is taken when nothing can change any more).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_utils::CachePadded;
use parking_lot::Mutex;

use crate::task::{State, TaskCell, TaskId};
use crate::wait::WaitReason;

const SHARDS: usize = 16;

/// Each shard and the live count on a cache line of its own: a spawning
/// worker inserts into one shard while the worker that finished a task
/// removes it from another, and neighbours on one line would pass it back
/// and forth between them.
pub struct Registry {
    shards: [CachePadded<Mutex<Slots>>; SHARDS],
    live: CachePadded<AtomicUsize>,
    peak: AtomicUsize,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            shards: std::array::from_fn(|_| CachePadded::new(Mutex::new(Slots::default()))),
            live: CachePadded::new(AtomicUsize::new(0)),
            peak: AtomicUsize::new(0),
        }
    }
}

#[derive(Default)]
struct Slots {
    /// Tasks left after the last sweep: the next sweep waits for twice as
    /// many slots.
    survivors: usize,
    slots: Vec<Option<Arc<TaskCell>>>,
    free: Vec<usize>,
}

/// What a live task is doing, as a dump shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// On a worker right now (`RUNNING`, or `NOTIFIED`: woken while running).
    Running,
    /// In a run queue, waiting for a worker (`SCHEDULED`).
    Runnable,
    /// Blocked until something wakes it (`IDLE`); `TaskInfo::waiting_on`
    /// says on what.
    Parked,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Runnable => "runnable",
            RunState::Parked => "parked",
        }
    }
}

/// One line of a task dump.
#[derive(Clone, Debug)]
pub struct TaskInfo {
    pub id: TaskId,
    pub name: Option<Arc<str>>,
    pub state: RunState,
    /// What a parked task waits on; `None` when the task is runnable or
    /// running (or parked for a reason it did not give).
    pub waiting_on: Option<WaitReason>,
}

/// A spawn was refused: `limit` tasks are live already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskLimit {
    pub limit: usize,
}

impl std::fmt::Display for TaskLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "live task limit reached ({} tasks; set FORGE_MAX_TASKS to raise it)", self.limit)
    }
}

impl std::error::Error for TaskLimit {}

impl Registry {
    /// Takes one place among at most `limit` live tasks, for a task about to
    /// be built and [`insert`](Registry::insert)ed.
    pub fn try_reserve(&self, limit: usize) -> Result<(), TaskLimit> {
        self.live
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| if n < limit { Some(n + 1) } else { None })
            .map(|_| ())
            .map_err(|_| TaskLimit { limit })
    }

    /// Records a task whose place was reserved by `try_reserve`.
    pub fn insert(&self, task: &Arc<TaskCell>) {
        let shard = task.id.0 as usize % SHARDS;
        let mut s = self.shards[shard].lock();
        if s.free.is_empty() && s.slots.len() >= 2 * s.survivors.max(8) {
            s.sweep();
        }
        match s.free.pop() {
            Some(i) => s.slots[i] = Some(task.clone()),
            None => s.slots.push(Some(task.clone())),
        }
        drop(s);
        // A write only for a new peak: the line is shared by every worker.
        let live = self.live.load(Ordering::Relaxed);
        if live > self.peak.load(Ordering::Relaxed) {
            self.peak.fetch_max(live, Ordering::Relaxed);
        }
    }

    /// A task finished: its place among the live tasks is free now; its
    /// slot is reclaimed by a later sweep.
    pub fn finished(&self) {
        self.live.fetch_sub(1, Ordering::AcqRel);
    }

    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Every live task, ordered by id. A task that finished while the
    /// snapshot was taken is left out.
    pub fn snapshot(&self) -> Vec<TaskInfo> {
        let mut tasks: Vec<Arc<TaskCell>> = Vec::new();
        for shard in &self.shards {
            tasks.extend(shard.lock().slots.iter().flatten().cloned());
        }
        let mut out: Vec<TaskInfo> = tasks.iter().filter_map(|t| info(t)).collect();
        out.sort_by_key(|t| t.id);
        out
    }
}

impl Slots {
    /// Frees the slots of finished tasks.
    fn sweep(&mut self) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(|t| t.state.get() == State::Done) {
                *slot = None;
                self.free.push(i);
            }
        }
        self.survivors = self.slots.len() - self.free.len();
    }
}

/// The dump line of one task, from its state machine (see `task.rs`).
fn info(t: &TaskCell) -> Option<TaskInfo> {
    let (state, waiting_on) = match t.state.get() {
        State::Running | State::Notified => (RunState::Running, None),
        State::Scheduled => (RunState::Runnable, None),
        // A parked task's reason is written before it becomes IDLE.
        // `wait_reason` reads the state again: a task woken in between is
        // already queued, so "runnable" is true of it.
        State::Idle => match t.wait_reason() {
            Some(r) => (RunState::Parked, Some(r)),
            None => (RunState::Runnable, None),
        },
        State::Done => return None,
    };
    Some(TaskInfo { id: t.id, name: t.name.as_deref().cloned(), state, waiting_on })
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::{Arc, Weak};

    use super::*;
    use crate::task::{RunResult, Task, TaskRef};

    struct Idle;
    impl Task for Idle {
        fn run(&mut self, _me: &TaskRef) -> RunResult {
            RunResult::Finished
        }
    }

    fn task(id: u64) -> Arc<TaskCell> {
        Arc::new(TaskCell::new(TaskId(id), None, false, Box::new(Idle), Weak::new()))
    }

    fn finish(r: &Registry, t: &TaskCell) {
        t.state.start();
        t.state.finish();
        r.finished();
    }

    #[test]
    fn finished_tasks_leave_reports_at_once_and_slots_on_a_sweep() {
        let r = Registry::default();
        let tasks: Vec<_> = (0..64).map(task).collect();
        for t in &tasks {
            r.try_reserve(1000).unwrap();
            r.insert(t);
        }
        assert_eq!((r.live(), r.peak()), (64, 64));
        for t in tasks.iter().step_by(2) {
            finish(&r, t);
        }
        assert_eq!(r.live(), 32);
        let listed: Vec<u64> = r.snapshot().iter().map(|i| i.id.0).collect();
        assert_eq!(listed, (1..64).step_by(2).collect::<Vec<u64>>(), "finished tasks are not reported");
        // The registry let go of the finished ones only when a shard was
        // swept: spawn until every shard has been.
        let more: Vec<_> = (64..64 + 16 * 16).map(task).collect();
        for t in &more {
            r.try_reserve(1000).unwrap();
            r.insert(t);
        }
        for t in tasks.iter().step_by(2) {
            assert_eq!(Arc::strong_count(t), 1, "task {} is still held", t.id.0);
        }
        for t in tasks.iter().skip(1).step_by(2) {
            assert_eq!(Arc::strong_count(t), 2, "a live task stays registered");
        }
        assert_eq!(r.snapshot().len(), 32 + more.len());
    }

    #[test]
    fn the_limit_counts_live_tasks_only() {
        let r = Registry::default();
        let a = task(1);
        r.try_reserve(1).unwrap();
        r.insert(&a);
        assert_eq!(r.try_reserve(1), Err(TaskLimit { limit: 1 }));
        finish(&r, &a);
        r.try_reserve(1).expect("a finished task frees its place at once");
    }
}
