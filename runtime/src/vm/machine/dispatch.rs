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

use super::ops::arith_op;
use super::{Exit, Frame, FrameKind, Machine};
use crate::error::{msg, Ctrl};
use crate::vm::bytecode::chunk::Const;
use crate::vm::bytecode::op::Op;
use crate::vm::gc::HeapObj;
use crate::vm::value::Val;

/// Registers a frame can address (operands are 8 bits).
pub(crate) const WINDOW: usize = 256;

/// The running frame's registers, grown so that the full window exists.
#[inline(always)]
fn window(regs: &mut Vec<Val>, base: usize) -> &mut [Val; WINDOW] {
    if regs.len() < base + WINDOW {
        regs.resize(base + WINDOW, Val::Null);
    }
    regs[base..].first_chunk_mut().expect("window is WINDOW long")
}

impl Machine {
    /// Runs frames until the one at depth `stop` returns, the task blocks or
    /// its budget is spent. Instructions are counted only when the run's
    /// figures are wanted (`--stats`): the loop is compiled twice, and the
    /// one that does not count keeps a register free for the hot handlers
    /// (counting costs `loop` about 5% of its instructions).
    pub(crate) fn run(&mut self, stop: usize) -> Result<Exit, Ctrl> {
        if self.run.stats.is_some() {
            self.run_loop::<true>(stop)
        } else {
            self.run_loop::<false>(stop)
        }
    }

