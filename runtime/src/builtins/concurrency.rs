//! Channels and task helpers (FORGE.md §8): `channel`, `send`, `receive`,
//! `try_send`, `try_receive`, `close`, `select`, `await_all`,
//! `await_timeout`, `wait`.
//!
//! Every blocking operation follows the protocol of `builtins/mod.rs`: try,
//! register the task's waker, `cx.wait`, try again. Deadlines come from
//! `cx.deadline` and their timers from `cx.arm_timer`, so the tier keeps
//! both across a restart and disarms the timer when the call ends.

use std::time::{Duration, Instant};

use scheduler::channel::{RecvPoll, SendPoll, TryRecv, WaiterId};
use scheduler::join::JoinPoll;
use scheduler::{WaitKind, WaitReason};

use super::args::{int, requires};
use super::{Builder, NativeCx};
use crate::concurrency::{ChannelRef, TaskOutcome};
use crate::error::{Ctrl, EvalResult, ForgeError};
use crate::message::Message;
use crate::value::Value;

const DEFAULT_CAPACITY: usize = 32;

pub fn register(b: &mut Builder) {
    b.func("channel", 0, 1, channel);
    b.func("send", 2, 2, send);
    b.func("receive", 1, 1, receive_native);
    b.func("try_send", 2, 2, try_send);
    b.func("try_receive", 1, 1, try_receive);
    b.func("close", 1, 1, close);
    b.func("select", 1, 2, select);
    b.func("await_all", 1, 1, await_all);
    b.func("await_timeout", 2, 2, await_timeout);
    b.func("wait", 1, 1, wait_native);
}

fn reason(cx: &dyn NativeCx, kind: WaitKind) -> WaitReason {
    WaitReason { kind, at: cx.location() }
}

fn chan<'a>(v: &'a Value, name: &str) -> Result<&'a ChannelRef, Ctrl> {
    match v {
        Value::Channel(c) => Ok(c),
        _ => Err(requires(name, "a channel")),
    }
}

fn channel(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let cap = match args.first() {
        None => DEFAULT_CAPACITY,
        Some(v) => int(v, "channel", "an integer capacity")?.clamp(1, 1 << 24) as usize,
    };
    Ok(Value::Channel(ChannelRef::new(cap)))
}

/// The error of a timer that could not be armed.
pub fn timer_error(e: std::io::Error) -> Ctrl {
    Ctrl::runtime(format!("cannot start the timer: {e}"))
}

/// Waits after registering `id` on `ch`. `Ok` when woken (registration
/// withdrawn, ready to try again); `Err` to leave: a suspension keeps the
/// registration (remembered, withdrawn by the restarted call), any other
/// error withdraws it and passes on a wake-up this task consumed.
fn wait_on(cx: &mut dyn NativeCx, ch: &ChannelRef, id: WaiterId, kind: WaitKind) -> Result<(), Ctrl> {
    match cx.wait(reason(cx, kind)) {
        Ok(()) => {
            ch.unregister(id);
            Ok(())
        }
        Err(e) if e.is_blocked() => {
            cx.remember_waiter(ch, id);
            Err(e)
        }
        Err(e) => {
            if !ch.unregister(id) {
                ch.pass_wake();
            }
            Err(e)
        }
    }
}

/// Passes on the wake-ups a restarted call consumed, when it leaves with an
/// error instead of acting on them.
fn leave(consumed: &[ChannelRef], e: Ctrl) -> Ctrl {
    if !e.is_blocked() {
        consumed.iter().for_each(|c| c.pass_wake());
    }
    e
}

/// The error of a `send` on a closed channel (the native's and the VM's).
pub(crate) fn send_on_closed() -> Ctrl {
    Ctrl::runtime("send on closed channel")
}

