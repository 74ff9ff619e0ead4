//! The dispatch loop, and nothing else: decode, execute, repeat. Anything
//! longer than a few lines lives in `ops.rs` or `call.rs`.
//!
//! `run(stop)` executes until the frame at index `stop` returns (`Exit::
//! Returned`), the task yields or blocks (`Exit::Yielded`/`Blocked`, with
//! the running frame's `pc` saved so the loop can be entered again), or an
//! error escapes every handler of the frames above `stop`.
//!
//! Speed comes from three choices, all safe code:
//! - While the loop runs, the register file is moved out of the machine into
//!   a local (`regs`), so the compiler keeps its pointer in a CPU register
//!   instead of reloading it through `&mut self` after every store. Any
//!   handler that reads or writes `self.regs` runs inside `slow!`, which
//!   puts the registers back first and takes them again after.
//! - The running frame sees its registers as a `[Val; 256]` window: operands
//!   are `u8`, so indexing needs no bounds check.
//! - Int and Float arithmetic and comparisons are handled inline; other
//!   operand types go to the general code in `ops.rs`.

use super::{Exit, Frame, FrameKind, Machine};
use crate::vm::gc::HeapObj;
use crate::error::{msg, Ctrl};
use crate::vm::bytecode::op::Op;
use crate::vm::value::Val;

/// Registers a frame can address (operands are 8 bits).
pub(crate) const WINDOW: usize = 256;

/// The running frame's registers, grown so that the full window exists.
#[inline(always)]
fn window(regs: &mut Vec<Val>, base: usize) -> &mut [Val; WINDOW] {
    if regs.len() < base + WINDOW {
        regs.resize(base + WINDOW, Val::Null);
    }
    (&mut regs[base..base + WINDOW]).try_into().expect("window is WINDOW long")
}

/// Int arithmetic as `crate::ops::int_arith` defines it, without boxing.
#[inline(always)]
fn int_op(op: Op, p: i64, q: i64) -> Result<i64, Ctrl> {
    match op {
        Op::Add => p.checked_add(q).ok_or_else(msg::overflow),
        Op::Sub => p.checked_sub(q).ok_or_else(msg::overflow),
        Op::Mul => p.checked_mul(q).ok_or_else(msg::overflow),
        Op::Div if q == 0 => Err(msg::division_by_zero()),
        Op::Div => p.checked_div(q).ok_or_else(msg::overflow),
        _ if q == 0 => Err(msg::division_by_zero()),
        // `i64::MIN % -1` is 0 (FORGE.md §2), not an overflow.
        _ => Ok(p.checked_rem(q).unwrap_or(0)),
    }
}

#[inline(always)]
fn float_op(op: Op, p: f64, q: f64) -> f64 {
    match op {
        Op::Add => p + q,
        Op::Sub => p - q,
        Op::Mul => p * q,
        Op::Div => p / q,
        _ => p % q,
    }
}

/// The comparison of an `If*`/comparison opcode on Ints or Floats.
#[inline(always)]
fn num_compare(op: Op, x: Val, y: Val) -> Option<bool> {
    let (p, q) = match (x, y) {
        (Val::Int(p), Val::Int(q)) => {
            return Some(match op {
                Op::Lt | Op::IfLt => p < q,
                Op::Le | Op::IfLe => p <= q,
                Op::Gt | Op::IfGt => p > q,
                _ => p >= q,
            })
        }
        (Val::Float(p), Val::Float(q)) => (p, q),
        _ => return None,
    };
    Some(match op {
        Op::Lt | Op::IfLt => p < q,
        Op::Le | Op::IfLe => p <= q,
        Op::Gt | Op::IfGt => p > q,
        _ => p >= q,
    })
}

/// The plain comparison opcode an `If*` opcode tests.
fn plain(op: Op) -> Op {
    match op {
        Op::IfLt => Op::Lt,
        Op::IfLe => Op::Le,
        Op::IfGt => Op::Gt,
        _ => Op::Ge,
    }
}

