//! The table of live tasks (strong references: a blocked task nobody can
//! wake is still live, and a deadlock report must list it). Spawn inserts,
//! finish removes; deadlock reports and task dumps read it.
//!
//! Sharded by task id so that workers spawning and finishing tasks in
//! parallel rarely contend; slots are reused through per-shard free lists.
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

use parking_lot::Mutex;

use crate::task::{State, TaskCell, TaskId};
use crate::wait::WaitReason;

const SHARDS: usize = 16;

pub struct Registry {
    shards: [Mutex<Slots>; SHARDS],
    live: AtomicUsize,
    peak: AtomicUsize,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            shards: std::array::from_fn(|_| Mutex::new(Slots::default())),
            live: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }
}

#[derive(Default)]
struct Slots {
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
        let index = match s.free.pop() {
            Some(i) => {
                s.slots[i] = Some(task.clone());
                i
            }
            None => {
                s.slots.push(Some(task.clone()));
                s.slots.len() - 1
            }
        };
        drop(s);
        task.registry_slot.store(index * SHARDS + shard, Ordering::Release);
        self.peak.fetch_max(self.live.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    pub fn remove(&self, task: &TaskCell) {
        let slot = task.registry_slot.swap(usize::MAX, Ordering::AcqRel);
        if slot == usize::MAX {
            return;
        }
        let (index, shard) = (slot / SHARDS, slot % SHARDS);
        let mut s = self.shards[shard].lock();
        if let Some(entry) = s.slots.get_mut(index) {
            if entry.take().is_some() {
                s.free.push(index);
                self.live.fetch_sub(1, Ordering::AcqRel);
            }
        }
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
    Some(TaskInfo { id: t.id, name: t.name.clone(), state, waiting_on })
}
