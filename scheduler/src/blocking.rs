//! The blocking pool: runs a closure that may block (file system calls, a
//! read of stdin) on a thread of the scheduler's tokio runtime (`io.rs`),
//! never on a worker, and wakes the task that waits for its result.
//!
//! A [`BlockingJob`] is the waiting side's handle: `poll` answers `Pending`
//! (registering a waker) until the job has ended, then hands its result over
//! exactly once. While a job is in flight the scheduler counts it as a
//! blocking operation, so idle workers are not taken for deadlocked; the
//! count goes down after the waiting task was woken.

use std::fmt;
use std::sync::Arc;
use std::task::{Poll, Waker};

use parking_lot::Mutex;

use crate::runtime::BlockingGuard;

/// Why a job gave no result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobError {
    /// The closure panicked (or the pool dropped it without running it).
    Failed,
    /// The result was already taken by an earlier `poll`.
    Taken,
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JobError::Failed => "a blocking job failed",
            JobError::Taken => "the result of a blocking job was already taken",
        })
    }
}

enum State<T> {
    Running(Option<Waker>),
    Done(Result<T, JobError>),
    Taken,
}

struct Slot<T> {
    state: Mutex<State<T>>,
}

/// A job submitted with [`crate::Runtime::spawn_blocking`].
pub struct BlockingJob<T> {
    slot: Arc<Slot<T>>,
}

impl<T> BlockingJob<T> {
    /// The job's result the first time it is asked for after the job ended
    /// (`Err(Taken)` after that). Until the job ends: `Pending`, and `waker`
    /// is woken when it does (it replaces the waker given before).
    pub fn poll(&self, waker: &Waker) -> Poll<Result<T, JobError>> {
        let mut st = self.slot.state.lock();
        match &mut *st {
            State::Running(w) => {
                if !w.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    *w = Some(waker.clone());
                }
                Poll::Pending
            }
            State::Taken => Poll::Ready(Err(JobError::Taken)),
            State::Done(_) => match std::mem::replace(&mut *st, State::Taken) {
                State::Done(r) => Poll::Ready(r),
                _ => unreachable!("matched Done above"),
            },
        }
    }

    /// Whether the job has ended (its result may have been taken).
    pub fn is_finished(&self) -> bool {
        !matches!(*self.slot.state.lock(), State::Running(_))
    }
}

impl<T> fmt::Debug for BlockingJob<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockingJob(finished: {})", self.is_finished())
    }
}

/// The pool's side: stores the result and wakes the waiter. Dropped without
/// a result (the closure panicked), it stores `JobError::Failed`. Its guard
/// is dropped last, after the wake.
pub(crate) struct Completer<T> {
    slot: Arc<Slot<T>>,
    _guard: BlockingGuard,
}

impl<T> Completer<T> {
    fn set(&self, r: Result<T, JobError>) {
        let waker = {
            let mut st = self.slot.state.lock();
            match std::mem::replace(&mut *st, State::Done(r)) {
                State::Running(w) => w,
                other => {
                    *st = other;
                    None
                }
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    pub(crate) fn finish(self, value: T) {
        self.set(Ok(value));
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        let running = matches!(*self.slot.state.lock(), State::Running(_));
        if running {
            self.set(Err(JobError::Failed));
        }
    }
}

/// A job's two ends, the waiter's and the pool's.
pub(crate) fn pair<T>(waker: Waker, guard: BlockingGuard) -> (BlockingJob<T>, Completer<T>) {
    let slot = Arc::new(Slot { state: Mutex::new(State::Running(Some(waker))) });
    (BlockingJob { slot: slot.clone() }, Completer { slot, _guard: guard })
}
