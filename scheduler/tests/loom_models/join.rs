//! Models of `JoinCell`: completion racing with awaiters that register and
//! park, and with an awaiter that withdraws (a timed-out `await_timeout`).

use loom::thread;
use scheduler::join::{JoinCell, JoinPoll};

use crate::{check, flag_waker, thread_waker};

/// `await` as `runtime/src/builtins/concurrency.rs` does it: poll, park
/// while pending.
fn await_blocking(cell: &JoinCell<i32>) -> i32 {
    let (_, waker) = thread_waker();
    loop {
        match cell.poll(&waker) {
            JoinPoll::Ready(v) => return v,
            JoinPoll::Pending(_) => thread::park(),
        }
    }
}

/// `complete` racing with an awaiter that registers and parks: the awaiter
/// always gets the result.
#[test]
fn complete_racing_awaiter() {
    check(|| {
        let cell = JoinCell::new();
        let awaiter = {
            let cell = cell.clone();
            thread::spawn(move || await_blocking(&cell))
        };
        cell.complete(5);
        assert_eq!(awaiter.join().unwrap(), 5);
    });
}

/// Two awaiters and a completion: both get the same result, and a second
/// `complete` (first call wins) changes nothing.
#[test]
fn every_awaiter_is_woken() {
    check(|| {
        let cell = JoinCell::new();
        let awaiters: Vec<_> = (0..2)
            .map(|_| {
                let cell = cell.clone();
                thread::spawn(move || await_blocking(&cell))
            })
            .collect();
        cell.complete(5);
        cell.complete(6);
        for a in awaiters {
            assert_eq!(a.join().unwrap(), 5);
        }
    });
}

/// An awaiter that gives up (registers, then withdraws) racing with the
/// completion does not keep a second, parked awaiter from its result.
#[test]
fn withdrawn_awaiter_does_not_steal_the_wake() {
    check(|| {
        let cell = JoinCell::new();
        let quitter = {
            let cell = cell.clone();
            thread::spawn(move || {
                let (_, waker) = flag_waker();
                match cell.poll(&waker) {
                    JoinPoll::Ready(v) => Some(v),
                    JoinPoll::Pending(id) => {
                        cell.unregister(id);
                        cell.try_get()
                    }
                }
            })
        };
        let awaiter = {
            let cell = cell.clone();
            thread::spawn(move || await_blocking(&cell))
        };
        cell.complete(5);
        assert!(matches!(quitter.join().unwrap(), None | Some(5)));
        assert_eq!(awaiter.join().unwrap(), 5);
    });
}
