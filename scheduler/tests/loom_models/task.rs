//! Models of the task state machine (`TaskState`, the transitions behind
//! `TaskCell`'s waker and the worker's `run_task`), alone and driving a
//! task that blocks on a real `Channel`.

use std::sync::Arc;
use std::task::{Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use scheduler::channel::{Channel, RecvPoll, WaiterId};
use scheduler::task::{State, TaskState};

use crate::{check, check_bounded};

/// A task reports `Blocked` while another thread wakes it: whichever order
/// the two take, exactly one of them queues the task (the waker when it
/// finds it IDLE, the worker when it finds it NOTIFIED), so the wake is
/// neither lost nor doubled.
#[test]
fn wake_racing_block_queues_once() {
    check(|| {
        let state = Arc::new(TaskState::new());
        state.start();
        let waker = {
            let state = state.clone();
            thread::spawn(move || state.wake())
        };
        let worker_queues = state.block();
        let waker_queues = waker.join().unwrap();
        assert!(worker_queues ^ waker_queues, "queued by worker: {worker_queues}, by waker: {waker_queues}");
        assert_eq!(state.get(), State::Scheduled);
    });
}

/// Two wakes racing with `Blocked`: still queued exactly once.
#[test]
fn double_wake_queues_once() {
    check(|| {
        let state = Arc::new(TaskState::new());
        state.start();
        let wakers: Vec<_> = (0..2)
            .map(|_| {
                let state = state.clone();
                thread::spawn(move || state.wake())
            })
            .collect();
        let mut queued = usize::from(state.block());
        for w in wakers {
            queued += usize::from(w.join().unwrap());
        }
        assert_eq!(queued, 1);
        assert_eq!(state.get(), State::Scheduled);
    });
}

/// Two wakes of a parked (IDLE) task: one queues it, the other sees it
/// SCHEDULED and does nothing.
#[test]
fn double_wake_of_parked_task_queues_once() {
    check(|| {
        let state = Arc::new(TaskState::new());
        state.start();
        assert!(!state.block());
        let other = {
            let state = state.clone();
            thread::spawn(move || state.wake())
        };
        let queued = usize::from(state.wake()) + usize::from(other.join().unwrap());
        assert_eq!(queued, 1);
        assert_eq!(state.get(), State::Scheduled);
    });
}

/// A wake racing with a budget yield (the worker queues the task itself)
/// never queues it a second time; one racing with the task's end never
/// queues a finished task.
#[test]
fn wake_racing_yield_or_finish_does_not_queue() {
    for finish in [false, true] {
        check(move || {
            let state = Arc::new(TaskState::new());
            state.start();
            let waker = {
                let state = state.clone();
                thread::spawn(move || state.wake())
            };
            if finish {
                state.finish();
            } else {
                state.yielded();
            }
            assert!(!waker.join().unwrap(), "a running task is queued by its worker, or not at all");
            assert_eq!(state.get(), if finish { State::Done } else { State::Scheduled });
        });
    }
}

/// One task, run by a model worker (the main thread) the way `run_task`
/// runs it, receiving from a real channel; its waker is the state machine
/// plus a one-slot run queue, as `TaskCell`'s is.
struct ModelTask {
    state: TaskState,
    /// Times the task sits in the run queue: 0 or 1.
    queued: AtomicUsize,
    worker: thread::Thread,
}

impl ModelTask {
    /// A new task, queued (as a spawn leaves it), run by this thread.
    fn spawned() -> Arc<ModelTask> {
        Arc::new(ModelTask { state: TaskState::new(), queued: AtomicUsize::new(1), worker: thread::current() })
    }

    fn push(&self) {
        let before = self.queued.fetch_add(1, Ordering::SeqCst);
        assert_eq!(before, 0, "task queued twice");
        self.worker.unpark();
    }
}

impl Wake for ModelTask {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.state.wake() {
            self.push();
        }
    }
}

/// Runs the task until it has received a value: take it from the queue
/// (or park until a waker queues it), start it, withdraw the previous
/// registration and poll the channel (the task's body), then finish or
/// report `Blocked`. Returns the value and how many times the task ran.
fn run_receiver(task: &Arc<ModelTask>, ch: &Channel<i32>) -> (i32, usize) {
    let waker = Waker::from(task.clone());
    let mut registered: Option<WaiterId> = None;
    let mut runs = 0;
    loop {
        if task.queued.load(Ordering::SeqCst) == 0 {
            // A lost wake-up parks this thread for good: `loom` reports
            // the deadlock.
            thread::park();
            continue;
        }
        task.queued.fetch_sub(1, Ordering::SeqCst);
        assert_eq!(task.state.get(), State::Scheduled, "a queued task is SCHEDULED");
        task.state.start();
        runs += 1;
        if let Some(id) = registered.take() {
            ch.unregister(id);
        }
        match ch.poll_recv(&waker) {
            RecvPoll::Ready(v) => {
                task.state.finish();
                return (v, runs);
            }
            RecvPoll::Closed => unreachable!("never closed"),
            RecvPoll::Pending(id) => {
                registered = Some(id);
                if task.state.block() {
                    task.push();
                }
            }
        }
    }
}

/// A task blocks on an empty channel while another thread sends: the send's
/// wake may come before the task registers, between its registration and
/// `Blocked` (RUNNING → NOTIFIED), or after it parked (IDLE → SCHEDULED).
/// In every order the task runs again and receives the value.
#[test]
fn blocked_receiver_task_is_always_rescheduled() {
    check(|| {
        let ch = Channel::new(1);
        let task = ModelTask::spawned();
        let tx = ch.clone();
        let sender = thread::spawn(move || tx.try_send(3).expect("room for one value"));
        let (got, runs) = run_receiver(&task, &ch);
        sender.join().unwrap();
        assert_eq!(got, 3);
        assert!(runs <= 2, "ran {runs} times for one wake-up");
        assert_eq!(task.state.get(), State::Done);
        assert_eq!(task.queued.load(Ordering::SeqCst), 0);
    });
}

/// The same with a second, unrelated wake (a cancel, a timer) racing with
/// the send: the task is never in the queue twice, and still receives.
///
/// Three threads and a retry loop: the full exploration takes about 30 s on
/// a 2-core machine, a bound of 5 preemptions about 2 s.
#[test]
fn extra_wake_racing_send_never_double_queues() {
    check_bounded(Some(5), || {
        let ch = Channel::new(1);
        let task = ModelTask::spawned();
        let tx = ch.clone();
        let sender = thread::spawn(move || tx.try_send(3).expect("room for one value"));
        let other = {
            let task = task.clone();
            thread::spawn(move || Waker::from(task).wake())
        };
        let (got, runs) = run_receiver(&task, &ch);
        sender.join().unwrap();
        other.join().unwrap();
        assert_eq!(got, 3);
        assert!(runs <= 3, "ran {runs} times for two wake-ups");
        assert_eq!(task.queued.load(Ordering::SeqCst), 0);
    });
}
