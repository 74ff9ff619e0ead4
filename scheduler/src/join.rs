//! Join cells: where a task leaves its result for every awaiter.
//!
//! The result is written once; awaiting before that registers a waker.
//! Every awaiter gets its own clone of the result, so awaiting twice yields
//! the same value (FORGE.md §8).

use std::task::Waker;

use crate::sync::{Arc, Mutex};

struct State<T> {
    result: Option<T>,
    waiters: Vec<(u64, Waker)>,
    next_id: u64,
}

pub struct JoinCell<T> {
    state: Arc<Mutex<State<T>>>,
}

impl<T> Clone for JoinCell<T> {
    fn clone(&self) -> Self {
        JoinCell { state: self.state.clone() }
    }
}

impl<T> Default for JoinCell<T> {
    fn default() -> Self {
        JoinCell { state: Arc::new(Mutex::new(State { result: None, waiters: Vec::new(), next_id: 0 })) }
    }
}

impl<T> std::fmt::Debug for JoinCell<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JoinCell")
    }
}

/// Result of polling a join cell.
pub enum JoinPoll<T> {
    Ready(T),
    /// Not finished: the waker is registered under this id.
    Pending(u64),
}

impl<T: Clone> JoinCell<T> {
    pub fn new() -> JoinCell<T> {
        JoinCell::default()
    }

    /// Stores the result (first call wins) and wakes every awaiter.
    pub fn complete(&self, value: T) {
        let mut st = self.state.lock();
        if st.result.is_some() {
            return;
        }
        st.result = Some(value);
        let waiters = std::mem::take(&mut st.waiters);
        drop(st);
        for (_, w) in waiters {
            w.wake();
        }
    }

    pub fn try_get(&self) -> Option<T> {
        self.state.lock().result.clone()
    }

    pub fn is_done(&self) -> bool {
        self.state.lock().result.is_some()
    }

    /// The result if there is one; otherwise registers `waker`.
    pub fn poll(&self, waker: &Waker) -> JoinPoll<T> {
        let mut st = self.state.lock();
        if let Some(v) = &st.result {
            return JoinPoll::Ready(v.clone());
        }
        let id = st.next_id;
        st.next_id += 1;
        st.waiters.push((id, waker.clone()));
        JoinPoll::Pending(id)
    }

    /// Withdraws a registration (after a timeout).
    pub fn unregister(&self, id: u64) {
        self.state.lock().waiters.retain(|(i, _)| *i != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct CountWake(AtomicUsize);
    impl Wake for CountWake {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn every_awaiter_sees_the_result() {
        let cell = JoinCell::new();
        let c = Arc::new(CountWake(AtomicUsize::new(0)));
        let w = Waker::from(c.clone());
        assert!(matches!(cell.poll(&w), JoinPoll::Pending(_)));
        assert!(matches!(cell.poll(&w), JoinPoll::Pending(_)));
        cell.complete(5);
        assert_eq!(c.0.load(Ordering::SeqCst), 2);
        assert!(matches!(cell.poll(&w), JoinPoll::Ready(5)));
        cell.complete(6);
        assert_eq!(cell.try_get(), Some(5));
    }
}
