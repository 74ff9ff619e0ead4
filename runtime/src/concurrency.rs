//! The runtime's side of concurrency: channel and task-handle values.
//!
//! Channels are the scheduler's generic channels carrying `Value`s (values
//! are detached before they are sent, see `value/detach.rs`). A task handle
//! pairs the scheduler's task (for cancellation) with the join cell where the
//! task leaves its result.
//!
//! Both tiers word a refused spawn the same way ([`spawn_refused`]).

use std::sync::Arc;

use crate::error::{Ctrl, ForgeError};
use crate::message::Message;

pub type ChannelRef = scheduler::Channel<Message>;

/// How a task ended: its value, or the error that ended it.
pub type TaskOutcome = Result<Message, Arc<ForgeError>>;

#[derive(Debug)]
pub struct TaskHandle {
    pub task: scheduler::TaskRef,
    pub result: scheduler::JoinCell<TaskOutcome>,
}

impl TaskHandle {
    pub fn id(&self) -> scheduler::TaskId {
        self.task.id()
    }
}

/// The error of a `spawn` refused by the live-task limit (`FORGE_MAX_TASKS`),
/// raised in the spawning task at the `spawn`.
pub fn spawn_refused(limit: scheduler::TaskLimit) -> Ctrl {
    Ctrl::runtime(format!("cannot start a task: {limit}"))
}
