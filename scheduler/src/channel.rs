//! Bounded multi-producer multi-consumer channels.
//!
//! The buffer, the closed flag and the queues of parked receivers and
//! senders live under one mutex, so "check, then register a waker" is atomic
//! with respect to every send, receive and close: a wake-up cannot slip
//! between a failed attempt and the registration. Wakers are called after
//! the lock is released.
//!
//! Senders that find the buffer full get their value back (`SendPoll::Pending`)
//! and retry when woken. One parked sender at a time is woken for room:
//! while it is on its way, freed slots wake nobody else, and when it comes
//! back (`repoll_send`, or `unregister` when it gives up) it passes the wake
//! on if room is left. Waking one sender per freed slot instead makes a
//! herd: the first woken sender refills the buffer and the others wake only
//! to find it full.

use std::collections::VecDeque;
use std::ops::DerefMut;
use std::task::Waker;

use crate::sync::{Arc, Mutex};

/// Identifies one registration, so a task that stops waiting (a `select`
/// that got a value elsewhere, a timeout) can withdraw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaiterId(u64);

struct Waiter {
    id: u64,
    waker: Waker,
}

struct State<T> {
    buf: VecDeque<T>,
    cap: usize,
    closed: bool,
    receivers: VecDeque<Waiter>,
    senders: VecDeque<Waiter>,
    /// The sender woken for room that has not come back for it yet.
    woken_sender: Option<u64>,
    next_id: u64,
}

pub struct Channel<T> {
    state: Arc<Mutex<State<T>>>,
}

impl<T> Clone for Channel<T> {
    fn clone(&self) -> Self {
        Channel { state: self.state.clone() }
    }
}

impl<T> std::fmt::Debug for Channel<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Channel")
    }
}

#[derive(Debug)]
pub enum RecvPoll<T> {
    Ready(T),
    /// Closed and drained.
    Closed,
    /// Empty: the waker is registered.
    Pending(WaiterId),
}

#[derive(Debug)]
pub enum SendPoll<T> {
    Sent,
    /// The channel is closed; the value comes back.
    Closed(T),
    /// Full: the waker is registered and the value comes back for a retry.
    Pending(T, WaiterId),
}

#[derive(Debug, PartialEq, Eq)]
pub enum TryRecv<T> {
    Ready(T),
    Empty,
    Closed,
}

impl<T> Channel<T> {
    /// A channel holding up to `capacity` values (at least 1).
    pub fn new(capacity: usize) -> Channel<T> {
        let cap = capacity.max(1);
        Channel {
            state: Arc::new(Mutex::new(State {
                buf: VecDeque::with_capacity(cap.min(64)),
                cap,
                closed: false,
                receivers: VecDeque::new(),
                senders: VecDeque::new(),
                woken_sender: None,
                next_id: 0,
            })),
        }
    }

