//! Built-ins the VM answers from its own heap. A native receives its
//! arguments as `Value`s, and exporting an array copies it: `len(a)` in a
//! loop over `a` would cost O(n) per call. The functions here take O(1) (or
//! at worst one pass without copying) and fall back to the native — which
//! gives the errors — for any argument they do not handle, so behaviour is
//! the built-in's exactly.
//!
//! `send` and `receive` are here too, whole: the message goes straight
//! between the heap and the channel, and a call that must wait registers the
//! task on the channel and suspends it itself, by the natives' protocol
//! (`builtins/mod.rs`: register, wait, withdraw and try again), without
//! exporting the channel. Their calls compile to `ChanSend`/`ChanRecv`
//! (`op_channel`), which suspend without an error value.

use std::sync::OnceLock;
use std::task::Waker;

use rustc_hash::FxHashMap;

use super::{Exit, Machine};
use scheduler::channel::{RecvPoll, SendPoll, WaiterId};
use scheduler::{WaitKind, WaitReason};

use crate::builtins::{concurrency, registry, NativeCx, NativeFn};
use crate::concurrency::ChannelRef;
use crate::error::{Ctrl, Unwind};
use crate::vm::bytecode::op::Op;
use crate::vm::gc::HeapObj;
use crate::vm::value::Val;

#[derive(Clone, Copy)]
enum Intrinsic {
    Len,
    First,
    Last,
    HasKey,
    Contains,
    IndexOf,
    IsEmpty,
    Send,
    Receive,
}

/// The natives with an intrinsic, by identity (module functions may reuse
/// a name, so names are not compared). Looked up on every native call.
fn table() -> &'static FxHashMap<usize, Intrinsic> {
    static TABLE: OnceLock<FxHashMap<usize, Intrinsic>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let r = registry();
        let global = [
            ("len", Intrinsic::Len),
            ("first", Intrinsic::First),
            ("last", Intrinsic::Last),
            ("has_key", Intrinsic::HasKey),
            ("contains", Intrinsic::Contains),
            ("index_of", Intrinsic::IndexOf),
            ("send", Intrinsic::Send),
            ("receive", Intrinsic::Receive),
        ];
        let mut t: FxHashMap<usize, Intrinsic> =
            global.iter().filter_map(|(name, i)| r.native(name).map(|n| (addr(n), *i))).collect();
        t.extend(r.method("is_empty").map(|n| (addr(n), Intrinsic::IsEmpty)));
        t
    })
}

fn addr(n: &'static NativeFn) -> usize {
    n as *const NativeFn as usize
}

