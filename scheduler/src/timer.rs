//! The timer thread behind `wait`, `await_timeout` and `select` timeouts.
//!
//! Started on first use. Timers live in a binary heap ordered by deadline;
//! cancelled ones are removed from the entry map and skipped when they come
//! up. `pending` counts armed timers: while it is non-zero, idle workers are
//! not deadlocked (something will still happen).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Weak;
use std::task::Waker;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::runtime::Shared;

/// Identifies an armed timer, for cancellation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerKey(u64);

#[derive(Default)]
struct State {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    wakers: HashMap<u64, Waker>,
    next: u64,
    thread_started: bool,
}

pub(crate) struct TimerService {
    state: Mutex<State>,
    changed: Condvar,
    pending: AtomicUsize,
    shared: Weak<Shared>,
}

impl TimerService {
    pub(crate) fn new(shared: Weak<Shared>) -> TimerService {
        TimerService {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            pending: AtomicUsize::new(0),
            shared,
        }
    }

    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    pub(crate) fn add(&self, deadline: Instant, waker: Waker) -> TimerKey {
        let mut st = self.state.lock();
        let id = st.next;
        st.next += 1;
        st.heap.push(Reverse((deadline, id)));
        st.wakers.insert(id, waker);
        self.pending.fetch_add(1, Ordering::SeqCst);
        if !st.thread_started {
            st.thread_started = true;
            let shared = self.shared.clone();
            let started = std::thread::Builder::new().name("forge-timer".into()).spawn(move || timer_loop(shared));
            if started.is_err() {
                st.thread_started = false;
            }
        }
        self.changed.notify_one();
        TimerKey(id)
    }

    pub(crate) fn cancel(&self, key: TimerKey) {
        let removed = self.state.lock().wakers.remove(&key.0).is_some();
        if removed {
            self.fired();
        }
    }

    /// One timer fewer is pending; an idle runtime may now be deadlocked.
    /// Called after the timer's waker ran, so a woken task is already queued
    /// when a parked worker sees `pending` drop (see runtime.rs `park`).
    fn fired(&self) {
        self.pending.fetch_sub(1, Ordering::SeqCst);
        if let Some(shared) = self.shared.upgrade() {
            shared.nudge();
        }
    }
}

fn timer_loop(shared: Weak<Shared>) {
    loop {
        let Some(sh) = shared.upgrade() else { return };
        let timers = &sh.timers;
        let mut due = Vec::new();
        {
            let mut st = timers.state.lock();
            let now = Instant::now();
            while let Some(Reverse((deadline, id))) = st.heap.peek().copied() {
                if deadline > now {
                    break;
                }
                st.heap.pop();
                if let Some(w) = st.wakers.remove(&id) {
                    due.push(w);
                }
            }
            if due.is_empty() {
                match st.heap.peek().copied() {
                    Some(Reverse((deadline, _))) => {
                        timers.changed.wait_until(&mut st, deadline);
                    }
                    None => {
                        timers.changed.wait_for(&mut st, std::time::Duration::from_secs(1));
                    }
                }
                continue;
            }
        }
        for w in due {
            w.wake();
            timers.fired();
        }
    }
}