    // `sync!` resets the instruction count on paths that leave the loop too.
    #[allow(unused_assignments)]
    fn run_loop<const COUNT: bool>(&mut self, stop: usize) -> Result<Exit, Ctrl> {
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
            // Raises `c` at the current instruction: leaves the inner loop
            // for the one error path below (kept out of the hot code).
            macro_rules! throw {
                ($c:expr) => {
                    break $c
                };
            }
            // Raises `c` after `sync!`: takes the registers back first, so the
            // error path finds them where every other path leaves them.
            macro_rules! throw_synced {
                ($c:expr) => {{
                    let c = $c;
                    regs = std::mem::take(&mut self.regs);
                    break c;
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

            // `R[A] := R[x] op R[y]`, Ints and Floats inline.
            // `R[dst] := x op y` for operands given by reference: Ints and
            // Floats inline, anything else through `Machine::arith`.
            // (Matched by reference: copying a `Val` out first costs a
            // 16-byte store and reload through the stack.)
            macro_rules! arith_into {
                ($op:expr, $dst:expr, $x:expr, $y:expr) => {{
                    let bop = arith_op($op);
                    w[$dst] = match ($x, $y) {
                        (Val::Int(p), Val::Int(q)) => Val::Int(cheap!(crate::ops::int_result(bop, *p, *q))),
                        (Val::Float(p), Val::Float(q)) => Val::Float(crate::ops::float_arith(bop, *p, *q)),
                        (Val::Int(p), Val::Float(q)) => Val::Float(crate::ops::float_arith(bop, *p as f64, *q)),
                        (Val::Float(p), Val::Int(q)) => Val::Float(crate::ops::float_arith(bop, *p, *q as f64)),
                        (x, y) => {
                            let (x, y) = (*x, *y);
                            cheap!(self.arith($op, x, y))
                        }
                    };
                }};
            }
            // `R[A] := R[B] op R[C]`.
            macro_rules! arith {
                ($op:expr, $dst:expr, $x:expr, $y:expr) => {
                    arith_into!($op, $dst, &w[$x], &w[$y])
                };
            }
            // `R[A] := R[B] op K[C]` for a number constant.
            macro_rules! arith_k {
                ($op:expr, $ins:expr) => {{
                    let ins = $ins;
                    let k = match &proto.consts[ins.c()] {
                        Const::Int(n) => Val::Int(*n),
                        Const::Float(f) => Val::Float(*f),
                        Const::Str(_) => Val::Null,
                    };
                    arith_into!($op, ins.a(), &w[ins.b()], &k)
                }};
            }
            // The truthiness of `R[x]`, Bools inline.
            macro_rules! truthy {
                ($x:expr) => {
                    match &w[$x] {
                        Val::Bool(b) => *b,
                        v => self.truthy(*v),
                    }
                };
            }
            // `R[x] op R[y]` as a bool, Ints and Floats inline.
            macro_rules! compare {
                ($op:expr, $cmp:tt, $x:expr, $y:expr) => {{
                    match (&w[$x], &w[$y]) {
                        (Val::Int(p), Val::Int(q)) => p $cmp q,
                        (Val::Float(p), Val::Float(q)) => p $cmp q,
                        (x, y) => {
                            let (x, y) = (*x, *y);
                            cheap!(self.compare($op, x, y))
                        }
                    }
                }};
            }

            // The `Jump` after a conditional skip (`If*`, `JumpIfNotLtI`), taken
            // here without dispatching it (Lua's `donextjump`). The compiler
            // always emits that `Jump` right after the test (`cond_jump`). It is
            // not counted in `instructions` (the figure counts dispatches):
            // counting it moved `count` out of its CPU register (+10% on `loop`).
            macro_rules! skip_or_jump {
                ($skip:expr) => {{
                    if $skip {
                        pc += 1;
                    } else {
                        let j = code[pc];
                        debug_assert_eq!(j.op(), Op::Jump, "a conditional skip is followed by its Jump");
                        pc = (pc as i64 + 1 + j.sbx() as i64) as usize;
                    }
                }};
            }

            let error: Ctrl = loop {
                let ins = code[pc];
                pc += 1;
                if COUNT {
                    count += 1;
                }
                match ins.op() {
                    Op::Move => w[ins.a()] = w[ins.b()],
                    Op::LoadI => w[ins.a()] = Val::Int(ins.sbx() as i64),
                    Op::LoadNull => w[ins.a()] = Val::Null,
                    Op::LoadBool => w[ins.a()] = Val::Bool(ins.b() != 0),
                    Op::LoadNone => w[ins.a()] = Val::None,
                    Op::LoadK => w[ins.a()] = cheap!(self.constant(proto, ins.bx())),
                    Op::LoadBuiltin => w[ins.a()] = cheap!(self.builtin(ins.bx() as u32)),
                    Op::GetGlobal => {
                        w[ins.a()] = match self.global(ins.bx()) {
                            Some(v) => v,
                            None => match cheap!(self.inherited_global(ins.bx())) {
                                Some(v) => v,
                                None => throw!(self.undefined_global(ins.bx())),
                            },
                        }
                    }
                    Op::SetGlobal => {
                        if self.global(ins.bx()).is_none() && !self.is_inherited(ins.bx()) {
                            throw!(self.undefined_global(ins.bx()));
                        }
                        self.set_global(ins.bx(), Some(w[ins.a()]));
                        self.globals_version += 1;
                    }
                    Op::DefGlobal => {
                        self.set_global(ins.bx(), Some(w[ins.a()]));
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
                    Op::Share => {
                        if let Val::Obj(r) = &w[ins.a()] {
                            let r = *r;
                            self.share_obj(r);
                        }
                    }
                    Op::Unique => {
                        // Unshared (the common case): nothing to copy.
                        let fresh = match &w[ins.a()] {
                            Val::Obj(r) => match self.heap.get(*r) {
                                HeapObj::Array(a) => !a.shared,
                                HeapObj::Object(o) => !o.shared,
                                _ => true,
                            },
                            _ => true,
                        };
                        if !fresh {
                            slow!(self.op_unique(base + ins.a()))
                        }
                    }
                    // In-range Int index on an array, else the general path.
                    Op::GetIndex => {
                        let hit = match (&w[ins.b()], &w[ins.c()]) {
                            (Val::Obj(r), Val::Int(i)) => match self.heap.get(*r) {
                                HeapObj::Array(a) => usize::try_from(*i).ok().and_then(|i| a.items.get(i)).copied(),
                                _ => None,
                            },
                            _ => None,
                        };
                        match hit {
                            Some(v) => w[ins.a()] = v,
                            None => frame_op!(self.op_other(proto, fi, base, ins)),
                        }
                    }
                    Op::SetIndex => {
                        let done = match (&w[ins.a()], &w[ins.b()]) {
                            (Val::Obj(r), Val::Int(i)) => {
                                let (r, i, v) = (*r, *i, w[ins.c()]);
                                match self.heap.get_mut(r) {
                                    HeapObj::Array(a) => match usize::try_from(i).ok().and_then(|i| a.items.get_mut(i))
                                    {
                                        Some(slot) => {
                                            *slot = v;
                                            true
                                        }
                                        None => false,
                                    },
                                    _ => false,
                                }
                            }
                            _ => false,
                        };
                        if !done {
                            frame_op!(self.op_other(proto, fi, base, ins))
                        }
                    }
                    Op::GetField => {
                        let hit = match &w[ins.b()] {
                            Val::Obj(r) => match self.heap.get(*r) {
                                HeapObj::Object(o) => o.fields.get(Self::name(proto, ins.c()).as_str()).copied(),
                                _ => None,
                            },
                            _ => None,
                        };
                        match hit {
                            Some(v) => w[ins.a()] = v,
                            None => frame_op!(self.op_other(proto, fi, base, ins)),
                        }
                    }
                    // One arm per operator, so the operator is not decoded twice.
                    Op::Add => arith!(Op::Add, ins.a(), ins.b(), ins.c()),
                    Op::Sub => arith!(Op::Sub, ins.a(), ins.b(), ins.c()),
                    Op::Mul => arith!(Op::Mul, ins.a(), ins.b(), ins.c()),
                    Op::Div => arith!(Op::Div, ins.a(), ins.b(), ins.c()),
                    Op::Mod => arith!(Op::Mod, ins.a(), ins.b(), ins.c()),
                    Op::AddK => arith_k!(Op::Add, ins),
                    Op::SubK => arith_k!(Op::Sub, ins),
                    Op::MulK => arith_k!(Op::Mul, ins),
                    Op::DivK => arith_k!(Op::Div, ins),
                    Op::ModK => arith_k!(Op::Mod, ins),
                    Op::AddI => {
                        w[ins.a()] = match &w[ins.b()] {
                            Val::Int(p) => match p.checked_add(ins.sc()) {
                                Some(r) => Val::Int(r),
                                None => throw!(msg::overflow()),
                            },
                            x => {
                                let x = *x;
                                cheap!(self.arith(Op::Add, x, Val::Int(ins.sc())))
                            }
                        };
                    }
                    Op::SubI => {
                        w[ins.a()] = match &w[ins.b()] {
                            Val::Int(p) => match p.checked_sub(ins.sc()) {
                                Some(r) => Val::Int(r),
                                None => throw!(msg::overflow()),
                            },
                            x => {
                                let x = *x;
                                cheap!(self.arith(Op::Sub, x, Val::Int(ins.sc())))
                            }
                        };
                    }
                    Op::Eq | Op::Ne => {
                        let eq = match (&w[ins.b()], &w[ins.c()]) {
                            (Val::Int(p), Val::Int(q)) => p == q,
                            (x, y) => self.equal(*x, *y),
                        };
                        w[ins.a()] = Val::Bool(eq == (ins.op() == Op::Eq));
                    }
                    Op::Lt => w[ins.a()] = Val::Bool(compare!(Op::Lt, <, ins.b(), ins.c())),
                    Op::Le => w[ins.a()] = Val::Bool(compare!(Op::Le, <=, ins.b(), ins.c())),
                    Op::Gt => w[ins.a()] = Val::Bool(compare!(Op::Gt, >, ins.b(), ins.c())),
                    Op::Ge => w[ins.a()] = Val::Bool(compare!(Op::Ge, >=, ins.b(), ins.c())),
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
                        if !truthy!(ins.a()) {
                            pc = (pc as i64 + ins.sbx() as i64) as usize;
                        }
                    }
                    Op::JumpIfTrue => {
                        if truthy!(ins.a()) {
                            pc = (pc as i64 + ins.sbx() as i64) as usize;
                        }
                    }
                    Op::JumpIfNotLtI => {
                        let less = match &w[ins.a()] {
                            Val::Int(p) => *p < ins.sc(),
                            x => {
                                let x = *x;
                                cheap!(self.compare(Op::Lt, x, Val::Int(ins.sc())))
                            }
                        };
                        skip_or_jump!(less)
                    }
                    Op::IfLt => skip_or_jump!(compare!(Op::Lt, <, ins.a(), ins.b())),
                    Op::IfLe => skip_or_jump!(compare!(Op::Le, <=, ins.a(), ins.b())),
                    Op::IfGt => skip_or_jump!(compare!(Op::Gt, >, ins.a(), ins.b())),
                    Op::IfGe => skip_or_jump!(compare!(Op::Ge, >=, ins.a(), ins.b())),
                    Op::IfEq | Op::IfNe => {
                        let eq = match (&w[ins.a()], &w[ins.b()]) {
                            (Val::Int(p), Val::Int(q)) => p == q,
                            (x, y) => self.equal(*x, *y),
                        };
                        skip_or_jump!(eq == (ins.op() == Op::IfEq))
                    }
                    Op::Loop => {
                        let target = (pc as i64 + ins.sbx() as i64) as usize;
                        self.budget -= 1;
                        if self.budget == 0 || self.heap.should_collect() {
                            // Resumed at the loop's top; an error is located here.
                            self.frames[fi].pc = target;
                            if let Some(exit) = slow!(self.safepoint()) {
                                sync!();
                                return Ok(exit);
                            }
                        }
                        pc = target;
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
                                // When a safepoint is due (the budget's last unit, or
                                // a collection), the general path runs the callee's
                                // entry `Safepoint`.
                                if argc == callee.nparams as usize
                                    && self.budget > 1
                                    && !self.heap.should_collect()
                                    && fi + 1 < self.frame_limit
                                {
                                    self.budget -= 1;
                                    self.frames[fi].pc = pc;
                                    let ret = base + ins.a();
                                    base = ret + 1;
                                    w = window(&mut regs, base);
                                    // The callee may change its parameters: they must not
                                    // show through the caller's variables.
                                    // (A pointer-chasing loop costs a dozen instructions
                                    // even for the single argument of most calls.)
                                    if argc == 1 {
                                        if let Val::Obj(r) = w[0] {
                                            self.share_obj(r);
                                        }
                                    } else {
                                        for v in &w[..argc] {
                                            if let Val::Obj(r) = v {
                                                self.share_obj(*r);
                                            }
                                        }
                                    }
                                    // Registers beyond the parameters start empty (the GC
                                    // scans the whole frame).
                                    // A small frame clears eight registers, without a loop
                                    // (those past the frame are free: it is the top frame).
                                    let end = callee.nregs as usize + 1;
                                    match w[argc..].first_chunk_mut::<8>() {
                                        Some(first) if end <= argc + 8 => *first = [Val::Null; 8],
                                        _ => w[argc..end].fill(Val::Null),
                                    }
                                    self.frames.push(Frame {
                                        proto: callee,
                                        pc: callee.body_start as usize + 1,
                                        base,
                                        closure: Some(r),
                                        ret,
                                        kind: FrameKind::Call,
                                    });
                                    fi += 1;
                                    proto = callee;
                                    code = &proto.code[..];
                                    // The entry `Safepoint` is skipped: its check was made above.
                                    pc = callee.body_start as usize + 1;
                                    continue;
                                }
                            }
                        }
                        frame_op!(self.op_call(base + ins.a(), ins.b(), true))
                    }
                    Op::ChanSend | Op::ChanRecv => {
                        self.frames[fi].pc = pc;
                        sync!();
                        match self.op_channel(ins.op(), base + ins.a(), ins.b()) {
                            Ok(None) => {
                                regs = std::mem::take(&mut self.regs);
                                w = window(&mut regs, base);
                            }
                            Ok(Some(exit)) => return Ok(exit),
                            Err(c) => throw_synced!(c),
                        }
                    }
                    Op::CallMethod => frame_op!(self.op_call_method(proto, base + ins.a(), ins.b(), ins.c())),
                    Op::CallPlace => frame_op!(self.op_call_place(proto, base + ins.a(), ins.b(), ins.c())),
                    Op::Return => {
                        if ins.b() == 1 {
                            if let Val::Obj(r) = &w[ins.a()] {
                                let r = *r;
                                self.share_obj(r);
                            }
                        }
                        let v = w[ins.a()];
                        // Back to a caller in this run, without leaving the loop.
                        // (One length check for both frames; the caller's window
                        // exists: the registers only grow while the loop runs.)
                        if fi > stop && self.no_squad_from(fi) {
                            if let [.., caller, done] = &self.frames[..] {
                                if let FrameKind::Call = done.kind {
                                    let ret = done.ret;
                                    (proto, base, pc) = (caller.proto, caller.base, caller.pc);
                                    self.frames.truncate(fi);
                                    fi -= 1;
                                    regs[ret] = v;
                                    code = &proto.code[..];
                                    w = regs[base..].first_chunk_mut().expect("the caller's window exists");
                                    continue;
                                }
                            }
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
                    // Every other opcode, listed rather than `_`: with all opcodes
                    // named the jump table covers them all and the dispatch needs no
                    // range check (two instructions per dispatch).
                    #[rustfmt::skip]
                    Op::NewSpill | Op::GetSpill | Op::SetSpill | Op::CheckMethod | Op::Closure | Op::Must |
                    Op::NewArray | Op::ArrayPush | Op::ArrayExtend | Op::NewObject | Op::ObjectInsert |
                    Op::ObjectExtend | Op::MakeStruct | Op::GetFieldW | Op::GetIndexW | Op::SetField |
                    Op::GetFieldOr | Op::GetIndexOr | Op::SliceFrom | Op::IterInit | Op::IterNext |
                    Op::ForRangePrep | Op::MatchCtor | Op::MatchUnit | Op::Payload | Op::NoMatch | Op::Print |
                    Op::Sleep | Op::Check | Op::Fail | Op::DefStruct | Op::DefEnum | Op::DefInterface | Op::Impl |
                    Op::Import | Op::Spawn | Op::SpawnMethod | Op::Await | Op::SquadBegin | Op::SquadEnd => {
                        frame_op!(self.op_other(proto, fi, base, ins))
                    }
                }
            };
            sync!();
            self.frames[fi].pc = pc - 1;
            match self.unwind(error, stop) {
                Ok(Some(exit)) => return Ok(exit),
                Ok(None) => continue 'reload,
                Err(c) => return Err(c),
            }
        }
    }
}