impl Machine {
    /// The result of native `n` on the `argc` registers from `first`, when an
    /// intrinsic covers these arguments; `None` to call the native.
    #[inline]
    pub(crate) fn intrinsic(&mut self, n: &'static NativeFn, first: usize, argc: usize) -> Option<Result<Val, Ctrl>> {
        let key = addr(n);
        let which = table().get(&key)?;
        match (which, argc) {
            (Intrinsic::Send, 2) => return self.send_intrinsic(first).map(Self::suspension_as_error),
            (Intrinsic::Receive, 1) => return self.receive_intrinsic(first).map(Self::suspension_as_error),
            _ => {}
        }
        let arg = |i: usize| self.regs[first + i];
        let obj = |v: Val| match v {
            Val::Obj(r) => Some(self.heap.get(r)),
            _ => None,
        };
        let r = match (which, argc) {
            (Intrinsic::Len, 1) => match obj(arg(0))? {
                HeapObj::Array(a) => Val::Int(a.items.len() as i64),
                HeapObj::Object(o) => Val::Int(o.fields.len() as i64),
                HeapObj::Str(s) => Val::Int(s.chars().count() as i64),
                _ => return None,
            },
            (Intrinsic::IsEmpty, 1) => match obj(arg(0))? {
                HeapObj::Array(a) => Val::Bool(a.items.is_empty()),
                HeapObj::Object(o) => Val::Bool(o.fields.is_empty()),
                HeapObj::Str(s) => Val::Bool(s.is_empty()),
                _ => return None,
            },
            (Intrinsic::First, 1) => match obj(arg(0))? {
                HeapObj::Array(a) => a.items.first().copied().unwrap_or(Val::Null),
                _ => return None,
            },
            (Intrinsic::Last, 1) => match obj(arg(0))? {
                HeapObj::Array(a) => a.items.last().copied().unwrap_or(Val::Null),
                _ => return None,
            },
            (Intrinsic::HasKey, 2) => match (obj(arg(0))?, obj(arg(1))) {
                (HeapObj::Object(o), Some(HeapObj::Str(k))) => Val::Bool(o.fields.contains_key(k.as_str())),
                (HeapObj::Object(_), _) => Val::Bool(false),
                _ => return None,
            },
            (Intrinsic::Contains, 2) => match (obj(arg(0))?, obj(arg(1))) {
                (HeapObj::Array(a), _) => {
                    let x = arg(1);
                    Val::Bool(a.items.iter().any(|y| self.equal(*y, x)))
                }
                (HeapObj::Object(o), Some(HeapObj::Str(k))) => Val::Bool(o.fields.contains_key(k.as_str())),
                (HeapObj::Object(_), _) => Val::Bool(false),
                _ => return None,
            },
            (Intrinsic::IndexOf, 2) => match obj(arg(0))? {
                HeapObj::Array(a) => {
                    let x = arg(1);
                    Val::Int(a.items.iter().position(|y| self.equal(*y, x)).map_or(-1, |i| i as i64))
                }
                _ => return None,
            },
            _ => return None,
        };
        // An element handed out of a shared array may now have two places.
        self.share(r);
        Some(Ok(r))
    }

    /// `ChanSend`/`ChanRecv` on the call window at `a` of the running frame
    /// (its `pc` saved past the instruction): the intrinsic, or when it
    /// declines, the built-in called the ordinary way. `Some(exit)` when the
    /// task suspends; it re-runs the instruction when resumed.
    #[inline(always)]
    pub(crate) fn op_channel(&mut self, op: Op, a: usize, argc: usize) -> Result<Option<Exit>, Ctrl> {
        let done = match op {
            Op::ChanSend => self.send_intrinsic(a + 1),
            _ => self.receive_intrinsic(a + 1),
        };
        match done {
            Some(Ok(ChanStep::Done(v))) => {
                self.regs[a] = v;
                Ok(None)
            }
            Some(Ok(ChanStep::Suspended(why))) => {
                if let Some(f) = self.frames.last_mut() {
                    f.pc -= 1;
                }
                Ok(Some(Exit::Blocked(why)))
            }
            Some(Err(e)) => Err(e),
            None => {
                let name = if op == Op::ChanSend { "send" } else { "receive" };
                let native = registry().native(name).expect("channel built-ins are registered");
                self.regs[a] = Val::Native(native);
                // A native never pushes a frame: the result is in `R[a]`.
                self.op_call(a, argc, true)?;
                Ok(None)
            }
        }
    }

    /// A suspension reported the way natives report it, for a `send` or
    /// `receive` reached through an ordinary call.
    fn suspension_as_error(r: Result<ChanStep, Ctrl>) -> Result<Val, Ctrl> {
        match r? {
            ChanStep::Done(v) => Ok(v),
            ChanStep::Suspended(why) => Err(Ctrl::new(Unwind::Blocked(why))),
        }
    }

