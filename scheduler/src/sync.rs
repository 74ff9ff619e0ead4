//! The synchronisation primitives of the channel, the join cell and the task
//! state machine, switchable for model checking.
//!
//! In a normal build these are `parking_lot::Mutex` and `std`'s `Arc` and
//! atomics, re-exported as they are: no wrapper, no cost. Built with
//! `RUSTFLAGS="--cfg loom"` (see `scripts/loom.sh`) they are `loom`'s, so
//! the tests in `tests/loom_*.rs` can explore every interleaving of the
//! code that uses them. `loom`'s mutex is wrapped to keep `parking_lot`'s
//! `lock()` (a guard, not a `LockResult`).
//!
//! Only what the models need goes through here. The run queues, the worker
//! parking and the timer thread (`runtime.rs`, `timer.rs`) keep their own
//! types: they are tested by the ordinary tests, not by `loom`.
//!
//! Under `loom` these types work only inside `loom::model`: a loom build is
//! for the loom tests alone.

#[cfg(not(loom))]
pub(crate) use parking_lot::Mutex;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::AtomicU8;
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

#[cfg(loom)]
pub(crate) use loom::sync::atomic::AtomicU8;
#[cfg(loom)]
pub(crate) use loom::sync::Arc;
#[cfg(loom)]
pub(crate) use loom_mutex::Mutex;

#[cfg(loom)]
mod loom_mutex {
    /// `loom::sync::Mutex` with `parking_lot`'s API: `lock` returns the
    /// guard. A panic while the lock is held fails the model anyway, so a
    /// poisoned lock is simply taken.
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }
}
