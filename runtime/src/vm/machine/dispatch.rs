//! The dispatch loop, and nothing else: decode, execute, repeat. Anything
//! longer than a few lines lives in `ops.rs` or `call.rs`.
//!
//! `run(stop)` executes until the frame at index `stop` returns (`Exit::
//! Returned`), the task yields or blocks (`Exit::Yielded`/`Blocked`, with
//! the running frame's `pc` saved so the loop can be entered again), or an
//! error escapes every handler of the frames above `stop`.

use super::{Exit, Machine};
use crate::error::Ctrl;
use crate::vm::bytecode::op::Op;
use crate::vm::value::Val;

/// Runs `$e`; on error saves `pc` (pointing at the failing instruction) and
/// unwinds to a handler, restarting the loop there, or leaves `run`.
macro_rules! tri {
    ($m:ident, $fi:ident, $pc:ident, $stop:ident, $reload:lifetime, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(c) => {
                $m.frames[$fi].pc = $pc - 1;
                match $m.unwind(c, $stop) {
                    Ok(Some(exit)) => return Ok(exit),
                    Ok(None) => continue $reload,
                    Err(c) => return Err(c),
                }
            }
        }
    };
}

impl Machine {
    pub(crate) fn run(&mut self, stop: usize) -> Result<Exit, Ctrl> {
        'reload: loop {
            let fi = self.frames.len() - 1;
            let proto = self.frames[fi].proto;
            let base = self.frames[fi].base;
            let code = &proto.code[..];
            let mut pc = self.frames[fi].pc;
            loop {
                let ins = code[pc];
                pc += 1;
                self.instructions += 1;
                let a = base + ins.a();
                match ins.op() {
                    Op::Move => self.regs[a] = self.regs[base + ins.b()],
                    Op::LoadI => self.regs[a] = Val::Int(ins.sbx() as i64),
                    Op::LoadNull => self.regs[a] = Val::Null,
                    Op::LoadBool => self.regs[a] = Val::Bool(ins.b() != 0),
                    Op::LoadNone => self.regs[a] = Val::None,
                    Op::LoadK => self.regs[a] = tri!(self, fi, pc, stop, 'reload, self.constant(proto, ins.bx())),
                    Op::LoadBuiltin => self.regs[a] = tri!(self, fi, pc, stop, 'reload, self.builtin(ins.bx() as u32)),
                    Op::GetGlobal => {
                        self.regs[a] = match self.globals[ins.bx()] {
                            Some(v) => v,
                            None => tri!(self, fi, pc, stop, 'reload, Err(self.undefined_global(ins.bx()))),
                        }
                    }
                    Op::SetGlobal => {
                        if self.globals[ins.bx()].is_none() {
                            tri!(self, fi, pc, stop, 'reload, Err(self.undefined_global(ins.bx())));
                        }
                        self.globals[ins.bx()] = Some(self.regs[a]);
                        self.globals_version += 1;
                    }
                    Op::DefGlobal => {
                        self.globals[ins.bx()] = Some(self.regs[a]);
                        self.globals_version += 1;
                    }
                    Op::GetUpval => self.regs[a] = self.upval(fi, ins.b()),
                    Op::SetUpval => {
                        let v = self.regs[base + ins.b()];
                        self.set_upval(fi, ins.a(), v);
                    }
                    Op::NewCell => tri!(self, fi, pc, stop, 'reload, self.op_new_cell(a, base + ins.b(), ins.c() == 1)),
                    Op::GetCell => self.regs[a] = self.cell_value(self.regs[base + ins.b()]),
                    Op::SetCell => tri!(self, fi, pc, stop, 'reload, self.op_set_cell(a, self.regs[base + ins.b()])),
                    Op::Share => self.share(self.regs[a]),
                    Op::Unique => tri!(self, fi, pc, stop, 'reload, self.op_unique(a)),
                    Op::Add => {
                        let (x, y) = (self.regs[base + ins.b()], self.regs[base + ins.c()]);
                        self.regs[a] = match (x, y) {
                            (Val::Int(p), Val::Int(q)) => match p.checked_add(q) {
                                Some(r) => Val::Int(r),
                                None => tri!(self, fi, pc, stop, 'reload, Err(crate::error::msg::overflow())),
                            },
                            (Val::Float(p), Val::Float(q)) => Val::Float(p + q),
                            _ => tri!(self, fi, pc, stop, 'reload, self.arith(Op::Add, x, y)),
                        };
                    }
                    Op::Sub | Op::Mul | Op::Div | Op::Mod => {
                        let (x, y) = (self.regs[base + ins.b()], self.regs[base + ins.c()]);
                        self.regs[a] = tri!(self, fi, pc, stop, 'reload, self.arith(ins.op(), x, y));
                    }
                    Op::AddI | Op::SubI => {
                        let x = self.regs[base + ins.b()];
                        let k = if ins.op() == Op::AddI { ins.sc() } else { -ins.sc() };
                        self.regs[a] = match x {
                            Val::Int(p) => match p.checked_add(k) {
                                Some(r) => Val::Int(r),
                                None => tri!(self, fi, pc, stop, 'reload, Err(crate::error::msg::overflow())),
                            },
                            _ => {
                                let op = if ins.op() == Op::AddI { Op::Add } else { Op::Sub };
                                tri!(self, fi, pc, stop, 'reload, self.arith(op, x, Val::Int(ins.sc())))
                            }
                        };
                    }
                    Op::Eq | Op::Ne => {
                        let eq = self.equal(self.regs[base + ins.b()], self.regs[base + ins.c()]);
                        self.regs[a] = Val::Bool(eq == (ins.op() == Op::Eq));
                    }
                    Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                        let (x, y) = (self.regs[base + ins.b()], self.regs[base + ins.c()]);
                        let r = match (x, y) {
                            (Val::Int(p), Val::Int(q)) => match ins.op() {
                                Op::Lt => p < q,
                                Op::Le => p <= q,
                                Op::Gt => p > q,
                                _ => p >= q,
                            },
                            _ => tri!(self, fi, pc, stop, 'reload, self.compare(ins.op(), x, y)),
                        };
                        self.regs[a] = Val::Bool(r);
                    }
                    Op::LtI => {
                        let x = self.regs[base + ins.b()];
                        let r = match x {
                            Val::Int(p) => p < ins.sc(),
                            _ => tri!(self, fi, pc, stop, 'reload, self.compare(Op::Lt, x, Val::Int(ins.sc()))),
                        };
                        self.regs[a] = Val::Bool(r);
                    }
                    Op::Neg => {
                        self.regs[a] = match self.regs[base + ins.b()] {
                            Val::Int(n) => match n.checked_neg() {
                                Some(r) => Val::Int(r),
                                None => tri!(self, fi, pc, stop, 'reload, Err(crate::error::msg::overflow())),
                            },
                            Val::Float(f) => Val::Float(-f),
                            _ => tri!(self, fi, pc, stop, 'reload, Err(Ctrl::runtime("cannot negate non-number"))),
                        }
                    }
                    Op::Not => self.regs[a] = Val::Bool(!self.truthy(self.regs[base + ins.b()])),
                    Op::ToBool => self.regs[a] = Val::Bool(self.truthy(self.regs[base + ins.b()])),
                    Op::Range => {
                        let (x, y) = (self.regs[base + ins.b()], self.regs[base + ins.c()]);
                        self.regs[a] = tri!(self, fi, pc, stop, 'reload, self.range(x, y));
                    }
                    Op::Template => {
                        self.regs[a] = tri!(self, fi, pc, stop, 'reload, self.template(base + ins.b(), ins.c()))
                    }
                    Op::Jump => pc = (pc as i64 + ins.sbx() as i64) as usize,
                    Op::JumpIfFalse => {
                        if !self.truthy(self.regs[a]) {
                            pc = (pc as i64 + ins.sbx() as i64) as usize;
                        }
                    }
                    Op::JumpIfTrue => {
                        if self.truthy(self.regs[a]) {
                            pc = (pc as i64 + ins.sbx() as i64) as usize;
                        }
                    }
                    Op::JumpIfNotLtI => {
                        let less = match self.regs[a] {
                            Val::Int(p) => p < ins.sc(),
                            x => tri!(self, fi, pc, stop, 'reload, self.compare(Op::Lt, x, Val::Int(ins.sc()))),
                        };
                        if less {
                            pc += 1;
                        }
                    }
                    Op::Safepoint => {
                        self.budget -= 1;
                        if self.budget == 0 || self.heap.should_collect() {
                            self.frames[fi].pc = pc;
                            if let Some(exit) = tri!(self, fi, pc, stop, 'reload, self.safepoint()) {
                                return Ok(exit);
                            }
                        }
                    }
                    Op::Call => {
                        self.frames[fi].pc = pc;
                        if tri!(self, fi, pc, stop, 'reload, self.op_call(a, ins.b(), true)) {
                            continue 'reload;
                        }
                    }
                    Op::CallMethod => {
                        self.frames[fi].pc = pc;
                        if tri!(self, fi, pc, stop, 'reload, self.op_call_method(proto, a, ins.b(), ins.c())) {
                            continue 'reload;
                        }
                    }
                    Op::CallPlace => {
                        self.frames[fi].pc = pc;
                        if tri!(self, fi, pc, stop, 'reload, self.op_call_place(proto, a, ins.b(), ins.c())) {
                            continue 'reload;
                        }
                    }
                    Op::Return => {
                        let v = self.regs[a];
                        match self.op_return(v, stop) {
                            Some(v) => return Ok(Exit::Returned(v)),
                            None => continue 'reload,
                        }
                    }
                    Op::Try => {
                        let v = self.regs[base + ins.b()];
                        match tri!(self, fi, pc, stop, 'reload, self.op_try(v, ins.c() == 1)) {
                            Ok(inner) => self.regs[a] = inner,
                            Err(err) => match self.op_return(err, stop) {
                                Some(v) => return Ok(Exit::Returned(v)),
                                None => continue 'reload,
                            },
                        }
                    }
                    _ => {
                        self.frames[fi].pc = pc;
                        if tri!(self, fi, pc, stop, 'reload, self.op_other(proto, fi, base, ins)) {
                            continue 'reload;
                        }
                    }
                }
            }
        }
    }
}
