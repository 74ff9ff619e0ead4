//! `forge disasm`: a chunk and its children printed readably, each
//! instruction with its operands' meaning and its source line.

use std::fmt::Write;

use super::chunk::{Const, Proto};
use super::op::{Format, Op};
use crate::syntax::span::SourceMap;

/// The listing of `proto` and, after it, of every nested function.
pub fn disassemble(proto: &Proto, sources: &SourceMap) -> String {
    let mut out = String::new();
    let mut todo = vec![proto];
    while let Some(p) = todo.pop() {
        listing(p, sources, &mut out);
        todo.extend(p.children.iter().rev().copied());
    }
    out
}

fn constant(c: &Const) -> String {
    match c {
        Const::Int(n) => n.to_string(),
        Const::Float(f) => format!("{f:?}"),
        Const::Str(s) => format!("{s:?}"),
    }
}

fn listing(p: &Proto, sources: &SourceMap, out: &mut String) {
    let _ = writeln!(
        out,
        "function {} ({} params, {} registers, {} constants, {} children)",
        p.name,
        p.nparams,
        p.nregs,
        p.consts.len(),
        p.children.len()
    );
    let mut last_line = 0;
    for (pc, ins) in p.code.iter().enumerate() {
        let span = p.spans[pc];
        let file = sources.get(span.file);
        let (line, _) = file.line_col(span.start as usize);
        let source = if line != last_line {
            last_line = line;
            let text = file.text.lines().nth(line - 1).unwrap_or("").trim();
            format!("  ; {line}: {text}")
        } else {
            String::new()
        };
        let op = ins.op();
        let note = match (op, op.format()) {
            (Op::LoadK | Op::MakeStruct, _) => p.consts.get(ins.bx()).map(constant).unwrap_or_default(),
            (
                Op::GetField
                | Op::GetFieldW
                | Op::GetFieldOr
                | Op::CallMethod
                | Op::CallPlace
                | Op::MatchCtor
                | Op::MatchUnit
                | Op::CheckMethod,
                _,
            ) => p.names.get(ins.c()).map(|n| format!("{n:?}")).unwrap_or_default(),
            (Op::ObjectInsert | Op::SetField, _) => p.names.get(ins.b()).map(|n| format!("{n:?}")).unwrap_or_default(),
            (_, Format::AsBx) if op != Op::LoadI => format!("-> {}", pc as i64 + 1 + ins.sbx() as i64),
            _ => String::new(),
        };
        let _ = writeln!(out, "{pc:5}  {ins:?}  {note:<24}{source}");
    }
    for h in &p.handlers {
        let _ = writeln!(out, "  handler [{}, {}) -> {} error in {:?}", h.start, h.end, h.target, h.error_reg);
    }
    out.push('\n');
}
