//! Built-ins the VM answers from its own heap. A native receives its
//! arguments as `Value`s, and exporting an array copies it: `len(a)` in a
//! loop over `a` would cost O(n) per call. The functions here take O(1) (or
//! at worst one pass without copying) and fall back to the native — which
//! gives the errors — for any argument they do not handle, so behaviour is
//! the built-in's exactly.
//!
//! `send` and `receive` are here too: when the channel has room (or a
//! value), the message goes straight between the heap and the channel,
//! without exporting the channel; when the call would block, the native runs
//! and does the waiting.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::Machine;
use crate::builtins::{registry, NativeFn};
use crate::error::Ctrl;
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
            (Intrinsic::Send, 2) => return self.try_send_intrinsic(first),
            (Intrinsic::Receive, 1) => return self.try_receive_intrinsic(first),
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

    /// `send(ch, v)` when `ch` has room. Not while the native is suspended
    /// in a wait: its restart must withdraw its registration first.
    fn try_send_intrinsic(&mut self, first: usize) -> Option<Result<Val, Ctrl>> {
        let (ch, v) = (self.regs[first], self.regs[first + 1]);
        if !self.pending_waiters.is_empty() || !self.is_open_channel(ch) {
            return None;
        }
        let msg = match self.export_message(v) {
            Ok(m) => m,
            Err(e) => return Some(Err(e)),
        };
        let Val::Obj(r) = ch else { return None };
        let HeapObj::Channel(c) = self.heap.get(r) else { return None };
        // Full: the native waits for room (the copy is made again then).
        c.try_send(msg).ok().map(|()| Ok(Val::Null))
    }

    /// `receive(ch)` when `ch` holds a value.
    /// Also on the restart after a wait (the usual way a woken receiver
    /// gets its value): the registration is withdrawn first, as the native
    /// does; registrations that had already fired stay listed, so that if
    /// the native must run after all, it finds them consumed just the same
    /// (withdrawing a fired registration again answers "consumed" again).
    fn try_receive_intrinsic(&mut self, first: usize) -> Option<Result<Val, Ctrl>> {
        let Val::Obj(r) = self.regs[first] else { return None };
        let HeapObj::Channel(c) = self.heap.get(r) else { return None };
        let restarted = !self.pending_waiters.is_empty();
        if restarted {
            self.pending_waiters.retain(|(ch, id)| !ch.unregister(*id));
        }
        match c.try_recv() {
            scheduler::channel::TryRecv::Ready(m) => {
                if restarted {
                    // Like the native's success: the wake-ups were for this.
                    self.pending_waiters.clear();
                    self.end_blocking_call();
                }
                let v = m.into_value();
                Some(self.import(&v))
            }
            // Empty: the native waits; closed: the native answers `null`.
            _ => None,
        }
    }

    fn is_open_channel(&self, v: Val) -> bool {
        matches!(v, Val::Obj(r) if matches!(self.heap.get(r), HeapObj::Channel(c) if !c.is_closed()))
    }
}
