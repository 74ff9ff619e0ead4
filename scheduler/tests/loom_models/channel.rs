//! Models of `Channel`: parking receivers and senders, close, and the
//! withdrawal of a registration (`unregister`, then `pass_wake` when the
//! registration had already fired) racing with sends and receives.

use loom::thread;
use scheduler::channel::{Channel, RecvPoll, SendPoll, TryRecv};

use crate::{check, flag_waker, recv_blocking, recv_repolling, send_blocking, send_repolling, thread_waker};

/// Capacity 1, one sender, one receiver that parks when the channel is
/// empty: the value always arrives, and the receiver is woken at most once
/// (a wake that came before it parked leaves park's token, so it never
/// sleeps through the send).
#[test]
fn receiver_parks_until_send() {
    check(|| {
        let ch = Channel::new(1);
        let rx = ch.clone();
        let receiver = thread::spawn(move || {
            let (me, waker) = thread_waker();
            let got = recv_blocking(&rx, &waker);
            (got, me.wakes())
        });
        ch.try_send(7).expect("room for one value");
        let (got, wakes) = receiver.join().unwrap();
        assert_eq!(got, Some(7));
        assert!(wakes <= 1, "woken {wakes} times for one value");
    });
}

/// A sender on a full channel parks until a receive frees the slot; the
/// receiver gets both values in order.
#[test]
fn sender_parks_until_receive() {
    check(|| {
        let ch = Channel::new(1);
        ch.try_send(1).unwrap();
        let tx = ch.clone();
        let sender = thread::spawn(move || {
            let (_, waker) = thread_waker();
            send_blocking(&tx, 2, &waker)
        });
        let (_, waker) = thread_waker();
        let first = recv_blocking(&ch, &waker);
        let second = recv_blocking(&ch, &waker);
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert_eq!((first, second), (Some(1), Some(2)));
    });
}

/// `close` racing with a receiver that is about to park, or parked: the
/// receiver always sees `Closed`, never hangs.
#[test]
fn close_wakes_parked_receiver() {
    check(|| {
        let ch = Channel::<i32>::new(1);
        let rx = ch.clone();
        let receiver = thread::spawn(move || {
            let (_, waker) = thread_waker();
            recv_blocking(&rx, &waker)
        });
        ch.close();
        assert_eq!(receiver.join().unwrap(), None);
    });
}

/// A send then a close racing with a receiver: the buffered value is still
/// received, then `Closed`.
#[test]
fn close_keeps_buffered_value() {
    check(|| {
        let ch = Channel::new(1);
        let rx = ch.clone();
        let receiver = thread::spawn(move || {
            let (_, waker) = thread_waker();
            let first = recv_blocking(&rx, &waker);
            let second = recv_blocking(&rx, &waker);
            (first, second)
        });
        ch.try_send(5).unwrap();
        ch.close();
        assert_eq!(receiver.join().unwrap(), (Some(5), None));
    });
}

/// `close` racing with a sender parked on a full channel: the sender gets
/// its value back (`Closed`), never hangs.
#[test]
fn close_wakes_parked_sender() {
    check(|| {
        let ch = Channel::new(1);
        ch.try_send(1).unwrap();
        let tx = ch.clone();
        let sender = thread::spawn(move || {
            let (_, waker) = thread_waker();
            send_blocking(&tx, 2, &waker)
        });
        ch.close();
        assert_eq!(sender.join().unwrap(), Err(2));
        assert_eq!(ch.try_recv(), TryRecv::Ready(1));
        assert_eq!(ch.try_recv(), TryRecv::Closed);
    });
}

/// A receiver registered first (a `select` or a timed wait) withdraws while
/// a value is sent and a second receiver waits. If the send already woke
/// the first registration, `unregister` says so and `pass_wake` hands the
/// wake-up on: the second receiver gets the value exactly once, and nothing
/// is left behind.
#[test]
fn withdrawn_receiver_passes_wake_on() {
    check(|| {
        let ch = Channel::new(1);
        let (first, first_waker) = flag_waker();
        let RecvPoll::Pending(id) = ch.poll_recv(&first_waker) else { panic!("empty channel") };

        let rx = ch.clone();
        let second = thread::spawn(move || {
            let (_, waker) = thread_waker();
            recv_blocking(&rx, &waker)
        });
        let withdraw = {
            let ch = ch.clone();
            thread::spawn(move || {
                if !ch.unregister(id) {
                    ch.pass_wake();
                }
            })
        };
        ch.try_send(9).expect("room for one value");

        withdraw.join().unwrap();
        assert_eq!(second.join().unwrap(), Some(9));
        assert_eq!(ch.try_recv(), TryRecv::Empty);
        assert!(first.wakes() <= 1);
    });
}

