//! `match` (FORGE.md §4.5): arms tried in order, each pattern compiled to
//! tests that jump to the next arm on failure.

use super::{FnCompiler, JumpHole, Reg};
use crate::syntax::ast::*;
use crate::vm::bytecode::op::Op;

impl FnCompiler<'_> {
    /// A `match` leaving its value in `dst` (`None`: as a statement).
    pub(crate) fn match_expr(&mut self, subject: &'static Expr, arms: &'static [MatchArm], dst: Option<Reg>) {
        let match_span = self.span;
        let s = self.regs.temp();
        self.expr_to(subject, s);
        let mut ends = Vec::new();
        for arm in arms {
            let mark = self.regs.mark();
            let mut fails = Vec::new();
            self.with_span(arm.span, |c| c.pattern(&arm.pattern, s, &mut fails));
            match &arm.body {
                ArmBody::Expr(x) => match dst {
                    Some(d) => self.expr_to(x, d),
                    None => {
                        let t = self.regs.temp();
                        self.expr_to(x, t);
                    }
                },
                ArmBody::Block(b) => self.block_value(b, dst),
                ArmBody::Stmt(st) => {
                    self.stmt(st);
                    if let Some(d) = dst {
                        self.abc(Op::LoadNull, d, 0, 0);
                    }
                }
            }
            self.regs.release(mark);
            ends.push(self.jump(Op::Jump, 0));
            for f in fails {
                self.patch_here(f);
            }
        }
        self.with_span(match_span, |c| c.abc(Op::NoMatch, s, 0, 0));
        for e in ends {
            self.patch_here(e);
        }
    }

    /// Tests `v` against `p`, binding names; failed tests jump via `fails`.
    fn pattern(&mut self, p: &'static Pattern, v: Reg, fails: &mut Vec<JumpHole>) {
        match p {
            Pattern::Wildcard => {}
            Pattern::Bind(decl) => {
                self.abc(Op::Share, v, 0, 0);
                self.bind_reg(decl, v);
            }
            Pattern::Unit(name) => {
                let t = self.regs.temp();
                let k = self.k_name(name);
                self.abc(Op::MatchUnit, t, v, k);
                fails.push(self.jump(Op::JumpIfFalse, t));
            }
            Pattern::Int(_) | Pattern::Float(_) | Pattern::Str(_) | Pattern::Bool(_) => {
                let lit = self.regs.temp();
                match p {
                    Pattern::Int(n) => self.load_int(*n, lit),
                    Pattern::Float(f) => {
                        let k = self.k_float(*f);
                        self.abx(Op::LoadK, lit, k);
                    }
                    Pattern::Str(s) => {
                        let k = self.k_str(s);
                        self.abx(Op::LoadK, lit, k);
                    }
                    Pattern::Bool(b) => {
                        self.abc(Op::LoadBool, lit, *b as u8, 0);
                    }
                    _ => unreachable!(),
                }
                // Strings and Bools match only their own type; numbers
                // compare across Int and Float (FORGE.md §4.5).
                self.abc(Op::Eq, lit, v, lit);
                fails.push(self.jump(Op::JumpIfFalse, lit));
            }
            Pattern::Ctor { name, args } => {
                let t = self.regs.temp();
                self.load_int(args.len() as i64, t);
                let k = self.k_name(name);
                self.abc(Op::MatchCtor, t, v, k);
                fails.push(self.jump(Op::JumpIfFalse, t));
                for (i, a) in args.iter().enumerate() {
                    let sub = self.regs.temp();
                    self.abc(Op::Payload, sub, v, i.min(255) as u8);
                    self.pattern(a, sub, fails);
                }
            }
        }
    }
}
