//! Timers behind `wait`, `await_timeout` and `select` timeouts: each one is
//! a task on the scheduler's tokio runtime (`io.rs`) that sleeps until its
//! deadline, then wakes a `Waker`.
//!
//! Cancelling aborts that task, which drops its sleep (the entry leaves
//! tokio's timer wheel). The scheduler counts armed timers: while one is
//! armed, idle workers are not deadlocked (something will still happen).
//! The count goes down when the timer's task ends — after its waker ran, so
//! a parked worker that sees the count drop already finds the woken task in
//! a queue — or when it is dropped by a cancel.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::task::Waker;
use std::time::Instant;

use crate::io::IoRuntime;
use crate::runtime::Shared;

/// An armed timer, for cancellation.
#[derive(Debug)]
pub struct TimerKey(tokio::task::AbortHandle);

impl TimerKey {
    /// Whether the timer fired or was cancelled.
    pub fn is_done(&self) -> bool {
        self.0.is_finished()
    }
}

/// Counts one armed timer for as long as it lives.
struct Armed(Weak<Shared>);

impl Drop for Armed {
    fn drop(&mut self) {
        if let Some(shared) = self.0.upgrade() {
            shared.timers_pending.fetch_sub(1, Ordering::SeqCst);
            shared.nudge();
        }
    }
}

pub(crate) fn arm(shared: &Arc<Shared>, io: &IoRuntime, deadline: Instant, waker: Waker) -> TimerKey {
    shared.timers_pending.fetch_add(1, Ordering::SeqCst);
    let armed = Armed(Arc::downgrade(shared));
    let task = io.handle.spawn(async move {
        let _armed = armed;
        tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await;
        waker.wake();
    });
    TimerKey(task.abort_handle())
}

pub(crate) fn cancel(key: TimerKey) {
    key.0.abort();
}