    /// `send(ch, v)`, start to finish, for a task that can wait: sends, or
    /// registers the task and suspends it (the message is exported again
    /// when the call restarts). `None` lets the native run: a value that is
    /// not a channel (its error), a callback, a cancelled task, or
    /// registrations this call did not make.
    fn send_intrinsic(&mut self, first: usize) -> Option<Result<ChanStep, Ctrl>> {
        let (ch, v) = (self.regs[first], self.regs[first + 1]);
        let Val::Obj(r) = ch else { return None };
        let HeapObj::Channel(c) = self.heap.get(r) else { return None };
        let attempt = self.attempt(c)?;
        // Checked before the copy is made; the waker is borrowed again
        // after it (exporting needs the machine mutably).
        self.waiting_waker()?;
        let msg = match self.export_message(v) {
            Ok(m) => m,
            Err(e) => return Some(Err(e)),
        };
        let (HeapObj::Channel(c), Some(waker)) = (self.heap.get(r), self.waiting_waker()) else { return None };
        let poll = match attempt {
            Attempt::First => c.poll_send(msg, waker),
            Attempt::Again(id) => c.repoll_send(id, msg, waker),
        };
        match poll {
            SendPoll::Sent => {
                self.end_channel_wait();
                Some(Ok(ChanStep::Done(Val::Null)))
            }
            SendPoll::Closed(_) => {
                self.end_channel_wait();
                Some(Err(concurrency::send_on_closed()))
            }
            SendPoll::Pending(_, id) => {
                let c = c.clone();
                Some(Ok(self.suspend_on_channel(c, id, WaitKind::ChannelSend)))
            }
        }
    }

    /// `receive(ch)`, start to finish, for a task that can wait (see
    /// `send_intrinsic`). A restart after a wake withdraws the registration
    /// and polls under one lock of the channel.
    fn receive_intrinsic(&mut self, first: usize) -> Option<Result<ChanStep, Ctrl>> {
        let Val::Obj(r) = self.regs[first] else { return None };
        let HeapObj::Channel(c) = self.heap.get(r) else { return None };
        let attempt = self.attempt(c)?;
        let waker = self.waiting_waker()?;
        let poll = match attempt {
            Attempt::First => c.poll_recv(waker),
            Attempt::Again(id) => c.repoll_recv(id, waker),
        };
        match poll {
            RecvPoll::Ready(m) => {
                self.end_channel_wait();
                Some(self.import(&m.into_value()).map(ChanStep::Done))
            }
            RecvPoll::Closed => {
                self.end_channel_wait();
                Some(Ok(ChanStep::Done(Val::Null)))
            }
            RecvPoll::Pending(id) => {
                let c = c.clone();
                Some(Ok(self.suspend_on_channel(c, id, WaitKind::ChannelRecv)))
            }
        }
    }

    /// The task's waker, when this call may suspend the task: it runs in a
    /// task, not inside a callback, and the task is not cancelled (the
    /// native then gives the cancellation its usual way).
    fn waiting_waker(&self) -> Option<&Waker> {
        match &self.link {
            Some(l) if self.callbacks == 0 && !l.task.is_cancelled() => Some(&l.waker),
            _ => None,
        }
    }

    /// The call acted on its channel: its wake-ups were for this.
    fn end_channel_wait(&mut self) {
        self.chan_wait = None;
        self.end_blocking_call();
    }

    /// A call with no registration starts; one whose only registration is
    /// its own on `ch` restarts; any other registration (a native's, or
    /// one on another channel) leaves it to the native.
    #[inline]
    fn attempt(&self, ch: &ChannelRef) -> Option<Attempt> {
        if self.rare.get().is_some_and(|r| !r.pending_waiters.is_empty()) {
            return None;
        }
        match &self.chan_wait {
            None => Some(Attempt::First),
            Some((c, id)) if c.same(ch) => Some(Attempt::Again(*id)),
            Some(_) => None,
        }
    }

    /// Registered as `id` on `ch`: records the registration for the restart,
    /// as the natives' `wait_on` does, and says why the task waits.
    fn suspend_on_channel(&mut self, ch: ChannelRef, id: WaiterId, kind: WaitKind) -> ChanStep {
        self.chan_wait = Some((ch, id));
        // The wait's location: the instruction the frame's `pc` just passed.
        if let Some(f) = self.frames.last() {
            self.span = f.proto.spans[f.pc.saturating_sub(1)];
        }
        ChanStep::Suspended(WaitReason { kind, at: self.location() })
    }
}

/// Whether a `send`/`receive` on a channel starts or restarts.
enum Attempt {
    First,
    /// After a wake: the registration the suspended call left.
    Again(WaiterId),
}

/// How a channel instruction went.
enum ChanStep {
    /// The call's value (also stored in the call window).
    Done(Val),
    /// Registered on the channel: the task suspends, waiting for this, and
    /// re-runs the instruction when woken.
    Suspended(WaitReason),
}