fn send(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let ch = chan(&args[0], "send")?.clone();
    let consumed = cx.forget_waiters();
    let mut msg = Message::new(&args[1]);
    let waker = cx.waker();
    loop {
        match ch.poll_send(msg, &waker) {
            SendPoll::Sent => return Ok(Value::Null),
            SendPoll::Closed(_) => return Err(leave(&consumed, send_on_closed())),
            SendPoll::Pending(back, id) => {
                msg = back;
                wait_on(cx, &ch, id, WaitKind::ChannelSend).map_err(|e| leave(&consumed, e))?;
            }
        }
    }
}

/// Receives one value; `None` once the channel is closed and drained.
pub fn receive(cx: &mut dyn NativeCx, ch: &ChannelRef) -> Result<Option<Value>, Ctrl> {
    let consumed = cx.forget_waiters();
    let waker = cx.waker();
    loop {
        match ch.poll_recv(&waker) {
            RecvPoll::Ready(m) => return Ok(Some(cx.adopt(m))),
            RecvPoll::Closed => return Ok(None),
            RecvPoll::Pending(id) => {
                wait_on(cx, ch, id, WaitKind::ChannelRecv).map_err(|e| leave(&consumed, e))?;
            }
        }
    }
}

fn receive_native(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let ch = chan(&args[0], "receive")?.clone();
    Ok(receive(cx, &ch)?.unwrap_or(Value::Null))
}

fn try_send(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let ch = chan(&args[0], "try_send")?;
    Ok(Value::Bool(ch.try_send(Message::new(&args[1])).is_ok()))
}

fn try_receive(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let ch = chan(&args[0], "try_receive")?.clone();
    Ok(match ch.try_recv() {
        TryRecv::Ready(m) => Value::some(cx.adopt(m)),
        TryRecv::Empty | TryRecv::Closed => Value::None,
    })
}

fn close(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    chan(&args[0], "close")?.close();
    Ok(Value::Null)
}

/// Milliseconds from an Int or Float argument (negative counts as 0).
fn millis(v: &Value, name: &str) -> Result<Duration, Ctrl> {
    let ms = match v {
        Value::Int(n) => *n as f64,
        Value::Float(f) if !f.is_nan() => *f,
        _ => return Err(requires(name, "a number of milliseconds")),
    };
    Ok(Duration::from_secs_f64((ms.max(0.0) / 1000.0).min(1e9)))
}

/// `select(channels[, ms])` → `[index, value]`, or `null` when every
/// channel is closed or the timeout passed.
fn select(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let list = match &args[0] {
        Value::Array(a) => a.clone(),
        _ => return Err(requires("select", "an array of channels")),
    };
    let chans: Vec<ChannelRef> = list.iter().map(|v| chan(v, "select").cloned()).collect::<Result<_, _>>()?;
    let deadline = match args.get(1) {
        Some(v) => {
            let d = millis(v, "select")?;
            Some(cx.deadline(d))
        }
        None => None,
    };
    let consumed = cx.forget_waiters();
    let waker = cx.waker();
    let result = loop {
        let mut open = 0;
        let mut got = None;
        for (i, ch) in chans.iter().enumerate() {
            match ch.try_recv() {
                TryRecv::Ready(m) => {
                    got = Some((i, m));
                    break;
                }
                TryRecv::Empty => open += 1,
                TryRecv::Closed => {}
            }
        }
        if let Some((i, m)) = got {
            break Some((i, m));
        }
        if open == 0 || deadline.is_some_and(|d| Instant::now() >= d) {
            break None;
        }
        if let Some(d) = deadline {
            cx.arm_timer(d).map_err(|e| leave(&consumed, e))?;
        }
        // Register on every open channel, then wait for any of them.
        let mut ids: Vec<(usize, WaiterId)> = Vec::new();
        let mut early = None;
        for (i, ch) in chans.iter().enumerate() {
            match ch.poll_recv(&waker) {
                RecvPoll::Pending(id) => ids.push((i, id)),
                RecvPoll::Ready(m) => {
                    early = Some((i, m));
                    break;
                }
                RecvPoll::Closed => {}
            }
        }
        let waited = if early.is_none() { cx.wait(reason(cx, WaitKind::Select)) } else { Ok(()) };
        match &waited {
            Err(e) if e.is_blocked() => ids.iter().for_each(|(i, id)| cx.remember_waiter(&chans[*i], *id)),
            _ => {
                // A registration that fired names a channel with a value we
                // may not take: pass its wake-up on rather than lose it.
                for (i, id) in ids {
                    if !chans[i].unregister(id) {
                        chans[i].pass_wake();
                    }
                }
            }
        }
        if let Err(e) = waited {
            return Err(leave(&consumed, e));
        }
        if let Some(hit) = early {
            break Some(hit);
        }
    };
    Ok(match result {
        Some((i, m)) => Value::array(vec![Value::Int(i as i64), cx.adopt(m)]),
        None => Value::Null,
    })
}