/// A `select`-like receiver polls once and either takes a value or gives up
/// (withdraw, pass the wake on), while a sender sends two values and a
/// second receiver takes one. Every value ends up in exactly one place: the
/// first receiver, the second, or the buffer.
#[test]
fn select_giving_up_loses_and_duplicates_nothing() {
    check(|| {
        let ch = Channel::new(1);
        let tx = ch.clone();
        let sender = thread::spawn(move || {
            let (_, waker) = thread_waker();
            send_blocking(&tx, 1, &waker).unwrap();
            send_blocking(&tx, 2, &waker).unwrap();
        });
        let sel = ch.clone();
        let selecter = thread::spawn(move || {
            let (_, waker) = flag_waker();
            match sel.poll_recv(&waker) {
                RecvPoll::Ready(v) => Some(v),
                RecvPoll::Closed => unreachable!("never closed"),
                RecvPoll::Pending(id) => {
                    if !sel.unregister(id) {
                        sel.pass_wake();
                    }
                    None
                }
            }
        });
        let (_, waker) = thread_waker();
        let mine = recv_blocking(&ch, &waker).unwrap();
        let theirs = selecter.join().unwrap();
        // The second value may still be on its way: the sender parks until
        // there is room, so wait for it before draining.
        sender.join().unwrap();
        let mut seen = vec![mine];
        seen.extend(theirs);
        while let TryRecv::Ready(v) = ch.try_recv() {
            seen.push(v);
        }
        seen.sort_unstable();
        assert_eq!(seen, [1, 2]);
    });
}

/// The same for senders: a sender registered on a full channel withdraws
/// while a receive frees the slot and a second sender waits for room. The
/// wake-up the receive gave the first sender is passed on, so the second
/// sender's value gets in.
#[test]
fn withdrawn_sender_passes_wake_on() {
    check(|| {
        let ch = Channel::new(1);
        ch.try_send(0).unwrap();
        let (_, first_waker) = flag_waker();
        let SendPoll::Pending(_, id) = ch.poll_send(1, &first_waker) else { panic!("full channel") };

        let tx = ch.clone();
        let second = thread::spawn(move || {
            let (_, waker) = thread_waker();
            send_blocking(&tx, 2, &waker)
        });
        let withdraw = {
            let ch = ch.clone();
            thread::spawn(move || {
                if !ch.unregister(id) {
                    ch.pass_wake();
                }
            })
        };
        assert_eq!(ch.try_recv(), TryRecv::Ready(0));

        withdraw.join().unwrap();
        assert_eq!(second.join().unwrap(), Ok(()));
        assert_eq!(ch.try_recv(), TryRecv::Ready(2));
        assert_eq!(ch.try_recv(), TryRecv::Empty);
    });
}

/// The restart path of a VM task: after a wake it re-polls with
/// `repoll_recv`/`repoll_send` (withdraw and poll under one lock) instead of
/// `unregister` then poll. Two receivers and a sender on a channel of
/// capacity 1: each value reaches exactly one receiver and nobody hangs.
#[test]
fn repoll_delivers_each_value_once() {
    check(|| {
        let ch = Channel::new(1);
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let rx = ch.clone();
                thread::spawn(move || {
                    let (_, waker) = thread_waker();
                    recv_repolling(&rx, &waker).expect("never closed")
                })
            })
            .collect();
        let (_, waker) = thread_waker();
        for v in [1, 2] {
            send_repolling(&ch, v, &waker).expect("never closed");
        }
        let mut got: Vec<i32> = receivers.into_iter().map(|r| r.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

/// One sender at a time is woken for room. A full channel of capacity 1 and
/// two parked senders: the receiver frees the slot three times, and each
/// woken sender either sends (and passes the wake on if room is left) or
/// finds the slot taken and parks again. Every value arrives and nobody
/// hangs, whatever the interleaving.
#[test]
fn senders_woken_one_at_a_time_all_get_in() {
    check(|| {
        let ch = Channel::new(1);
        ch.try_send(0).unwrap();
        let senders: Vec<_> = [1, 2]
            .into_iter()
            .map(|v| {
                let tx = ch.clone();
                thread::spawn(move || {
                    let (_, waker) = thread_waker();
                    send_repolling(&tx, v, &waker).expect("never closed")
                })
            })
            .collect();
        let (_, waker) = thread_waker();
        let mut got: Vec<i32> = (0..3).map(|_| recv_blocking(&ch, &waker).unwrap()).collect();
        senders.into_iter().for_each(|s| s.join().unwrap());
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
    });
}
