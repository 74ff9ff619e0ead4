//! `loom` models of the scheduler's wake-up core: the channel, the join
//! cell and the task state machine. Each test runs its closure under every
//! interleaving `loom` can produce (one model under a preemption bound, see
//! [`check_bounded`]), with the crate's own code built on `loom`'s mutex and
//! atomics (`src/sync.rs`).
//!
//! A blocked party waits the way a worker parks a task: it registers a waker
//! and calls `loom::thread::park`. A lost wake-up therefore leaves a thread
//! parked forever, which `loom` reports as a deadlock and fails the test.
//!
//! Built only with `RUSTFLAGS="--cfg loom"`; run with `scripts/loom.sh`.
//! In an ordinary build this test target is empty.
#![cfg(loom)]

mod channel;
mod join;
mod task;

use std::sync::Arc;
use std::task::{Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering};
use scheduler::channel::{Channel, RecvPoll, SendPoll};

/// Checks `f` under every interleaving `loom` can produce. Each model here
/// is small enough to explore exhaustively in well under two seconds.
/// `LOOM_MAX_PREEMPTIONS=N` bounds the exploration to N forced thread
/// switches per execution (faster, weaker).
pub fn check(f: impl Fn() + Sync + Send + 'static) {
    check_bounded(None, f);
}

/// Like [`check`], with at most `bound` forced thread switches per execution
/// unless `LOOM_MAX_PREEMPTIONS` says otherwise: for a model too large to
/// explore exhaustively in seconds. Bugs that need more forced switches than
/// a small bound are rare (see `loom`'s documentation);
/// `LOOM_MAX_PREEMPTIONS=255` explores such a model in full.
pub fn check_bounded(bound: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = bound;
    }
    // What `loom::model` sets up: `LOOM_LOG=trace` prints each execution,
    // `LOOM_LOG=info` the number of executions explored.
    let log = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("LOOM_LOG"))
        .with_test_writer()
        .without_time()
        .finish();
    tracing::subscriber::with_default(log, || builder.check(f));
}

/// A waker for the `loom` thread that made it: counts its wakes and unparks
/// that thread.
pub struct Unparker {
    thread: loom::thread::Thread,
    wakes: AtomicUsize,
}

impl Unparker {
    pub fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// A waker that unparks the current `loom` thread.
pub fn thread_waker() -> (Arc<Unparker>, Waker) {
    let u = Arc::new(Unparker { thread: loom::thread::current(), wakes: AtomicUsize::new(0) });
    (u.clone(), Waker::from(u))
}

/// A waker that only counts: for a registration whose owner never parks
/// (a `select` that gives up, a timed-out `await`).
pub struct Flag(AtomicUsize);

impl Flag {
    pub fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

pub fn flag_waker() -> (Arc<Flag>, Waker) {
    let f = Arc::new(Flag(AtomicUsize::new(0)));
    (f.clone(), Waker::from(f))
}

/// `receive` as `runtime/src/builtins/concurrency.rs` does it: poll, and
/// when pending wait (park) for the wake, withdraw the registration, poll
/// again. `None` once the channel is closed and drained.
pub fn recv_blocking<T>(ch: &Channel<T>, waker: &Waker) -> Option<T> {
    loop {
        match ch.poll_recv(waker) {
            RecvPoll::Ready(v) => return Some(v),
            RecvPoll::Closed => return None,
            RecvPoll::Pending(id) => {
                loom::thread::park();
                ch.unregister(id);
            }
        }
    }
}

/// `receive` as the VM's `ChanRecv` does it: after a wake, withdraw and
/// poll again under one lock (`repoll_recv`). `None` once closed and drained.
pub fn recv_repolling<T>(ch: &Channel<T>, waker: &Waker) -> Option<T> {
    let mut poll = ch.poll_recv(waker);
    loop {
        match poll {
            RecvPoll::Ready(v) => return Some(v),
            RecvPoll::Closed => return None,
            RecvPoll::Pending(id) => {
                loom::thread::park();
                poll = ch.repoll_recv(id, waker);
            }
        }
    }
}

/// `send` as the VM's `ChanSend` does it (see `recv_repolling`).
/// `Err(value)` when the channel is closed.
pub fn send_repolling<T>(ch: &Channel<T>, value: T, waker: &Waker) -> Result<(), T> {
    let mut poll = ch.poll_send(value, waker);
    loop {
        match poll {
            SendPoll::Sent => return Ok(()),
            SendPoll::Closed(v) => return Err(v),
            SendPoll::Pending(back, id) => {
                loom::thread::park();
                poll = ch.repoll_send(id, back, waker);
            }
        }
    }
}

/// `send` the same way. `Err(value)` when the channel is closed.
pub fn send_blocking<T>(ch: &Channel<T>, mut value: T, waker: &Waker) -> Result<(), T> {
    loop {
        match ch.poll_send(value, waker) {
            SendPoll::Sent => return Ok(()),
            SendPoll::Closed(v) => return Err(v),
            SendPoll::Pending(v, id) => {
                value = v;
                loom::thread::park();
                ch.unregister(id);
            }
        }
    }
}
