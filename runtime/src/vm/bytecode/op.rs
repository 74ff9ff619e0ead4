//! THE opcode table. Each line is one opcode: its name, operand format and
//! meaning; the macro generates the `Op` enum, the format table used by the
//! encoder and the disassembler, and the one-line docs.
//!
//! An instruction is 32 bits: `op` in bits 0–7, `A` in 8–15, then either
//! `B` (16–23) and `C` (24–31), or one 16-bit `Bx` (16–31). `sBx` is `Bx`
//! read as a signed offset (`Bx - 32767`), `sC` is `C` read as an `i8`.
//! `R[x]` is register x of the frame, `K[x]` constant x of the chunk,
//! `G[x]` global x of the program, `U[x]` captured cell x of the closure.
//!
//! How to add an opcode: add a line here, compile to it in `compiler/`,
//! execute it in `machine/dispatch.rs`. The disassembler needs nothing.

/// How an instruction's operands are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `A B C`
    Abc,
    /// `A Bx` (unsigned 16 bits)
    ABx,
    /// `A sBx` (signed jump offset or immediate)
    AsBx,
}

macro_rules! opcodes {
    ($($name:ident : $fmt:ident => $doc:literal,)*) => {
        /// Every VM instruction (see the table in `op.rs`).
        #[repr(u8)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Op {
            $(#[doc = $doc] $name,)*
        }

        impl Op {
            pub const ALL: &'static [Op] = &[$(Op::$name,)*];

            pub fn name(self) -> &'static str {
                match self { $(Op::$name => stringify!($name),)* }
            }

            pub fn format(self) -> Format {
                match self { $(Op::$name => Format::$fmt,)* }
            }

            /// The instruction's meaning, as written in the table.
            pub fn doc(self) -> &'static str {
                match self { $(Op::$name => $doc,)* }
            }
        }
    };
}