fn outcome(cx: &mut dyn NativeCx, id: scheduler::TaskId, o: &TaskOutcome) -> EvalResult {
    match o {
        Ok(m) => Ok(cx.adopt_shared(m)),
        Err(e) => Err(Ctrl::from_error(ForgeError::task_failed(id, e))),
    }
}

/// Waits for a task handle's result.
pub fn await_handle(cx: &mut dyn NativeCx, h: &crate::concurrency::TaskHandle) -> EvalResult {
    let waker = cx.waker();
    loop {
        match h.result.poll(&waker) {
            JoinPoll::Ready(o) => return outcome(cx, h.id(), &o),
            JoinPoll::Pending(_) => cx.wait(reason(cx, WaitKind::Join))?,
        }
    }
}

fn await_all(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let Value::Array(items) = &args[0] else {
        return Err(requires("await_all", "an array"));
    };
    let items = items.clone();
    let mut out = Vec::with_capacity(items.len());
    for v in items.iter() {
        out.push(match v {
            Value::Task(h) => await_handle(cx, h)?,
            other => other.clone(),
        });
    }
    Ok(Value::array(out))
}

fn await_timeout(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let d = millis(&args[1], "await_timeout")?;
    let deadline = cx.deadline(d);
    let h = match &args[0] {
        Value::Task(h) => h.clone(),
        other => return Ok(other.clone()),
    };
    let waker = cx.waker();
    let mut registration = None;
    let r = loop {
        if let Some(o) = h.result.try_get() {
            break outcome(cx, h.id(), &o);
        }
        if Instant::now() >= deadline {
            break Ok(Value::Null);
        }
        if registration.is_none() {
            match h.result.poll(&waker) {
                JoinPoll::Ready(o) => break outcome(cx, h.id(), &o),
                JoinPoll::Pending(id) => registration = Some(id),
            }
        }
        if let Err(e) = cx.arm_timer(deadline) {
            break Err(e);
        }
        if let Err(e) = cx.wait(reason(cx, WaitKind::Join)) {
            if e.is_blocked() {
                // Suspended (VM): the registration stays (the timer is the
                // tier's).
                return Err(e);
            }
            break Err(e);
        }
    };
    if let Some(id) = registration {
        h.result.unregister(id);
    }
    r
}

/// Suspends the task for `secs` seconds (Int or Float).
pub fn sleep_for(cx: &mut dyn NativeCx, secs: &Value, name: &str) -> Result<(), Ctrl> {
    let s = match secs {
        Value::Int(n) => *n as f64,
        Value::Float(f) if !f.is_nan() => *f,
        _ => return Err(requires(name, "a number of seconds")),
    };
    if s <= 0.0 {
        return cx.check_cancelled();
    }
    let deadline = cx.deadline(Duration::from_secs_f64(s.min(1e9)));
    while Instant::now() < deadline {
        cx.arm_timer(deadline)?;
        cx.wait(reason(cx, WaitKind::Sleep))?;
    }
    Ok(())
}

/// `wait(s)` / `time.sleep(s)`.
pub fn wait_native(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    sleep_for(cx, &args[0], "wait").map(|_| Value::Null)
}
