//! The table of live tasks (strong references: a blocked task nobody can
//! wake is still live, and a deadlock report must list it). Spawn inserts,
//! finish removes; deadlock reports
//! and task dumps read it. Slots are reused through a free list, so the
//! table never grows past the peak number of live tasks.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::task::{TaskCell, TaskId};
use crate::wait::WaitReason;

#[derive(Default)]
pub struct Registry {
    inner: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    slots: Vec<Option<Arc<TaskCell>>>,
    free: Vec<usize>,
    live: usize,
    peak: usize,
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
        let mut s = self.inner.lock();
        let slot = match s.free.pop() {
            Some(i) => {
                s.slots[i] = Some(task.clone());
                i
            }
            None => {
                s.slots.push(Some(task.clone()));
                s.slots.len() - 1
            }
        };
        s.live += 1;
        s.peak = s.peak.max(s.live);
        task.registry_slot.store(slot, Ordering::Release);
    }

    pub fn remove(&self, task: &TaskCell) {
        let slot = task.registry_slot.swap(usize::MAX, Ordering::AcqRel);
        if slot == usize::MAX {
            return;
        }
        let mut s = self.inner.lock();
        if let Some(entry) = s.slots.get_mut(slot) {
            *entry = None;
            s.free.push(slot);
            s.live -= 1;
        }
    }

    pub fn live(&self) -> usize {
        self.inner.lock().live
    }

    pub fn peak(&self) -> usize {
        self.inner.lock().peak
    }

    /// Every live task, ordered by id.
    pub fn snapshot(&self) -> Vec<TaskInfo> {
        let tasks: Vec<Arc<TaskCell>> = self.inner.lock().slots.iter().flatten().cloned().collect();
        let mut out: Vec<TaskInfo> =
            tasks.iter().map(|t| TaskInfo { id: t.id, name: t.name.clone(), waiting_on: t.wait_reason() }).collect();
        out.sort_by_key(|t| t.id);
        out
    }
}