opcodes! {
    // ---- loads and moves
    Move: Abc => "R[A] := R[B]",
    LoadK: ABx => "R[A] := K[Bx]",
    LoadI: AsBx => "R[A] := sBx (an Int)",
    LoadNull: Abc => "R[A] := null",
    LoadBool: Abc => "R[A] := (B != 0)",
    LoadNone: Abc => "R[A] := None",
    LoadBuiltin: ABx => "R[A] := built-in #Bx",
    GetGlobal: ABx => "R[A] := G[Bx] (undefined variable if unset)",
    SetGlobal: ABx => "G[Bx] := R[A] (undefined variable if unset)",
    DefGlobal: ABx => "G[Bx] := R[A] (a declaration)",
    GetUpval: Abc => "R[A] := value of U[B]",
    SetUpval: Abc => "value of U[A] := R[B]",
    NewCell: Abc => "R[A] := a new cell holding R[B] (C=1: store into the cell already in R[A] if any)",
    GetCell: Abc => "R[A] := value of the cell in R[B]",
    SetCell: Abc => "value of the cell in R[A] := R[B]",
    NewSpill: ABx => "R[A] := an array of Bx nulls, the spilled locals of a very large function",
    GetSpill: Abc => "R[A] := spilled local C, in the array R[B]",
    SetSpill: Abc => "spilled local B in the array R[A] := R[C]",
    Share: Abc => "mark the array or object in R[A] shared (copy on next write)",
    Unique: Abc => "make the array or object in R[A] unshared, copying it if shared",

    // ---- arithmetic and comparison
    Add: Abc => "R[A] := R[B] + R[C]",
    Sub: Abc => "R[A] := R[B] - R[C]",
    Mul: Abc => "R[A] := R[B] * R[C]",
    Div: Abc => "R[A] := R[B] / R[C]",
    Mod: Abc => "R[A] := R[B] % R[C]",
    AddK: Abc => "R[A] := R[B] + K[C] (a number)",
    SubK: Abc => "R[A] := R[B] - K[C] (a number)",
    MulK: Abc => "R[A] := R[B] * K[C] (a number)",
    DivK: Abc => "R[A] := R[B] / K[C] (a number)",
    ModK: Abc => "R[A] := R[B] % K[C] (a number)",
    AddI: Abc => "R[A] := R[B] + sC",
    SubI: Abc => "R[A] := R[B] - sC",
    Eq: Abc => "R[A] := R[B] == R[C]",
    Ne: Abc => "R[A] := R[B] != R[C]",
    Lt: Abc => "R[A] := R[B] < R[C]",
    Le: Abc => "R[A] := R[B] <= R[C]",
    Gt: Abc => "R[A] := R[B] > R[C]",
    Ge: Abc => "R[A] := R[B] >= R[C]",
    LtI: Abc => "R[A] := R[B] < sC",
    Neg: Abc => "R[A] := -R[B]",
    Not: Abc => "R[A] := not R[B] (a Bool)",
    ToBool: Abc => "R[A] := the truthiness of R[B] (a Bool)",
    Range: Abc => "R[A] := R[B]..R[C]",
    Template: Abc => "R[A] := the display forms of R[B] .. R[B+C-1] joined",

    // ---- control flow
    Jump: AsBx => "pc += sBx",
    JumpIfFalse: AsBx => "if R[A] is falsy then pc += sBx",
    JumpIfTrue: AsBx => "if R[A] is truthy then pc += sBx",
    JumpIfNotLtI: Abc => "if R[A] < sC, skip the next instruction, else take it (always the Jump for a false condition; executed here, not dispatched)",
    IfEq: Abc => "if R[A] == R[B], skip the next instruction, else take it (always the Jump for a false condition; executed here, not dispatched)",
    IfNe: Abc => "if R[A] != R[B], skip the next instruction, else take that Jump",
    IfLt: Abc => "if R[A] < R[B], skip the next instruction, else take that Jump",
    IfLe: Abc => "if R[A] <= R[B], skip the next instruction, else take that Jump",
    IfGt: Abc => "if R[A] > R[B], skip the next instruction, else take that Jump",
    IfGe: Abc => "if R[A] >= R[B], skip the next instruction, else take that Jump",
    Loop: AsBx => "pc += sBx, then spend one reduction; the GC may run here (a loop's back edge)",
    Safepoint: Abc => "spend one reduction; the GC may run here",

    // ---- calls
    Call: Abc => "R[A] := R[A](R[A+1] .. R[A+B])",
    ChanSend: Abc => "R[A] := send(R[A+1], R[A+2]) by the built-in `send` (B=2: the window of a Call); a full channel suspends the task, which re-runs this instruction",
    ChanRecv: Abc => "R[A] := receive(R[A+1]) by the built-in `receive` (B=1: the window of a Call); an empty channel suspends the task, which re-runs this instruction",
    CheckMethod: Abc => "raise `no method K[C] on R[A]` unless R[A] has that method (before the arguments run)",
    CallMethod: Abc => "R[A] := method K[C] of R[A+1] applied to R[A+2] .. R[A+1+B]",
    CallPlace: Abc => "push/pop (built-in #C) on the value in R[A+1] with B more arguments; result in R[A], R[A+1] updated",
    Return: Abc => "return R[A] (B=1: mark it shared first, it may be held elsewhere)",
    Closure: ABx => "R[A] := a closure of child function #Bx over the current cells",
    Try: Abc => "R[A] := the payload of Ok R[B]; for Err, return R[B] (at top level: error)",
    Must: Abc => "R[A] := must R[B]",

    // ---- collections
    NewArray: Abc => "R[A] := [R[B] .. R[B+C-1]]",
    ArrayPush: Abc => "append R[B] to the fresh array in R[A]",
    ArrayExtend: Abc => "append the elements of array R[B] to the fresh array in R[A] (spread)",
    NewObject: Abc => "R[A] := {}",
    ObjectInsert: Abc => "R[A].K[B] := R[C] on a fresh object",
    ObjectExtend: Abc => "copy the entries of object R[B] into the fresh object in R[A] (spread)",
    MakeStruct: ABx => "R[A] := the fresh object in R[A] as an instance of struct K[Bx] (field order, defaults, tag)",
    GetField: Abc => "R[A] := R[B].K[C]",
    GetIndex: Abc => "R[A] := R[B][R[C]]",
    GetFieldW: Abc => "R[A] := R[B].K[C] made unshared (written back), for a write below it",
    GetIndexW: Abc => "R[A] := R[B][R[C]] made unshared (written back), for a write below it",
    SetField: Abc => "R[A].K[B] := R[C] (R[A] unshared)",
    SetIndex: Abc => "R[A][R[B]] := R[C] (R[A] unshared)",
    GetFieldOr: Abc => "R[A] := R[B].K[C], or null when absent (unpack)",
    GetIndexOr: Abc => "R[A] := R[B][C], or null when absent (unpack, tuples)",
    SliceFrom: Abc => "R[A] := elements C.. of array R[B] (unpack rest)",

    // ---- loops
    IterInit: Abc => "R[A] := what `for` iterates in R[B] (C=1: a `repeat` count); R[A+1] := position 0",
    IterNext: Abc => "next item of R[A] into R[A+2] (C=1: also index or value into R[A+3]) and skip the next instruction; at the end, fall through to it (the loop's exit Jump)",
    ForRangePrep: Abc => "check that the range bounds R[A], R[A+1] are Ints",

    // ---- patterns
    MatchCtor: Abc => "R[A] := R[B] is Ok/Err/Some/variant named K[C]",
    MatchUnit: Abc => "R[A] := R[B] is the unit variant or None named K[C]",
    Payload: Abc => "R[A] := field C of the Ok/Err/Some/variant in R[B]",
    NoMatch: Abc => "raise `no match arm matched R[A]`",

    // ---- statements
    Print: Abc => "print R[A] with a newline (B: 0 say, 1 yell, 2 whisper)",
    Sleep: Abc => "suspend the task for R[A] seconds",
    Check: Abc => "raise `check failed` for R[A] unless it passes (C=0: R[B] truthy; C=1: R[A] not empty)",
    Fail: ABx => "raise the error message K[Bx]",
    DefStruct: ABx => "declare struct #Bx (field defaults in R[A] ..)",
    DefEnum: ABx => "declare enum #Bx",
    DefInterface: ABx => "declare interface #Bx",
    Impl: ABx => "attach the methods in R[A] .. of impl block #Bx",
    Import: ABx => "run module #Bx and copy its definitions",

    // ---- tasks
    Spawn: Abc => "R[A] := a task running R[A+1](R[A+2] .. R[A+1+B]); C=1: member of the current squad",
    SpawnMethod: Abc => "R[A] := a task running method K[C >> 1] of R[A+1] on R[A+2] .. R[A+1+B]; C & 1: squad member",
    Await: Abc => "R[A] := the result of task R[B] (other values pass through)",
    SquadBegin: Abc => "start collecting spawned tasks",
    SquadEnd: Abc => "R[A] := the results of the squad's tasks, waiting for all",
}