    /// Whether both handles name the same channel.
    pub fn same(&self, other: &Channel<T>) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }

    pub fn capacity(&self) -> usize {
        self.state.lock().cap
    }

    pub fn len(&self) -> usize {
        self.state.lock().buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// Sends if there is room; otherwise registers `waker` and returns the value.
    pub fn poll_send(&self, value: T, waker: &Waker) -> SendPoll<T> {
        Self::poll_send_locked(self.state.lock(), value, waker)
    }

    fn poll_send_locked(mut st: impl DerefMut<Target = State<T>>, value: T, waker: &Waker) -> SendPoll<T> {
        if st.closed {
            return SendPoll::Closed(value);
        }
        if st.buf.len() < st.cap {
            st.buf.push_back(value);
            let woken = st.receivers.pop_front();
            let next_sender = sender_to_wake(&mut st);
            drop(st);
            for w in woken.into_iter().chain(next_sender) {
                w.waker.wake();
            }
            return SendPoll::Sent;
        }
        let id = st.next_id;
        st.next_id += 1;
        st.senders.push_back(Waiter { id, waker: waker.clone() });
        SendPoll::Pending(value, WaiterId(id))
    }

    /// Sends without blocking: `Err(value)` when full or closed.
    pub fn try_send(&self, value: T) -> Result<(), T> {
        let mut st = self.state.lock();
        if st.closed || st.buf.len() >= st.cap {
            return Err(value);
        }
        st.buf.push_back(value);
        let woken = st.receivers.pop_front();
        let next_sender = sender_to_wake(&mut st);
        drop(st);
        for w in woken.into_iter().chain(next_sender) {
            w.waker.wake();
        }
        Ok(())
    }

    /// Takes the oldest value; when empty and open registers `waker`.
    pub fn poll_recv(&self, waker: &Waker) -> RecvPoll<T> {
        Self::poll_recv_locked(self.state.lock(), waker)
    }

    fn poll_recv_locked(mut st: impl DerefMut<Target = State<T>>, waker: &Waker) -> RecvPoll<T> {
        if let Some(v) = st.buf.pop_front() {
            let woken = sender_to_wake(&mut st);
            drop(st);
            if let Some(w) = woken {
                w.waker.wake();
            }
            return RecvPoll::Ready(v);
        }
        if st.closed {
            return RecvPoll::Closed;
        }
        let id = st.next_id;
        st.next_id += 1;
        st.receivers.push_back(Waiter { id, waker: waker.clone() });
        RecvPoll::Pending(WaiterId(id))
    }

    /// `poll_recv` again after a wake, for a receiver whose registration
    /// `id` came from its previous poll: withdraws the registration if it
    /// has not fired, then takes a value or registers anew, under one lock.
    /// Whether the registration had fired needs no answer here: a receiver
    /// that goes on waiting (or finds the channel closed, which wakes every
    /// waiter) leaves no wake-up undelivered.
    pub fn repoll_recv(&self, id: WaiterId, waker: &Waker) -> RecvPoll<T> {
        let mut st = self.state.lock();
        withdraw(&mut st.receivers, id);
        Self::poll_recv_locked(st, waker)
    }

    /// `poll_send` again after a wake, for a sender whose registration `id`
    /// came from its previous poll (see [`Channel::repoll_recv`]).
    /// A sender woken for room that comes back passes the wake on if it
    /// leaves room (`poll_send_locked` via `sender_to_wake`).
    pub fn repoll_send(&self, id: WaiterId, value: T, waker: &Waker) -> SendPoll<T> {
        let mut st = self.state.lock();
        if !withdraw(&mut st.senders, id) {
            came_back(&mut st, id);
        }
        Self::poll_send_locked(st, value, waker)
    }

    /// Takes the oldest value without blocking.
    pub fn try_recv(&self) -> TryRecv<T> {
        let mut st = self.state.lock();
        match st.buf.pop_front() {
            Some(v) => {
                let woken = sender_to_wake(&mut st);
                drop(st);
                if let Some(w) = woken {
                    w.waker.wake();
                }
                TryRecv::Ready(v)
            }
            None if st.closed => TryRecv::Closed,
            None => TryRecv::Empty,
        }
    }

    /// Ends sending. Buffered values stay receivable; every parked task wakes.
    pub fn close(&self) {
        let mut st = self.state.lock();
        st.closed = true;
        st.woken_sender = None;
        let receivers: Vec<Waiter> = st.receivers.drain(..).collect();
        let senders: Vec<Waiter> = st.senders.drain(..).collect();
        drop(st);
        for w in receivers.into_iter().chain(senders) {
            w.waker.wake();
        }
    }

    /// Withdraws a registration. `false` means it had already fired: the
    /// caller was woken by this channel and, if it will not act on that
    /// wake, should call [`Channel::pass_wake`] so no other waiter misses it.
    /// A sender woken for room that gives up passes the wake on here.
    pub fn unregister(&self, id: WaiterId) -> bool {
        let mut st = self.state.lock();
        if withdraw(&mut st.receivers, id) || withdraw(&mut st.senders, id) {
            return true;
        }
        if came_back(&mut st, id) {
            let next = sender_to_wake(&mut st);
            drop(st);
            if let Some(w) = next {
                w.waker.wake();
            }
        }
        false
    }

    /// Re-issues one wake-up to a parked receiver when values are buffered;
    /// used by a `select` that was woken here but took a value elsewhere.
    pub fn pass_wake(&self) {
        let mut st = self.state.lock();
        let woken = if !st.buf.is_empty() { st.receivers.pop_front() } else { None };
        let woken_sender = sender_to_wake(&mut st);
        drop(st);
        for w in woken.into_iter().chain(woken_sender) {
            w.waker.wake();
        }
    }
}

