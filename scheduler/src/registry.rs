//! The table of live tasks (strong references: a blocked task nobody can
//! wake is still live, and a deadlock report must list it). Spawn inserts,
//! finish removes; deadlock reports and task dumps read it.
//!
//! Sharded by task id so that workers spawning and finishing tasks in
//! parallel rarely contend; slots are reused through per-shard free lists.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::task::{TaskCell, TaskId};
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

/// One line of a task dump.
#[derive(Clone, Debug)]
pub struct TaskInfo {
    pub id: TaskId,
    pub name: Option<Arc<str>>,
    /// `None` when the task is runnable or running.
    pub waiting_on: Option<WaitReason>,
}

impl Registry {
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
        let live = self.live.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(live, Ordering::Relaxed);
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
                self.live.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Every live task, ordered by id.
    pub fn snapshot(&self) -> Vec<TaskInfo> {
        let mut tasks: Vec<Arc<TaskCell>> = Vec::new();
        for shard in &self.shards {
            tasks.extend(shard.lock().slots.iter().flatten().cloned());
        }
        let mut out: Vec<TaskInfo> =
            tasks.iter().map(|t| TaskInfo { id: t.id, name: t.name.clone(), waiting_on: t.wait_reason() }).collect();
        out.sort_by_key(|t| t.id);
        out
    }
}