/// One encoded instruction. The field is private: only the constructors
/// below make instructions, which is what makes `op()` sound.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Instr(u32);

impl Instr {
    pub fn abc(op: Op, a: u8, b: u8, c: u8) -> Instr {
        Instr(op as u32 | (a as u32) << 8 | (b as u32) << 16 | (c as u32) << 24)
    }

    pub fn abx(op: Op, a: u8, bx: u16) -> Instr {
        Instr(op as u32 | (a as u32) << 8 | (bx as u32) << 16)
    }

    pub fn asbx(op: Op, a: u8, sbx: i32) -> Instr {
        let bx = (sbx + SBX_BIAS) as u32 & 0xffff;
        Instr(op as u32 | (a as u32) << 8 | bx << 16)
    }

    #[inline(always)]
    #[allow(unsafe_code)]
    pub fn op(self) -> Op {
        let b = (self.0 & 0xff) as u8;
        debug_assert!((b as usize) < Op::ALL.len());
        // SAFETY: every `Instr` comes from `abc`, `abx` or `asbx` (the field
        // is private), which store `op as u32` in the low byte; so `b` is the
        // discriminant of an `Op`, a `repr(u8)` enum numbered 0..ALL.len()
        // (checked for every opcode by `encoding_round_trips`).
        unsafe { std::mem::transmute::<u8, Op>(b) }
    }

    #[inline(always)]
    pub fn a(self) -> usize {
        ((self.0 >> 8) & 0xff) as usize
    }

    #[inline(always)]
    pub fn b(self) -> usize {
        ((self.0 >> 16) & 0xff) as usize
    }

    #[inline(always)]
    pub fn c(self) -> usize {
        (self.0 >> 24) as usize
    }

    #[inline(always)]
    pub fn sc(self) -> i64 {
        (self.0 >> 24) as u8 as i8 as i64
    }

    #[inline(always)]
    pub fn bx(self) -> usize {
        (self.0 >> 16) as usize
    }

    #[inline(always)]
    pub fn sbx(self) -> i32 {
        (self.0 >> 16) as i32 - SBX_BIAS
    }

    /// Rewrites the jump offset of an `AsBx` instruction (patching).
    pub fn with_sbx(self, sbx: i32) -> Instr {
        Instr::asbx(self.op(), self.a() as u8, sbx)
    }
}

/// `sBx = Bx - SBX_BIAS`.
pub const SBX_BIAS: i32 = 32767;
/// Largest jump distance in either direction.
pub const MAX_JUMP: i32 = 32767;

impl std::fmt::Debug for Instr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = self.op();
        match op.format() {
            Format::Abc => write!(f, "{:<14} {} {} {}", op.name(), self.a(), self.b(), self.c()),
            Format::ABx => write!(f, "{:<14} {} {}", op.name(), self.a(), self.bx()),
            Format::AsBx => write!(f, "{:<14} {} {}", op.name(), self.a(), self.sbx()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips() {
        let i = Instr::abc(Op::Add, 1, 2, 255);
        assert_eq!((i.op(), i.a(), i.b(), i.c()), (Op::Add, 1, 2, 255));
        let j = Instr::asbx(Op::Jump, 0, -5);
        assert_eq!((j.op(), j.sbx()), (Op::Jump, -5));
        let k = Instr::abx(Op::LoadK, 7, 65535);
        assert_eq!((k.a(), k.bx()), (7, 65535));
        assert_eq!(Instr::abc(Op::AddI, 0, 0, (-3i8) as u8).sc(), -3);
        assert!(Op::ALL.len() < 256);
        for (i, op) in Op::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i);
            assert_eq!(Instr::abc(*op, 255, 255, 255).op(), *op);
            assert_eq!(Instr::abx(*op, 255, 65535).op(), *op);
            assert_eq!(Instr::asbx(*op, 255, -MAX_JUMP).op(), *op);
            assert_eq!(Instr::asbx(*op, 0, MAX_JUMP).with_sbx(-1).op(), *op);
        }
    }
}