/// The parked sender to wake for room, if there is room and no sender is on
/// its way for it already (see the module docs).
fn sender_to_wake<T>(st: &mut State<T>) -> Option<Waiter> {
    if st.woken_sender.is_some() || st.buf.len() >= st.cap {
        return None;
    }
    let w = st.senders.pop_front()?;
    st.woken_sender = Some(w.id);
    Some(w)
}

/// Whether `id` is the sender woken for room (now back: the next freed slot
/// may wake another).
fn came_back<T>(st: &mut State<T>, id: WaiterId) -> bool {
    if st.woken_sender == Some(id.0) {
        st.woken_sender = None;
        return true;
    }
    false
}

/// Removes registration `id` from a queue; `false` when it is not there
/// (it fired, or was withdrawn). Ids grow with every registration and
/// removals keep the order, so the queue is sorted: a registration older
/// than the front one has been woken (the common case, O(1)); any other is
/// found by binary search, not by a scan of every parked task.
fn withdraw(queue: &mut VecDeque<Waiter>, id: WaiterId) -> bool {
    match queue.front() {
        Some(front) if front.id <= id.0 => match queue.binary_search_by_key(&id.0, |w| w.id) {
            Ok(i) => {
                queue.remove(i);
                true
            }
            Err(_) => false,
        },
        _ => false,
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

    fn waker() -> (Arc<CountWake>, Waker) {
        let c = Arc::new(CountWake(AtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    #[test]
    fn fifo_and_capacity() {
        let ch = Channel::new(2);
        assert!(ch.try_send(1).is_ok());
        assert!(ch.try_send(2).is_ok());
        assert_eq!(ch.try_send(3), Err(3));
        assert_eq!(ch.try_recv(), TryRecv::Ready(1));
        assert_eq!(ch.try_recv(), TryRecv::Ready(2));
        assert_eq!(ch.try_recv(), TryRecv::Empty);
    }

    #[test]
    fn parked_receiver_is_woken_by_send() {
        let ch = Channel::new(1);
        let (count, w) = waker();
        assert!(matches!(ch.poll_recv(&w), RecvPoll::Pending(_)));
        ch.try_send(7).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(matches!(ch.poll_recv(&w), RecvPoll::Ready(7)));
    }

    #[test]
    fn parked_sender_is_woken_by_receive_and_close_wakes_all() {
        let ch = Channel::new(1);
        ch.try_send(1).unwrap();
        let (count, w) = waker();
        assert!(matches!(ch.poll_send(2, &w), SendPoll::Pending(2, _)));
        assert_eq!(ch.try_recv(), TryRecv::Ready(1));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        let (rcount, rw) = waker();
        assert!(matches!(ch.poll_recv(&rw), RecvPoll::Pending(_)));
        ch.close();
        assert_eq!(rcount.0.load(Ordering::SeqCst), 1);
        assert!(matches!(ch.poll_recv(&rw), RecvPoll::Closed));
        assert!(matches!(ch.poll_send(3, &w), SendPoll::Closed(3)));
    }

    #[test]
    fn unregister_finds_any_waiter_among_many() {
        let ch = Channel::<i32>::new(1);
        let (_, w) = waker();
        let ids: Vec<WaiterId> = (0..100)
            .map(|_| match ch.poll_recv(&w) {
                RecvPoll::Pending(id) => id,
                _ => panic!("empty channel"),
            })
            .collect();
        // Wake (and so remove) the first; withdraw every third of the rest.
        ch.try_send(1).unwrap();
        assert!(!ch.unregister(ids[0]), "already woken");
        for id in ids.iter().skip(1).step_by(3) {
            assert!(ch.unregister(*id));
            assert!(!ch.unregister(*id));
        }
        let left = ids.iter().skip(1).filter(|id| ch.unregister(**id)).count();
        assert_eq!(left, 99 - 33);
    }

    #[test]
    fn unregister_withdraws_a_waiter() {
        let ch = Channel::<i32>::new(1);
        let (count, w) = waker();
        let RecvPoll::Pending(id) = ch.poll_recv(&w) else { panic!() };
        assert!(ch.unregister(id));
        ch.try_send(1).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn repoll_withdraws_or_reuses_the_registration() {
        let ch = Channel::new(1);
        let (count, w) = waker();
        // Not fired (a spurious wake): the old registration goes, a new one
        // takes its place, and a send wakes the task exactly once.
        let RecvPoll::Pending(id) = ch.poll_recv(&w) else { panic!() };
        let RecvPoll::Pending(id2) = ch.repoll_recv(id, &w) else { panic!() };
        assert!(!ch.unregister(id), "the first registration was withdrawn");
        ch.try_send(1).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        // Fired: the value is there.
        assert!(matches!(ch.repoll_recv(id2, &w), RecvPoll::Ready(1)));
        // A sender: full, registered, then the receive makes room.
        ch.try_send(2).unwrap();
        let (scount, sw) = waker();
        let SendPoll::Pending(v, sid) = ch.poll_send(3, &sw) else { panic!() };
        let SendPoll::Pending(v, sid) = ch.repoll_send(sid, v, &sw) else { panic!("still full") };
        assert_eq!(ch.try_recv(), TryRecv::Ready(2));
        assert_eq!(scount.0.load(Ordering::SeqCst), 1);
        assert!(matches!(ch.repoll_send(sid, v, &sw), SendPoll::Sent));
        ch.close();
        assert!(matches!(ch.repoll_send(sid, 4, &sw), SendPoll::Closed(4)));
        assert_eq!(ch.try_recv(), TryRecv::Ready(3));
        assert!(matches!(ch.repoll_recv(id2, &w), RecvPoll::Closed));
    }

    #[test]
    fn one_sender_at_a_time_is_woken_for_room() {
        let ch = Channel::new(2);
        ch.try_send(0).unwrap();
        ch.try_send(0).unwrap();
        let parked: Vec<_> = (1..=3)
            .map(|v| {
                let (count, w) = waker();
                let SendPoll::Pending(_, id) = ch.poll_send(v, &w) else { panic!("full") };
                (count, w, id)
            })
            .collect();
        let wakes = || parked.iter().map(|(c, _, _)| c.0.load(Ordering::SeqCst)).collect::<Vec<_>>();
        assert_eq!(ch.try_recv(), TryRecv::Ready(0));
        assert_eq!(wakes(), [1, 0, 0], "the first freed slot wakes the first sender");
        assert_eq!(ch.try_recv(), TryRecv::Ready(0));
        assert_eq!(wakes(), [1, 0, 0], "while it is on its way, nobody else");
        let (_, w1, id1) = &parked[0];
        assert!(matches!(ch.repoll_send(*id1, 1, w1), SendPoll::Sent));
        assert_eq!(wakes(), [1, 1, 0], "back with room left: it passes the wake on");
        let (_, w2, id2) = &parked[1];
        // The second gives up instead: the wake goes to the third.
        assert!(!ch.unregister(*id2));
        assert_eq!(wakes(), [1, 1, 1]);
        let (_, w3, id3) = &parked[2];
        assert!(matches!(ch.repoll_send(*id3, 3, w3), SendPoll::Sent));
        assert!(matches!(ch.poll_send(4, w2), SendPoll::Pending(4, _)), "full again");
        assert_eq!(ch.try_recv(), TryRecv::Ready(1));
        assert_eq!(ch.try_recv(), TryRecv::Ready(3));
        assert_eq!(wakes(), [1, 2, 1], "a freed slot wakes the sender parked since");
    }
}