impl Machine {
    // `sync!` resets the instruction count on paths that leave the loop too.
    #[allow(unused_assignments)]
    pub(crate) fn run(&mut self, stop: usize) -> Result<Exit, Ctrl> {
        'reload: loop {
            let mut fi = self.frames.len() - 1;
            let mut proto = self.frames[fi].proto;
            let mut base = self.frames[fi].base;
            let mut code = &proto.code[..];
            let mut pc = self.frames[fi].pc;
            let mut regs = std::mem::take(&mut self.regs);
            let mut w = window(&mut regs, base);
            let mut count: u64 = 0;

            // Puts the registers back into the machine (and the count).
            macro_rules! sync {
                () => {{
                    self.regs = std::mem::take(&mut regs);
                    self.instructions += count;
                    count = 0;
                }};
            }
            // Raises `c` at the current instruction, registers already synced.
            macro_rules! throw_synced {
                ($c:expr) => {{
                    self.frames[fi].pc = pc - 1;
                    match self.unwind($c, stop) {
                        Ok(Some(exit)) => return Ok(exit),
                        Ok(None) => continue 'reload,
                        Err(c) => return Err(c),
                    }
                }};
            }
            // Raises `c` from an inline handler.
            macro_rules! throw {
                ($c:expr) => {{
                    let c = $c;
                    sync!();
                    throw_synced!(c)
                }};
            }
            // A handler that does not touch `self.regs`.
            macro_rules! cheap {
                ($e:expr) => {
                    match $e {
                        Ok(v) => v,
                        Err(c) => throw!(c),
                    }
                };
            }
            // A handler that may read or write `self.regs` (or grow it).
            macro_rules! slow {
                ($e:expr) => {{
                    sync!();
                    match $e {
                        Ok(v) => {
                            regs = std::mem::take(&mut self.regs);
                            w = window(&mut regs, base);
                            v
                        }
                        Err(c) => throw_synced!(c),
                    }
                }};
            }
            // A handler that may push or pop frames: `true` means reload.
            macro_rules! frame_op {
                ($e:expr) => {{
                    self.frames[fi].pc = pc;
                    sync!();
                    match $e {
                        Ok(true) => continue 'reload,
                        Ok(false) => {
                            regs = std::mem::take(&mut self.regs);
                            w = window(&mut regs, base);
                        }
                        Err(c) => throw_synced!(c),
                    }
                }};
            }

            loop {
                let ins = code[pc];
                pc += 1;
                count += 1;
                match ins.op() {
                    Op::Move => w[ins.a()] = w[ins.b()],
                    Op::LoadI => w[ins.a()] = Val::Int(ins.sbx() as i64),
                    Op::LoadNull => w[ins.a()] = Val::Null,
                    Op::LoadBool => w[ins.a()] = Val::Bool(ins.b() != 0),
                    Op::LoadNone => w[ins.a()] = Val::None,
                    Op::LoadK => w[ins.a()] = cheap!(self.constant(proto, ins.bx())),
                    Op::LoadBuiltin => w[ins.a()] = cheap!(self.builtin(ins.bx() as u32)),
                    Op::GetGlobal => {
                        w[ins.a()] = match self.globals[ins.bx()] {
                            Some(v) => v,
                            None => throw!(self.undefined_global(ins.bx())),
                        }
                    }
                    Op::SetGlobal => {
                        if self.globals[ins.bx()].is_none() {
                            throw!(self.undefined_global(ins.bx()));
                        }
                        self.globals[ins.bx()] = Some(w[ins.a()]);
                        self.globals_version += 1;
                    }
                    Op::DefGlobal => {
                        self.globals[ins.bx()] = Some(w[ins.a()]);
                        self.globals_version += 1;
                    }
                    Op::GetUpval => w[ins.a()] = self.upval(fi, ins.b()),
                    Op::SetUpval => {
                        let v = w[ins.b()];
                        self.set_upval(fi, ins.a(), v);
                    }
                    Op::NewCell => slow!(self.op_new_cell(base + ins.a(), base + ins.b(), ins.c() == 1)),
                    Op::GetCell => w[ins.a()] = self.cell_value(w[ins.b()]),
                    Op::SetCell => {
                        let v = w[ins.b()];
                        slow!(self.op_set_cell(base + ins.a(), v))
                    }
                    Op::Share => self.share(w[ins.a()]),
                    Op::Unique => slow!(self.op_unique(base + ins.a())),
                    Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Mod => {
                        let (x, y) = (w[ins.b()], w[ins.c()]);
                        w[ins.a()] = match (x, y) {
                            (Val::Int(p), Val::Int(q)) => Val::Int(cheap!(int_op(ins.op(), p, q))),
                            (Val::Float(p), Val::Float(q)) => Val::Float(float_op(ins.op(), p, q)),
                            _ => cheap!(self.arith(ins.op(), x, y)),
                        };
                    }
                    Op::AddI | Op::SubI => {
                        let x = w[ins.b()];
                        let k = if ins.op() == Op::AddI { ins.sc() } else { -ins.sc() };
                        w[ins.a()] = match x {
                            Val::Int(p) => match p.checked_add(k) {
                                Some(r) => Val::Int(r),
                                None => throw!(msg::overflow()),
                            },
                            _ => {
                                let op = if ins.op() == Op::AddI { Op::Add } else { Op::Sub };
                                cheap!(self.arith(op, x, Val::Int(ins.sc())))
                            }
                        };
                    }
                    Op::Eq | Op::Ne => {
                        let eq = self.equal(w[ins.b()], w[ins.c()]);
                        w[ins.a()] = Val::Bool(eq == (ins.op() == Op::Eq));
                    }
                    Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                        let (x, y) = (w[ins.b()], w[ins.c()]);
                        let r = match num_compare(ins.op(), x, y) {
                            Some(r) => r,
                            None => cheap!(self.compare(ins.op(), x, y)),
                        };
                        w[ins.a()] = Val::Bool(r);
                    }
                    Op::LtI => {
                        let x = w[ins.b()];
                        let r = match x {
                            Val::Int(p) => p < ins.sc(),
                            _ => cheap!(self.compare(Op::Lt, x, Val::Int(ins.sc()))),
                        };
                        w[ins.a()] = Val::Bool(r);
                    }
                    Op::Neg => {
                        w[ins.a()] = match w[ins.b()] {
                            Val::Int(n) => match n.checked_neg() {
                                Some(r) => Val::Int(r),
                                None => throw!(msg::overflow()),
                            },
                            Val::Float(f) => Val::Float(-f),
                            _ => throw!(Ctrl::runtime("cannot negate non-number")),
                        }
                    }
                    Op::Not => w[ins.a()] = Val::Bool(!self.truthy(w[ins.b()])),
                    Op::ToBool => w[ins.a()] = Val::Bool(self.truthy(w[ins.b()])),
                    Op::Range => {
                        let (x, y) = (w[ins.b()], w[ins.c()]);
                        w[ins.a()] = cheap!(self.range(x, y));
                    }
                    Op::Template => {
                        let v = slow!(self.template(base + ins.b(), ins.c()));
                        w[ins.a()] = v;
                    }
                    Op::Jump => pc = (pc as i64 + ins.sbx() as i64) as usize,
                    Op::JumpIfFalse => {
                        if !self.truthy(w[ins.a()]) {
                            pc = (pc as i64 + ins.sbx() as i64) as usize;
                        }
                    }
                    Op::JumpIfTrue => {
                        if self.truthy(w[ins.a()]) {
                            pc = (pc as i64 + ins.sbx() as i64) as usize;
                        }
                    }
                    Op::JumpIfNotLtI => {
                        let less = match w[ins.a()] {
                            Val::Int(p) => p < ins.sc(),
                            x => cheap!(self.compare(Op::Lt, x, Val::Int(ins.sc()))),
                        };
                        if less {
                            pc += 1;
                        }
                    }
                    Op::IfLt | Op::IfLe | Op::IfGt | Op::IfGe => {
                        let (x, y) = (w[ins.a()], w[ins.b()]);
                        let holds = match num_compare(ins.op(), x, y) {
                            Some(r) => r,
                            None => cheap!(self.compare(plain(ins.op()), x, y)),
                        };
                        if holds {
                            pc += 1;
                        }
                    }
                    Op::IfEq | Op::IfNe => {
                        if self.equal(w[ins.a()], w[ins.b()]) == (ins.op() == Op::IfEq) {
                            pc += 1;
                        }
                    }
                    Op::Safepoint => {
                        self.budget -= 1;
                        if self.budget == 0 || self.heap.should_collect() {
                            self.frames[fi].pc = pc;
                            if let Some(exit) = slow!(self.safepoint()) {
                                sync!();
                                return Ok(exit);
                            }
                        }
                    }
                    Op::Call => {
                        // A closure called with all its parameters: the new
                        // frame is entered without leaving the loop.
                        if let Val::Obj(r) = w[ins.a()] {
                            if let HeapObj::Closure(c) = self.heap.get(r) {
                                let callee = c.proto;
                                let argc = ins.b();
                                if argc == callee.nparams as usize && fi + 1 < self.limits.max_depth {
                                    self.frames[fi].pc = pc;
                                    let new_base = base + ins.a() + 1;
                                    // The callee may change its parameters: they must not
                                    // show through the caller's variables.
                                    for v in &regs[new_base..new_base + argc] {
                                        self.share(*v);
                                    }
                                    let nregs = callee.nregs as usize;
                                    if regs.len() < new_base + WINDOW {
                                        regs.resize(new_base + WINDOW, Val::Null);
                                    }
                                    regs[new_base + argc..new_base + nregs + 1].fill(Val::Null);
                                    self.frames.push(Frame {
                                        proto: callee,
                                        pc: callee.body_start as usize,
                                        base: new_base,
                                        closure: Some(r),
                                        ret: base + ins.a(),
                                        kind: FrameKind::Call,
                                    });
                                    fi += 1;
                                    proto = callee;
                                    base = new_base;
                                    code = &proto.code[..];
                                    pc = callee.body_start as usize;
                                    w = window(&mut regs, base);
                                    continue;
                                }
                            }
                        }
                        frame_op!(self.op_call(base + ins.a(), ins.b(), true))
                    }
                    Op::CallMethod => frame_op!(self.op_call_method(proto, base + ins.a(), ins.b(), ins.c())),
                    Op::CallPlace => frame_op!(self.op_call_place(proto, base + ins.a(), ins.b(), ins.c())),
                    Op::Return => {
                        let v = w[ins.a()];
                        // Back to a caller in this run, without leaving the loop.
                        if fi > stop
                            && matches!(self.frames[fi].kind, FrameKind::Call)
                            && self.squads.iter().all(|s| s.frame < fi)
                        {
                            let done = self.frames.pop().expect("running frame");
                            regs[done.ret] = v;
                            fi -= 1;
                            let caller = &self.frames[fi];
                            proto = caller.proto;
                            base = caller.base;
                            code = &proto.code[..];
                            pc = caller.pc;
                            w = window(&mut regs, base);
                            continue;
                        }
                        sync!();
                        match self.op_return(v, stop) {
                            Some(v) => return Ok(Exit::Returned(v)),
                            None => continue 'reload,
                        }
                    }
                    Op::Try => {
                        let v = w[ins.b()];
                        match cheap!(self.op_try(v, ins.c() == 1)) {
                            Ok(inner) => w[ins.a()] = inner,
                            Err(err) => {
                                sync!();
                                match self.op_return(err, stop) {
                                    Some(v) => return Ok(Exit::Returned(v)),
                                    None => continue 'reload,
                                }
                            }
                        }
                    }
                    _ => frame_op!(self.op_other(proto, fi, base, ins)),
                }
            }
        }
    }
}
