//! Differential test of the execution tiers: random well-formed Forge
//! programs must behave identically on the tree-walking interpreter
//! (`forge run --interp`) and on the bytecode VM (`forge run --vm`).
//!
//! Each case is a small generated program (at most 40 generated statements,
//! some of them multi-line snippets) that always terminates: after a fixed
//! prelude (a struct with methods and an enum), `let`/`let mut` variables of
//! a statically known kind (Int, Float, String, Bool, arrays of Ints, nested
//! arrays, objects, a struct, an enum, closures), assignments and compound
//! assignments,
//! arithmetic including overflow and division by zero, comparisons,
//! `if`/`else`, `when`, `match`, `while` and `loop` with bounded counters,
//! `for` over arrays, ranges and objects, `repeat N times`, `break`/`continue`,
//! hoisted top-level functions (calls only go "down" the definition order, so
//! the call graph is acyclic), bounded recursion, closures capturing mutable
//! variables, array and object value semantics (`let mut b = a; b.push(1)`),
//! missing fields and out-of-range indexes, string interpolation, `try`/`catch`,
//! assertions, `exit`, and printing with `say`/`print`/`println`; built-ins
//! called with arguments of random types; and snippets aimed at one rule each
//! (closures made in loops, leaving a `try` with `break`/`continue`/`return`,
//! errors deep in calls, shadowing, default parameters and arity errors,
//! Result/Option and `?`, pipes, nested places, integer edges, `safe`,
//! changing a collection while iterating it, stack overflow, left-to-right
//! evaluation, operands that later operands change in place). Every
//! expression that builds a String, Array or Object refers to at most one such
//! variable, so values grow at most linearly and programs stay fast. Programs
//! may end in a runtime error; that is part of what is compared.
//!
//! Each program is written to a temporary file and run on each tier; stdout,
//! the exit status and the first line of stderr must be identical, and no
//! tier may crash (Rust panic, signal) or hang. On a disagreement the program
//! and every tier's output are printed. Besides `--interp` and `--vm` the
//! program also runs on `vm-stress`, the VM with `FORGE_GC_STRESS=1` (a
//! collection at every safepoint after an allocation), which catches values
//! the VM forgot to root. Programs run with `FORGE_MAX_DEPTH=1000`, so that
//! stack overflows come quickly.
//!
//! The generator is driven by a proptest-generated vector of choices (every
//! decision takes the next number; an exhausted vector means "simplest
//! choice" and ends the program). A disagreeing program is minimised by
//! deleting statements while the tiers still disagree, and reported with the
//! seed that replays the run.
//!
//! Environment:
//! - `FORGE_DIFF_CASES=N`: number of programs (default 500);
//! - `FORGE_DIFF_TIERS=interp,vm`: the tiers to compare, reference first
//!   (default `interp,vm,vm-stress`);
//! - `FORGE_DIFF_SEED=N`: replay one run (the seed is printed on failure;
//!   by default each run picks a new one);
//! - `FORGE_DIFF_MINIMISE_SECS=N`: time spent minimising a disagreeing
//!   program by deleting statements (default 60; it usually takes a second);
//! - `FORGE_DIFF_KEEP_GOING=1`: do not stop at the first disagreement, report
//!   all of them at the end;
//! - `FORGE_DIFF_SAVE=DIR`: write every disagreeing program, and its
//!   minimised form (`…-min.fg`), to `DIR`;
//! - `FORGE_DIFF_SHOW=N`: print the first N generated programs and how they
//!   ended (to look at what the generator makes);
//! - `FORGE_DIFF_STATS=1`: print how many programs ended with each exit
//!   status and error message.
//!
//! Known disagreements are kept, minimised, as conformance cases in
//! `tests/cases/differential/`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

// ---------------------------------------------------------------------------
// The program generator
// ---------------------------------------------------------------------------

/// The static kind of a generated variable or expression. The generator
/// only stores values of a variable's kind in it, so it always knows which
/// operations make sense (and which deliberately do not).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Int,
    Float,
    Str,
    Bool,
    /// Array of Ints.
    Arr,
    /// Array of arrays of Ints.
    Grid,
    /// Object with fields `a` (Int), `b` (String) and maybe `c` (Int).
    Obj,
    /// Instance of the prelude's `struct P { x: Int, y: Int = 0 }`.
    Point,
    /// Value of the prelude's `type Shape = Circle(Int) | Rect(Int, Int) | Dot`.
    Shape,
    /// Function from one Int to an Int.
    Func,
}

impl Kind {
    const ALL: [Kind; 10] = [
        Kind::Int,
        Kind::Float,
        Kind::Str,
        Kind::Bool,
        Kind::Arr,
        Kind::Grid,
        Kind::Obj,
        Kind::Point,
        Kind::Shape,
        Kind::Func,
    ];

    /// Kinds whose values can grow without bound when built from themselves.
    fn is_big(self) -> bool {
        matches!(self, Kind::Str | Kind::Arr | Kind::Grid | Kind::Obj)
    }
}

#[derive(Clone, Debug)]
struct Var {
    name: String,
    kind: Kind,
    /// `let mut` (or a parameter) that the generator may change; loop
    /// counters and recursion depths are `false` so loops stay bounded.
    assignable: bool,
}

/// A top-level function: `fN(params) -> ret`. Recursive functions take a
/// depth first (`rN(n, x)`).
#[derive(Clone, Debug)]
struct Func {
    name: String,
    params: Vec<Kind>,
    ret: Kind,
    recursive: bool,
}

const INTS: [&str; 14] = [
    "0",
    "1",
    "2",
    "3",
    "5",
    "7",
    "10",
    "42",
    "(-1)",
    "(-3)",
    "100",
    "1_000",
    "4611686018427387904",
    "9223372036854775807",
];
const FLOATS: [&str; 12] = [
    "0.5",
    "2.25",
    "1.0",
    "3.0",
    "0.1",
    "(-1.5)",
    "100000.0",
    "0.0001",
    "0.00001",
    "12345678912345678.0",
    "0.0",
    "(-0.0)",
];
const STRS: [&str; 12] = [
    r#""""#,
    r#""a""#,
    r#""hi""#,
    r#""Ab c""#,
    r#""a\tb""#,
    r#""q\"t""#,
    r#""héllo""#,
    r#""x\ny""#,
    r#""br\{ace\}""#,
    r#""10""#,
    r#""-7""#,
    r#""2.5""#,
];

/// Prepended to every program.
const PRELUDE: &str = "struct P { x: Int, y: Int = 0 }
type Shape = Circle(Int) | Rect(Int, Int) | Dot
impl P {
    fn sum(it) { return it.x + it.y }
    fn scaled(it, k) { return P { x: it.x * k, y: it.y * k } }
    fn origin() { return P { x: 0, y: 0 } }
}
";

/// Builds one program from a vector of choices.
struct Gen<'a> {
    choices: &'a [u32],
    pos: usize,
    /// Visible variables, innermost scope last.
    scopes: Vec<Vec<Var>>,
    funcs: Vec<Func>,
    /// `funcs[..callable]` may be called from the code being generated.
    callable: usize,
    next_id: usize,
    stmts_left: usize,
    /// Loops around the current point within the current function body
    /// (for `break`/`continue`).
    loop_depth: usize,
    /// Loops around the current point including those around the enclosing
    /// lambda definitions (bounds the running time).
    loop_nest: usize,
    /// Result kind of the function being generated (`return` is allowed).
    ret: Option<Kind>,
    /// Inside `try` blocks: risky operations become more likely.
    try_depth: usize,
    /// How many more String/Array/Object variables the expression being
    /// built may mention.
    big_refs: u32,
    /// Nesting of function and lambda bodies.
    fn_depth: usize,
    /// Risky operations may also appear outside `try` (one program in three).
    wild: bool,
}

/// Indents every line of `s` by four spaces.
fn indent(s: &str) -> String {
    s.lines().map(|l| if l.is_empty() { "\n".to_string() } else { format!("    {l}\n") }).collect()
}

impl<'a> Gen<'a> {
    fn new(choices: &'a [u32]) -> Self {
        Gen {
            choices,
            pos: 0,
            scopes: vec![Vec::new()],
            funcs: Vec::new(),
            callable: 0,
            next_id: 0,
            stmts_left: 0,
            loop_depth: 0,
            loop_nest: 0,
            ret: None,
            try_depth: 0,
            big_refs: 1,
            fn_depth: 0,
            wild: false,
        }
    }

    // ---- choices -------------------------------------------------------

    fn next(&mut self) -> u32 {
        let c = self.choices.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        c
    }

    /// No choices left: the program ends as soon as possible.
    fn exhausted(&self) -> bool {
        self.pos >= self.choices.len()
    }

    /// A number in `0..n`; 0 when the choices are exhausted.
    fn below(&mut self, n: usize) -> usize {
        self.next() as usize % n.max(1)
    }

    /// True with probability `1/n` (false when exhausted).
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == n - 1
    }

    /// One of `opts` by weight; the first option is the one taken when the
    /// choices are exhausted, so it must be the simplest.
    fn pick<T: Copy>(&mut self, opts: &[(u32, T)]) -> T {
        let total: u32 = opts.iter().map(|o| o.0).sum();
        let mut r = self.next() % total.max(1);
        for &(w, t) in opts {
            if r < w {
                return t;
            }
            r -= w;
        }
        opts[0].1
    }

    fn elem<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.below(items.len())]
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{}", self.next_id)
    }

    /// Weight of an option that may raise a runtime error.
    fn risk(&self) -> u32 {
        if self.try_depth > 0 {
            4
        } else {
            u32::from(self.wild)
        }
    }

    // ---- scopes ----------------------------------------------------------

    fn declare(&mut self, name: &str, kind: Kind, assignable: bool) {
        self.scopes.last_mut().expect("a scope").push(Var { name: name.to_string(), kind, assignable });
    }

    /// Visible variables of `kind` (innermost declaration of each name wins).
    fn visible(&self, kind: Kind, assignable_only: bool) -> Vec<Var> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for scope in self.scopes.iter().rev() {
            for v in scope.iter().rev() {
                if seen.contains(&v.name.as_str()) {
                    continue;
                }
                seen.push(&v.name);
                if v.kind == kind && (v.assignable || !assignable_only) {
                    out.push(v.clone());
                }
            }
        }
        out
    }

    fn any_var(&mut self, kind: Kind, assignable_only: bool) -> Option<String> {
        let vars = self.visible(kind, assignable_only);
        if vars.is_empty() {
            None
        } else {
            let i = self.below(vars.len());
            Some(vars[i].name.clone())
        }
    }

    /// A variable reference for an expression of `kind`, if one is visible
    /// and the growth budget allows it.
    fn var_ref(&mut self, kind: Kind) -> Option<String> {
        if kind.is_big() && self.big_refs == 0 {
            return None;
        }
        let v = self.any_var(kind, false)?;
        if kind.is_big() {
            self.big_refs -= 1;
        }
        Some(v)
    }

    fn has_var(&self, kind: Kind) -> bool {
        (!kind.is_big() || self.big_refs > 0) && !self.visible(kind, false).is_empty()
    }

    fn callable_returning(&self, kind: Kind) -> Vec<Func> {
        self.funcs[..self.callable].iter().filter(|f| f.ret == kind).cloned().collect()
    }

    // ---- expressions ---------------------------------------------------

    /// An expression of `kind` that does not count against the growth
    /// budget of the enclosing expression (its value is small, or it is
    /// only printed).
    fn small(&mut self, kind: Kind, d: u32) -> String {
        let saved = self.big_refs;
        if !kind.is_big() {
            self.big_refs = 1;
        }
        let e = self.expr(kind, d);
        if !kind.is_big() {
            self.big_refs = saved;
        }
        e
    }

    /// An expression that is only printed or compared: any size is fine.
    fn shown(&mut self, kind: Kind, d: u32) -> String {
        let saved = self.big_refs;
        self.big_refs = 2;
        let e = self.expr(kind, d);
        self.big_refs = saved;
        e
    }

    fn expr(&mut self, kind: Kind, d: u32) -> String {
        match kind {
            Kind::Int => self.int_expr(d),
            Kind::Float => self.float_expr(d),
            Kind::Str => self.str_expr(d),
            Kind::Bool => self.bool_expr(d),
            Kind::Arr => self.arr_expr(d),
            Kind::Grid => self.grid_expr(d),
            Kind::Obj => self.obj_expr(d),
            Kind::Point => self.point_expr(d),
            Kind::Shape => self.shape_expr(d),
            Kind::Func => self.func_expr(d),
        }
    }

    /// A call of a top-level function returning `kind`, if there is one.
    fn call_expr(&mut self, kind: Kind, d: u32) -> Option<String> {
        let fs = self.callable_returning(kind);
        if fs.is_empty() {
            return None;
        }
        let f = fs[self.below(fs.len())].clone();
        Some(self.call_of(&f, kind, d))
    }

    fn call_of(&mut self, f: &Func, kind: Kind, d: u32) -> String {
        let mut args = Vec::new();
        let saved = self.big_refs;
        for (i, &p) in f.params.iter().enumerate() {
            if i == 0 && f.recursive {
                // The depth: small, so recursion stays cheap.
                let n = match self.below(3) {
                    0 => self.below(8).to_string(),
                    1 => format!("({} % 6)", self.small(Kind::Int, d + 1)),
                    _ => "(-1)".to_string(),
                };
                args.push(n);
            } else {
                args.push(if p.is_big() { self.expr(p, d + 1) } else { self.small(p, d + 1) });
            }
        }
        if !kind.is_big() {
            self.big_refs = saved;
        }
        format!("{}({})", f.name, args.join(", "))
    }

    fn int_lit(&mut self) -> String {
        let i = if self.one_in(12) { self.below(INTS.len()) } else { self.below(10) };
        INTS[i].to_string()
    }

    /// A divisor: a non-zero literal, or (risky) any expression.
    fn divisor(&mut self, d: u32) -> String {
        if self.below(10) < self.risk() as usize {
            self.int_expr(d + 1)
        } else {
            self.elem(&["2", "3", "7", "(-2)", "10"]).to_string()
        }
    }

    /// An index: usually in range for short arrays, sometimes not.
    fn index(&mut self, d: u32) -> String {
        match self.pick(&[(6, 0), (2, 1), (1, 2), (self.risk(), 3)]) {
            0 => "0".to_string(),
            1 => "(-1)".to_string(),
            2 => "1".to_string(),
            _ => self.small(Kind::Int, d + 1),
        }
    }

    fn int_expr(&mut self, d: u32) -> String {
        if d >= 3 {
            return match self.has_var(Kind::Int) && self.below(2) == 1 {
                true => self.var_ref(Kind::Int).expect("checked"),
                false => self.int_lit(),
            };
        }
        let r = self.risk();
        let has = |g: &Self, k: Kind| g.has_var(k);
        let leaf = 1 + 2 * d;
        let opts = [
            (4 * leaf, 0),
            (if has(self, Kind::Int) { 8 * leaf } else { 0 }, 1),
            (5, 2),
            (2, 3),
            (2, 4),
            (1, 5),
            (2, 6),
            (if has(self, Kind::Arr) { 3 } else { 0 }, 7),
            (if has(self, Kind::Grid) { 1 } else { 0 }, 8),
            (if has(self, Kind::Obj) { 2 } else { 0 }, 9),
            (if has(self, Kind::Point) { 2 } else { 0 }, 10),
            (if self.callable_returning(Kind::Int).is_empty() { 0 } else { 3 }, 11),
            (if has(self, Kind::Func) { 3 } else { 0 }, 12),
            (2, 13),
            (1, 14),
            (1, 15),
            (1, 16),
            (1, 17),
            (r, 18),
        ];
        match self.pick(&opts) {
            0 => self.int_lit(),
            1 => self.var_ref(Kind::Int).expect("checked"),
            2 => {
                let op = self.elem(&["+", "-", "+", "-", "*"]);
                format!("({} {op} {})", self.int_expr(d + 1), self.int_expr(d + 1))
            }
            3 => format!("({} {} {})", self.int_expr(d + 1), self.elem(&["/", "%"]), self.divisor(d)),
            4 => {
                // len of something
                match self.below(4) {
                    0 => format!("len({})", self.small(Kind::Arr, d + 1)),
                    1 => format!("len({})", self.small(Kind::Str, d + 1)),
                    2 => format!("{}.len()", self.paren(Kind::Str, d)),
                    _ => format!("len({})", self.small(Kind::Obj, d + 1)),
                }
            }
            5 => format!("(-{})", self.int_expr(d + 1)),
            6 => {
                let items: Vec<String> = (0..3).map(|_| self.small(Kind::Int, d + 1)).collect();
                format!("[{}][{}]", items.join(", "), self.index(d))
            }
            7 => {
                let a = self.var_ref(Kind::Arr).expect("checked");
                match self.below(5) {
                    0 => format!("{a}[{}]", self.index(d)),
                    1 => format!("sum({a})"),
                    2 => format!("{a}.reduce(0, fn(acc, x) {{ return acc + x }})"),
                    3 => format!("index_of({a}, {})", self.int_expr(d + 1)),
                    _ => format!("len({a})"),
                }
            }
            8 => {
                let g = self.var_ref(Kind::Grid).expect("checked");
                format!("{g}[{}][{}]", self.index(d), self.index(d))
            }
            9 => {
                let o = self.var_ref(Kind::Obj).expect("checked");
                match self.pick(&[(4, 0), (1, 1), (self.risk(), 2)]) {
                    0 => format!("{o}.a"),
                    1 => format!("{o}[\"a\"]"),
                    _ => format!("{o}.c"),
                }
            }
            10 => {
                let p = self.var_ref(Kind::Point).expect("checked");
                match self.below(3) {
                    0 => format!("{p}.x"),
                    1 => format!("{p}.y"),
                    _ => format!("{p}.sum()"),
                }
            }
            11 => self.call_expr(Kind::Int, d).expect("checked"),
            12 => {
                let f = self.var_ref(Kind::Func).expect("checked");
                format!("{f}({})", self.int_expr(d + 1))
            }
            13 => self.if_expr(Kind::Int, d),
            14 => self.match_expr(Kind::Int, d),
            15 => {
                let s = self.small(Kind::Int, d + 1);
                format!(
                    "when {s} {{ < 0 -> {}, == {} -> {}, else -> {} }}",
                    self.int_lit(),
                    self.int_lit(),
                    self.int_expr(d + 1),
                    self.int_expr(d + 1)
                )
            }
            16 => match self.below(3) {
                0 => format!("int({})", self.float_expr(d + 1)),
                1 => format!("int({})", self.elem(&["\"12\"", "\"-7\"", "\"+3\"", "true"])),
                _ => format!("{}.len()", self.paren(Kind::Arr, d)),
            },
            17 => format!("max_of([{}, {}])", self.int_expr(d + 1), self.int_expr(d + 1)),
            _ => self.risky_int(d),
        }
    }

    /// Int-typed expressions that usually fail.
    fn risky_int(&mut self, d: u32) -> String {
        match self.below(9) {
            0 => format!("(9223372036854775807 + {})", self.int_expr(d + 1)),
            1 => format!("({} * 4611686018427387904)", self.int_expr(d + 1)),
            2 => format!("({} / {})", self.int_expr(d + 1), self.int_expr(d + 1)),
            3 => format!("int({})", self.elem(&["\"abc\"", "\"1.5\"", "\" 3\"", "\"\""])),
            4 => format!("({} - {})", self.small(Kind::Str, d + 1), self.int_expr(d + 1)),
            5 => format!("(-{})", self.small(Kind::Str, d + 1)),
            6 => format!("min_of({})", self.small(Kind::Arr, d + 1)),
            7 => format!("((-9223372036854775807 - 1) / {})", self.elem(&["(-1)", "1", "0"])),
            _ => format!("{}.zz", self.paren(Kind::Point, d)),
        }
    }

    /// `expr(kind)` wrapped in parentheses unless it is a plain name.
    fn paren(&mut self, kind: Kind, d: u32) -> String {
        let e = if kind.is_big() { self.expr(kind, d + 1) } else { self.small(kind, d + 1) };
        if e.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            e
        } else {
            format!("({e})")
        }
    }

    fn if_expr(&mut self, kind: Kind, d: u32) -> String {
        let c = self.small(Kind::Bool, d + 1);
        let a = self.expr(kind, d + 1);
        let b = self.expr(kind, d + 1);
        format!("(if {c} {{ {a} }} else {{ {b} }})")
    }

    fn match_expr(&mut self, kind: Kind, d: u32) -> String {
        match self.below(3) {
            0 => {
                let s = self.small(Kind::Int, d + 1);
                let n = self.fresh("m");
                let a = self.expr(kind, d + 1);
                let b = self.expr(kind, d + 1);
                self.scopes.push(Vec::new());
                self.declare(&n, Kind::Int, false);
                let c = self.expr(kind, d + 1);
                self.scopes.pop();
                if self.below(8) < self.risk() as usize {
                    format!("(match {s} {{ 0 => {a}, 1 => {b} }})")
                } else {
                    format!("(match {s} {{ 0 => {a}, 1 => {b}, {n} => {c} }})")
                }
            }
            1 => {
                let s = self.small(Kind::Shape, d + 1);
                let (r, w, h) = (self.fresh("r"), self.fresh("w"), self.fresh("h"));
                self.scopes.push(Vec::new());
                self.declare(&r, Kind::Int, false);
                let a = self.expr(kind, d + 1);
                self.scopes.pop();
                self.scopes.push(Vec::new());
                self.declare(&w, Kind::Int, false);
                self.declare(&h, Kind::Int, false);
                let b = self.expr(kind, d + 1);
                self.scopes.pop();
                let c = self.expr(kind, d + 1);
                match self.pick(&[(4, 0), (2, 1), (self.risk(), 2)]) {
                    0 => format!("(match {s} {{ Circle({r}) => {a}, Rect({w}, {h}) => {b}, Dot => {c} }})"),
                    1 => format!("(match {s} {{ Rect({w}, {h}) => {b}, _ => {c} }})"),
                    _ => format!("(match {s} {{ Circle({r}) => {a}, Dot => {c} }})"),
                }
            }
            _ => {
                let s = self.small(Kind::Str, d + 1);
                let a = self.expr(kind, d + 1);
                let b = self.expr(kind, d + 1);
                let lit = self.elem(&STRS);
                format!("(match {s} {{ {lit} => {a}, _ => {b} }})")
            }
        }
    }

    fn float_expr(&mut self, d: u32) -> String {
        if d >= 3 {
            return match self.has_var(Kind::Float) && self.below(2) == 1 {
                true => self.var_ref(Kind::Float).expect("checked"),
                false => self.elem(&FLOATS).to_string(),
            };
        }
        let leaf = 1 + 2 * d;
        let opts = [
            (4 * leaf, 0),
            (if self.has_var(Kind::Float) { 6 * leaf } else { 0 }, 1),
            (6, 2),
            (2, 3),
            (1, 4),
            (if self.callable_returning(Kind::Float).is_empty() { 0 } else { 2 }, 5),
            (1, 6),
            (1, 7),
        ];
        match self.pick(&opts) {
            0 => self.elem(&FLOATS).to_string(),
            1 => self.var_ref(Kind::Float).expect("checked"),
            2 => {
                let op = self.elem(&["+", "-", "*", "/", "%", "+"]);
                let (a, b) = match self.below(3) {
                    0 => (self.float_expr(d + 1), self.float_expr(d + 1)),
                    1 => (self.float_expr(d + 1), self.int_expr(d + 1)),
                    _ => (self.int_expr(d + 1), self.float_expr(d + 1)),
                };
                format!("({a} {op} {b})")
            }
            3 => format!("float({})", self.int_expr(d + 1)),
            4 => format!("({} / {})", self.float_expr(d + 1), self.elem(&["0", "0.0", "(-0.0)"])),
            5 => self.call_expr(Kind::Float, d).expect("checked"),
            6 => self.if_expr(Kind::Float, d),
            _ => format!("float({})", self.elem(&["\"2\"", "\"-1.5\"", "\"1e3\"", "true"])),
        }
    }

    fn str_lit(&mut self) -> String {
        self.elem(&STRS).to_string()
    }

    /// A string literal with one or two interpolations.
    fn interpolation(&mut self, d: u32) -> String {
        let mut s = String::from("\"");
        let holes = 1 + self.below(2);
        for i in 0..holes {
            s.push_str(self.elem(&["", "v=", " ", "<", "a b "]));
            let k = Kind::ALL[self.below(Kind::ALL.len())];
            let e = if k == Kind::Str && self.one_in(4) {
                // A string literal inside an interpolation.
                format!("\"in\" + {}", self.small(Kind::Int, d + 1))
            } else if k.is_big() {
                self.expr(k, d + 1)
            } else {
                self.small(k, d + 1)
            };
            s.push('{');
            s.push_str(&e);
            s.push('}');
            if i + 1 == holes {
                s.push_str(self.elem(&["", "!", " end"]));
            }
        }
        s.push('"');
        s
    }

    fn str_expr(&mut self, d: u32) -> String {
        if d >= 3 {
            return match self.has_var(Kind::Str) && self.below(2) == 1 {
                true => self.var_ref(Kind::Str).expect("checked"),
                false => self.str_lit(),
            };
        }
        let r = self.risk();
        let leaf = 1 + 2 * d;
        let opts = [
            (4 * leaf, 0),
            (if self.has_var(Kind::Str) { 6 * leaf } else { 0 }, 1),
            (4, 2),
            (4, 3),
            (2, 4),
            (2, 5),
            (1, 6),
            (if self.has_var(Kind::Obj) { 2 } else { 0 }, 7),
            (if self.callable_returning(Kind::Str).is_empty() { 0 } else { 2 }, 8),
            (1, 9),
            (1, 10),
            (1, 11),
            (2, 12),
            (r, 13),
        ];
        match self.pick(&opts) {
            0 => self.str_lit(),
            1 => self.var_ref(Kind::Str).expect("checked"),
            2 => {
                // String + anything: display form of the other side.
                let k = Kind::ALL[self.below(Kind::ALL.len())];
                let other = if k.is_big() { self.expr(k, d + 1) } else { self.small(k, d + 1) };
                let s = self.str_expr(d + 1);
                if self.below(3) == 0 {
                    format!("({other} + {s})")
                } else {
                    format!("({s} + {other})")
                }
            }
            3 => self.interpolation(d),
            4 => {
                let k = Kind::ALL[self.below(Kind::ALL.len())];
                let e = if k.is_big() { self.expr(k, d + 1) } else { self.small(k, d + 1) };
                format!("str({e})")
            }
            5 => {
                let f = self.elem(&["upper", "lower", "trim", "capitalize"]);
                if self.below(2) == 0 {
                    format!("{f}({})", self.str_expr(d + 1))
                } else {
                    format!("{}.{f}()", self.paren(Kind::Str, d))
                }
            }
            6 => format!("join({}, \"{}\")", self.expr(Kind::Arr, d + 1), self.elem(&["", ",", " - "])),
            7 => {
                let o = self.var_ref(Kind::Obj).expect("checked");
                if self.below(3) == 0 {
                    format!("{o}[\"b\"]")
                } else {
                    format!("{o}.b")
                }
            }
            8 => self.call_expr(Kind::Str, d).expect("checked"),
            9 => self.if_expr(Kind::Str, d),
            10 => self.match_expr(Kind::Str, d),
            11 => {
                let k = Kind::ALL[self.below(Kind::ALL.len())];
                format!("typeof({})", self.small(k, d + 1))
            }
            12 => match self.below(4) {
                0 => format!("substring({}, 1)", self.str_expr(d + 1)),
                1 => format!("replace({}, \"a\", \"-\")", self.str_expr(d + 1)),
                2 => format!("{}.reverse()", self.paren(Kind::Str, d)),
                _ => format!("pad_start({}, 4, \"*\")", self.str_expr(d + 1)),
            },
            _ => match self.below(3) {
                0 => format!("{}[{}]", self.paren(Kind::Str, d), self.index(d)),
                1 => format!("({} * 2)", self.str_expr(d + 1)),
                _ => format!("{}.nope()", self.paren(Kind::Str, d)),
            },
        }
    }

    fn bool_expr(&mut self, d: u32) -> String {
        if d >= 3 {
            return self.elem(&["true", "false"]).to_string();
        }
        let r = self.risk();
        let leaf = 1 + 2 * d;
        let opts = [
            (2 * leaf, 0),
            (if self.has_var(Kind::Bool) { 4 * leaf } else { 0 }, 1),
            (8, 2),
            (3, 3),
            (2, 4),
            (2, 5),
            (2, 6),
            (1, 7),
            (r, 8),
        ];
        match self.pick(&opts) {
            0 => self.elem(&["true", "false"]).to_string(),
            1 => self.var_ref(Kind::Bool).expect("checked"),
            2 => {
                let op = self.elem(&["<", ">", "<=", ">=", "==", "!="]);
                let (a, b) = match self.below(4) {
                    0 | 1 => (self.int_expr(d + 1), self.int_expr(d + 1)),
                    2 => (self.float_expr(d + 1), self.int_expr(d + 1)),
                    _ => (self.str_expr(d + 1), self.str_expr(d + 1)),
                };
                format!("({a} {op} {b})")
            }
            3 => {
                // Equality of any kind, sometimes across kinds.
                let k = Kind::ALL[self.below(Kind::ALL.len())];
                let k2 = if self.one_in(4) { Kind::ALL[self.below(Kind::ALL.len())] } else { k };
                let op = self.elem(&["==", "!="]);
                format!("({} {op} {})", self.shown(k, d + 1), self.shown(k2, d + 1))
            }
            4 => format!("{}({})", self.elem(&["!", "not "]), self.bool_expr(d + 1)),
            5 => {
                let op = self.elem(&["&&", "||", "and", "or"]);
                format!("({} {op} {})", self.bool_expr(d + 1), self.bool_expr(d + 1))
            }
            6 => match self.below(3) {
                0 => format!("contains({}, {})", self.shown(Kind::Arr, d + 1), self.int_expr(d + 1)),
                1 => format!("has_key({}, \"c\")", self.shown(Kind::Obj, d + 1)),
                _ => format!("{}.is_empty()", self.paren(Kind::Arr, d)),
            },
            7 => {
                // Truthiness of any value.
                let k = Kind::ALL[self.below(Kind::ALL.len())];
                format!("!(!{})", self.paren(k, d))
            }
            _ => match self.below(3) {
                0 => format!("({} < {})", self.shown(Kind::Arr, d + 1), self.shown(Kind::Arr, d + 1)),
                1 => format!("({} >= {})", self.int_expr(d + 1), self.str_expr(d + 1)),
                _ => format!("({} > {})", self.shown(Kind::Obj, d + 1), self.int_expr(d + 1)),
            },
        }
    }

    fn arr_lit(&mut self, d: u32) -> String {
        let n = self.below(4);
        let items: Vec<String> = (0..n).map(|_| self.small(Kind::Int, d + 1)).collect();
        format!("[{}]", items.join(", "))
    }

    /// A one-line lambda `fn(x) { return … }` over Ints.
    fn int_lambda(&mut self, d: u32, params: usize) -> String {
        let names: Vec<String> = (0..params).map(|_| self.fresh("p")).collect();
        self.scopes.push(Vec::new());
        for n in &names {
            self.declare(n, Kind::Int, false);
        }
        let saved = (self.ret, self.loop_depth);
        self.ret = Some(Kind::Int);
        self.loop_depth = 0;
        let body = self.small(Kind::Int, d + 1);
        (self.ret, self.loop_depth) = saved;
        self.scopes.pop();
        format!("fn({}) {{ return {body} }}", names.join(", "))
    }

    fn arr_expr(&mut self, d: u32) -> String {
        if d >= 3 {
            return match self.has_var(Kind::Arr) && self.below(2) == 1 {
                true => self.var_ref(Kind::Arr).expect("checked"),
                false => self.arr_lit(d),
            };
        }
        let leaf = 1 + 2 * d;
        let opts = [
            (4 * leaf, 0),
            (if self.has_var(Kind::Arr) { 6 * leaf } else { 0 }, 1),
            (2, 2),
            (2, 3),
            (2, 4),
            (2, 5),
            (if self.has_var(Kind::Grid) { 2 } else { 0 }, 6),
            (if self.callable_returning(Kind::Arr).is_empty() { 0 } else { 2 }, 7),
            (1, 8),
            (2, 9),
            (if self.big_refs > 0 && !self.visible(Kind::Arr, true).is_empty() { 2 } else { 0 }, 10),
        ];
        match self.pick(&opts) {
            0 => self.arr_lit(d),
            1 => self.var_ref(Kind::Arr).expect("checked"),
            2 => format!("[...{}, {}]", self.arr_expr(d + 1), self.small(Kind::Int, d + 1)),
            3 => match self.below(3) {
                0 => format!("range({})", self.below(5)),
                1 => format!("{}..{}", self.below(3), self.below(6)),
                _ => format!("range({}, {}, {})", 6, self.below(3), self.elem(&["-1", "-2"])),
            },
            4 => {
                let a = self.arr_expr(d + 1);
                if self.below(2) == 0 {
                    format!("map({a}, {})", self.int_lambda(d, 1))
                } else {
                    format!("{}.map({})", if a.contains(' ') { format!("({a})") } else { a }, self.int_lambda(d, 1))
                }
            }
            5 => {
                let a = self.arr_expr(d + 1);
                match self.below(4) {
                    0 => format!("filter({a}, fn(x) {{ return x % 2 == 0 }})"),
                    1 => format!("sort({a})"),
                    2 => format!("reverse({a})"),
                    _ => format!("slice({a}, {})", self.elem(&["1", "-1", "0, 2"])),
                }
            }
            6 => {
                let g = self.var_ref(Kind::Grid).expect("checked");
                format!("{g}[{}]", self.index(d))
            }
            7 => self.call_expr(Kind::Arr, d).expect("checked"),
            8 => self.if_expr(Kind::Arr, d),
            9 => format!("push({}, {})", self.arr_lit(d), self.small(Kind::Int, d + 1)),
            _ => {
                // `push` on a place inside an expression: changes the
                // variable, after the operands to its left were evaluated.
                let v = self.any_var(Kind::Arr, true).expect("checked");
                self.big_refs -= 1;
                let x = self.small(Kind::Int, d + 1);
                if self.below(2) == 0 {
                    format!("{v}.push({x})")
                } else {
                    format!("push({v}, {x})")
                }
            }
        }
    }

    fn grid_expr(&mut self, d: u32) -> String {
        if d >= 3 {
            return match self.has_var(Kind::Grid) && self.below(2) == 1 {
                true => self.var_ref(Kind::Grid).expect("checked"),
                false => "[[1, 2], [3]]".to_string(),
            };
        }
        let opts = [(3, 0), (if self.has_var(Kind::Grid) { 5 } else { 0 }, 1), (2, 2), (1, 3), (1, 4)];
        match self.pick(&opts) {
            0 => {
                let n = self.below(3);
                let rows: Vec<String> = (0..n).map(|_| self.arr_expr(d + 1)).collect();
                format!("[{}]", rows.join(", "))
            }
            1 => self.var_ref(Kind::Grid).expect("checked"),
            2 => format!("[...{}, {}]", self.grid_expr(d + 1), self.arr_lit(d)),
            3 => format!("chunk({}, 2)", self.arr_expr(d + 1)),
            _ => self.if_expr(Kind::Grid, d),
        }
    }

    fn obj_lit(&mut self, d: u32) -> String {
        let a = self.small(Kind::Int, d + 1);
        let b = self.str_expr(d + 1);
        match self.below(4) {
            0 => format!("{{a: {a}, b: {b}, c: {}}}", self.small(Kind::Int, d + 1)),
            1 => format!("{{\"b\": {b}, a: {a}}}"),
            _ => format!("{{a: {a}, b: {b}}}"),
        }
    }

    fn obj_expr(&mut self, d: u32) -> String {
        if d >= 3 {
            return match self.has_var(Kind::Obj) && self.below(2) == 1 {
                true => self.var_ref(Kind::Obj).expect("checked"),
                false => "{a: 1, b: \"s\"}".to_string(),
            };
        }
        let opts = [
            (3, 0),
            (if self.has_var(Kind::Obj) { 6 } else { 0 }, 1),
            (2, 2),
            (1, 3),
            (if self.callable_returning(Kind::Obj).is_empty() { 0 } else { 2 }, 4),
        ];
        match self.pick(&opts) {
            0 => self.obj_lit(d),
            1 => self.var_ref(Kind::Obj).expect("checked"),
            2 => {
                let o = self.obj_expr(d + 1);
                match self.below(3) {
                    0 => format!("{{...{o}, a: {}}}", self.small(Kind::Int, d + 1)),
                    1 => format!("{{...{o}, c: {}}}", self.small(Kind::Int, d + 1)),
                    _ => format!("merge({o}, {{c: {}}})", self.small(Kind::Int, d + 1)),
                }
            }
            3 => self.if_expr(Kind::Obj, d),
            _ => self.call_expr(Kind::Obj, d).expect("checked"),
        }
    }

    fn point_expr(&mut self, d: u32) -> String {
        if d >= 3 {
            return match self.has_var(Kind::Point) && self.below(2) == 1 {
                true => self.var_ref(Kind::Point).expect("checked"),
                false => "(P { x: 1, y: 2 })".to_string(),
            };
        }
        let opts = [
            (3, 0),
            (if self.has_var(Kind::Point) { 6 } else { 0 }, 1),
            (1, 2),
            (2, 3),
            (1, 4),
            (1, 5),
            (if self.callable_returning(Kind::Point).is_empty() { 0 } else { 2 }, 6),
        ];
        match self.pick(&opts) {
            0 => format!("(P {{ x: {}, y: {} }})", self.int_expr(d + 1), self.int_expr(d + 1)),
            1 => self.var_ref(Kind::Point).expect("checked"),
            2 => format!("(P {{ x: {} }})", self.int_expr(d + 1)),
            3 => format!("{}.scaled({})", self.paren(Kind::Point, d), self.int_expr(d + 1)),
            4 => "P.origin()".to_string(),
            5 => format!("(P {{ y: {}, x: {}, z: 0 }})", self.int_expr(d + 1), self.int_expr(d + 1)),
            _ => self.call_expr(Kind::Point, d).expect("checked"),
        }
    }

    fn shape_expr(&mut self, d: u32) -> String {
        if d >= 3 {
            return "Dot".to_string();
        }
        let opts = [
            (2, 0),
            (if self.has_var(Kind::Shape) { 5 } else { 0 }, 1),
            (3, 2),
            (3, 3),
            (1, 4),
            (if self.callable_returning(Kind::Shape).is_empty() { 0 } else { 2 }, 5),
        ];
        match self.pick(&opts) {
            0 => "Dot".to_string(),
            1 => self.var_ref(Kind::Shape).expect("checked"),
            2 => format!("Circle({})", self.int_expr(d + 1)),
            3 => format!("Rect({}, {})", self.int_expr(d + 1), self.int_expr(d + 1)),
            4 => self.if_expr(Kind::Shape, d),
            _ => self.call_expr(Kind::Shape, d).expect("checked"),
        }
    }

    fn func_expr(&mut self, d: u32) -> String {
        let int_fns: Vec<Func> = self.funcs[..self.callable]
            .iter()
            .filter(|f| f.ret == Kind::Int && f.params == [Kind::Int] && !f.recursive)
            .cloned()
            .collect();
        let opts = [
            (3, 0),
            (if self.has_var(Kind::Func) { 4 } else { 0 }, 1),
            (if int_fns.is_empty() { 0 } else { 2 }, 2),
            (2, 3),
        ];
        match self.pick(&opts) {
            0 => self.int_lambda(d, 1),
            1 => self.var_ref(Kind::Func).expect("checked"),
            2 => int_fns[self.below(int_fns.len())].name.clone(),
            _ => {
                // A lambda that updates a captured mutable variable.
                let p = self.fresh("p");
                let target = match self.below(3) {
                    0 => self.any_var(Kind::Arr, true).map(|v| format!("{v}.push({p}); return len({v})")),
                    1 => self.any_var(Kind::Obj, true).map(|v| format!("{v}.a = {p}; return {p}")),
                    _ => None,
                };
                match target.or_else(|| self.any_var(Kind::Int, true).map(|v| format!("{v} += {p}; return {v}"))) {
                    Some(body) => format!("fn({p}) {{ {body} }}"),
                    None => self.int_lambda(d, 1),
                }
            }
        }
    }

    // ---- statements ----------------------------------------------------

    /// An expression for storing in a variable of `kind` (growth budget 1).
    fn stored(&mut self, kind: Kind) -> String {
        self.big_refs = 1;
        let e = self.expr(kind, 0);
        self.big_refs = 1;
        e
    }

    fn random_kind(&mut self) -> Kind {
        self.pick(&[
            (6, Kind::Int),
            (2, Kind::Float),
            (4, Kind::Str),
            (2, Kind::Bool),
            (4, Kind::Arr),
            (2, Kind::Grid),
            (3, Kind::Obj),
            (2, Kind::Point),
            (2, Kind::Shape),
            (2, Kind::Func),
        ])
    }

    /// A block `{ … }` of up to `max` statements in a new scope.
    fn block(&mut self, max: usize) -> String {
        self.scopes.push(Vec::new());
        let n = 1 + self.below(max);
        let mut body = String::new();
        for _ in 0..n {
            if self.stmts_left == 0 || self.exhausted() {
                break;
            }
            body.push_str(&indent(&self.stmt()));
        }
        self.scopes.pop();
        format!("{{\n{body}}}")
    }

    /// A block that first runs `first` (already indented by the caller's
    /// rules) with `vars` declared in its scope.
    fn block_with(&mut self, first: &str, vars: &[(String, Kind, bool)], max: usize) -> String {
        self.scopes.push(Vec::new());
        for (n, k, a) in vars {
            self.declare(n, *k, *a);
        }
        let mut body = indent(first);
        let n = self.below(max + 1);
        for _ in 0..n {
            if self.stmts_left == 0 || self.exhausted() {
                break;
            }
            body.push_str(&indent(&self.stmt()));
        }
        self.scopes.pop();
        format!("{{\n{body}}}")
    }

    fn print_stmt(&mut self) -> String {
        let k = self.random_kind();
        let e = self.shown(k, 0);
        match self.below(6) {
            0 => format!("say {e}"),
            1 => {
                let k2 = self.random_kind();
                format!("println({e}, {})", self.shown(k2, 1))
            }
            2 => {
                self.big_refs = 2;
                let s = self.interpolation(0);
                format!("println({s})")
            }
            3 => format!("print({e})\nprintln()"),
            _ => format!("println({e})"),
        }
    }

    fn let_stmt(&mut self) -> String {
        let kind = self.random_kind();
        let name = self.fresh("v");
        let mutable = self.below(3) != 0;
        let e = self.stored(kind);
        self.declare(&name, kind, mutable);
        let m = if mutable { "mut " } else { "" };
        if self.one_in(8) {
            format!("set {m}{name} to {e}")
        } else {
            format!("let {m}{name} = {e}")
        }
    }

    fn assign_stmt(&mut self) -> Option<String> {
        let kind = self.random_kind();
        let v = self.any_var(kind, true)?;
        let s = match kind {
            Kind::Int => match self.below(6) {
                0 => format!("{v} = {}", self.stored(kind)),
                1 => format!("{v} {} {}", self.elem(&["/=", "%="]), self.divisor(0)),
                2 => format!("{v} *= {}", self.elem(&["2", "3", "(-1)", "0"])),
                3 => format!("change {v} to {}", self.stored(kind)),
                _ => format!("{v} {} {}", self.elem(&["+=", "-="]), self.small(Kind::Int, 1)),
            },
            Kind::Float => {
                let op = self.elem(&["=", "+=", "-=", "*=", "/="]);
                format!("{v} {op} {}", self.small(Kind::Float, 1))
            }
            Kind::Str => {
                if self.below(2) == 0 {
                    format!("{v} += {}", self.small(Kind::Int, 1))
                } else {
                    self.big_refs = 0;
                    let e = self.expr(kind, 1);
                    self.big_refs = 1;
                    format!("{v} = {v} + {e}")
                }
            }
            Kind::Arr => match self.below(8) {
                0 => format!("{v} = {}", self.stored(kind)),
                1 => format!("{v}[{}] = {}", self.index(0), self.small(Kind::Int, 1)),
                2 => format!("{v}[{}] += {}", self.index(0), self.small(Kind::Int, 1)),
                3 => format!("push({v}, {})", self.small(Kind::Int, 1)),
                4 => format!("{}pop({v})", if self.below(2) == 0 { "say " } else { "" }),
                5 => format!("say {v}.pop()"),
                6 => format!("let {} = {v}.push({})", self.fresh("u"), self.small(Kind::Int, 1)),
                _ => format!("{v}.push({})", self.small(Kind::Int, 1)),
            },
            Kind::Grid => match self.below(5) {
                0 => format!("{v} = {}", self.stored(kind)),
                1 => format!("{v}[{}][{}] = {}", self.index(0), self.index(0), self.small(Kind::Int, 1)),
                2 => format!("{v}[{}].push({})", self.index(0), self.small(Kind::Int, 1)),
                3 => format!("pop({v}[{}])", self.index(0)),
                _ => format!("{v}.push({})", self.stored(Kind::Arr)),
            },
            Kind::Obj => match self.pick(&[(2, 0), (3, 1), (2, 2), (1, 3), (2, 4)]) {
                0 => format!("{v} = {}", self.stored(kind)),
                1 => format!("{v}.a = {}", self.small(Kind::Int, 1)),
                2 => format!("{v}.c = {}", self.small(Kind::Int, 1)),
                3 => format!("{v}[\"b\"] = {}", self.small(Kind::Str, 1)),
                _ => format!("{v}.a += {}", self.small(Kind::Int, 1)),
            },
            Kind::Point => match self.below(3) {
                0 => format!("{v} = {}", self.stored(kind)),
                1 => format!("{v}.x = {}", self.small(Kind::Int, 1)),
                _ => format!("{v}.y -= {}", self.small(Kind::Int, 1)),
            },
            _ => format!("{v} = {}", self.stored(kind)),
        };
        Some(s)
    }

    /// `let mut c = a`, change `c`, print both: `a` must not change.
    fn copy_stmt(&mut self) -> Option<String> {
        let kind = self.pick(&[(3, Kind::Arr), (2, Kind::Obj), (1, Kind::Grid), (1, Kind::Point)]);
        let a = self.any_var(kind, false)?;
        let c = self.fresh("c");
        let change = match kind {
            Kind::Arr => format!("{c}.push({})\n{c}[0] = {}", self.small(Kind::Int, 1), self.small(Kind::Int, 1)),
            Kind::Obj => format!("{c}.a = {}\n{c}.c = 1", self.small(Kind::Int, 1)),
            Kind::Grid => format!("{c}.push([9])\n{c}[0].push(8)"),
            _ => format!("{c}.x = {}", self.small(Kind::Int, 1)),
        };
        Some(format!("let mut {c} = {a}\n{change}\nprintln({a}, {c})"))
    }

    fn if_stmt(&mut self) -> String {
        let c = self.small(Kind::Bool, 0);
        let then = self.block(4);
        match self.below(3) {
            0 => format!("if {c} {then}"),
            1 => {
                let els = self.block(3);
                format!("if {c} {then} else {els}")
            }
            _ => {
                let c2 = self.small(Kind::Bool, 0);
                let mid = self.block(3);
                let els = self.block(3);
                format!("if {c} {then} else if {c2} {mid} else {els}")
            }
        }
    }

    fn loop_stmt(&mut self) -> String {
        self.loop_depth += 1;
        self.loop_nest += 1;
        let s = match self.below(8) {
            0 | 1 => {
                // while with a bounded counter, incremented first so that
                // `continue` cannot skip it.
                let i = self.fresh("i");
                let n = 1 + self.below(5);
                let cond = if self.below(3) == 0 {
                    format!("{i} < {n} && {}", self.small(Kind::Bool, 1))
                } else {
                    format!("{i} < {n}")
                };
                self.declare(&i, Kind::Int, false);
                let body = self.block_with(&format!("{i} += 1"), &[], 4);
                format!("let mut {i} = 0\nwhile {cond} {body}")
            }
            2 => {
                let i = self.fresh("i");
                let n = 1 + self.below(5);
                self.declare(&i, Kind::Int, false);
                let body = self.block_with(&format!("{i} += 1\nif {i} > {n} {{ break }}"), &[], 4);
                format!("let mut {i} = 0\nloop {body}")
            }
            3 | 4 => {
                let x = self.fresh("x");
                let arr = self.small(Kind::Arr, 1);
                let each = if self.one_in(5) { "each " } else { "" };
                if self.below(3) == 0 {
                    let i = self.fresh("k");
                    let body = self.block_with("", &[(i.clone(), Kind::Int, false), (x.clone(), Kind::Int, false)], 4);
                    format!("for {each}{i}, {x} in {arr} {body}")
                } else {
                    let body = self.block_with("", &[(x.clone(), Kind::Int, false)], 4);
                    format!("for {each}{x} in {arr} {body}")
                }
            }
            5 => {
                let r = self.fresh("row");
                let g = self.small(Kind::Grid, 1);
                let body = self.block_with(&format!("println(len({r}))"), &[(r.clone(), Kind::Arr, false)], 3);
                format!("for {r} in {g} {body}")
            }
            6 => {
                let (k, v) = (self.fresh("k"), self.fresh("e"));
                let o = self.small(Kind::Obj, 1);
                let body = self.block_with(&format!("println({k}, {v})"), &[(k.clone(), Kind::Str, false)], 3);
                format!("for {k}, {v} in {o} {body}")
            }
            _ => {
                let n = match self.below(3) {
                    0 => format!("({} % 4)", self.small(Kind::Int, 1)),
                    _ => (self.below(5) as i64 - 1).to_string(),
                };
                let times = if self.below(3) == 0 { "" } else { " times" };
                let body = self.block(4);
                format!("repeat {n}{times} {body}")
            }
        };
        self.loop_depth -= 1;
        self.loop_nest -= 1;
        s
    }

    fn match_stmt(&mut self) -> String {
        let s = self.small(Kind::Shape, 0);
        let (r, w, h) = (self.fresh("r"), self.fresh("w"), self.fresh("h"));
        let a = self.block_with(&format!("println(\"circle\", {r})"), &[(r.clone(), Kind::Int, false)], 2);
        let b = self.block_with("", &[(w.clone(), Kind::Int, false), (h.clone(), Kind::Int, false)], 2);
        let last = if self.below(6) < self.risk() as usize { "" } else { "\n    _ => say \"other\"" };
        format!(
            "match {s} {{\n    Circle({r}) => {}\n    Rect({w}, {h}) => {}{last}\n}}",
            indent(&a).trim(),
            indent(&b).trim()
        )
    }

    fn try_stmt(&mut self) -> String {
        self.try_depth += 1;
        let body = self.block(4);
        self.try_depth -= 1;
        let e = self.fresh("err");
        let show = match self.below(3) {
            0 => format!("println(\"caught:\", {e}.message)"),
            1 => format!("println({e}.type, {e}.message)"),
            _ => format!("say {e}"),
        };
        let handler = self.block_with(&show, &[], 2);
        format!("try {body} catch {e} {handler}")
    }

    /// `let g = fn(p) { … }` capturing the variables in scope.
    fn closure_stmt(&mut self) -> String {
        let g = self.fresh("g");
        let p = self.fresh("p");
        let saved = (self.ret, self.loop_depth);
        self.ret = Some(Kind::Int);
        self.loop_depth = 0;
        self.fn_depth += 1;
        let ret = {
            self.scopes.push(Vec::new());
            self.declare(&p, Kind::Int, true);
            let mut body = String::new();
            let n = self.below(3);
            for _ in 0..n {
                if self.stmts_left == 0 {
                    break;
                }
                body.push_str(&indent(&self.stmt()));
            }
            body.push_str(&indent(&format!("return {}", self.small(Kind::Int, 0))));
            self.scopes.pop();
            body
        };
        self.fn_depth -= 1;
        (self.ret, self.loop_depth) = saved;
        let nested = self.below(3) == 0;
        self.declare(&g, Kind::Func, false);
        if nested {
            format!("fn {g}({p}) {{\n{ret}}}")
        } else {
            format!("let {g} = fn({p}) {{\n{ret}}}")
        }
    }

    fn call_stmt(&mut self) -> Option<String> {
        if self.below(2) == 0 {
            let f = self.any_var(Kind::Func, false)?;
            return Some(format!("{f}({})", self.small(Kind::Int, 1)));
        }
        let k = self.random_kind();
        let c = self.call_expr(k, 0)?;
        Some(if self.below(2) == 0 { c } else { format!("say {c}") })
    }

    /// Statements that usually fail.
    fn risky_stmt(&mut self) -> String {
        match self.below(5) {
            0 => format!("assert({}, \"boom {{{}}}\")", self.small(Kind::Bool, 1), self.small(Kind::Int, 1)),
            1 => format!("assert_eq({}, {})", self.small(Kind::Int, 1), self.small(Kind::Int, 1)),
            2 => format!("say {}", self.risky_int(1)),
            3 => format!("{}()", self.fresh("undefined_fn")),
            _ => format!("say len({}, 1)", self.shown(Kind::Arr, 1)),
        }
    }

    fn stmt(&mut self) -> String {
        self.stmts_left = self.stmts_left.saturating_sub(1);
        self.big_refs = 1;
        let nest_ok = self.loop_nest < 2 && self.stmts_left > 2;
        let opts = [
            (6, 0),
            (6, 1),
            (6, 2),
            (if self.stmts_left > 2 { 3 } else { 0 }, 3),
            (if nest_ok { 4 } else { 0 }, 4),
            (2, 5),
            (2, 6),
            (if self.stmts_left > 2 { 2 } else { 0 }, 7),
            (if self.loop_depth > 0 { 2 } else { 0 }, 8),
            (if self.fn_depth < 2 && self.loop_nest == 0 { 2 } else { 0 }, 9),
            (3, 10),
            (if self.ret.is_some() { 1 } else { 0 }, 11),
            (if self.fn_depth == 0 && self.try_depth == 0 { 1 } else { 0 }, 12),
            (self.risk(), 13),
            (if self.stmts_left > 2 { 1 } else { 0 }, 14),
            (if self.loop_nest < 2 { 6 } else { 0 }, 15),
            (3, 16),
        ];
        let s = match self.pick(&opts) {
            0 => Some(self.print_stmt()),
            1 => Some(self.let_stmt()),
            2 => self.assign_stmt(),
            3 => Some(self.if_stmt()),
            4 => Some(self.loop_stmt()),
            5 => self.copy_stmt(),
            6 => Some(self.match_stmt()),
            7 => Some(self.try_stmt()),
            8 => Some(format!("if {} {{ {} }}", self.small(Kind::Bool, 1), self.elem(&["break", "continue"]))),
            9 => Some(self.closure_stmt()),
            10 => self.call_stmt(),
            11 => {
                let k = self.ret.expect("checked");
                Some(format!("if {} {{ return {} }}", self.small(Kind::Bool, 1), self.stored(k)))
            }
            12 => Some(match self.below(3) {
                0 => format!("if {} {{ exit({}) }}", self.small(Kind::Bool, 1), self.elem(&["0", "3", "1"])),
                _ => format!("if {} {{ return }}", self.small(Kind::Bool, 1)),
            }),
            13 => Some(self.risky_stmt()),
            15 => Some(self.template()),
            16 => Some(self.builtin_call()),
            _ => {
                // `safe { … }`: errors inside are swallowed.
                self.try_depth += 1;
                let b = self.block(3);
                self.try_depth -= 1;
                Some(format!("safe {b}"))
            }
        };
        // An option that was not available falls back to printing.
        s.unwrap_or_else(|| self.print_stmt())
    }

    // ---- templates: self-contained snippets aimed at one semantic rule ---

    /// Any value, for calling built-ins with arguments of every type.
    fn any_value(&mut self, d: u32) -> String {
        match self.below(14) {
            0 => "null".to_string(),
            1 => format!("Ok({})", self.small(Kind::Int, d + 1)),
            2 => format!("Err({})", self.small(Kind::Str, d + 1)),
            3 => format!("Some({})", self.small(Kind::Int, d + 1)),
            4 => "None".to_string(),
            5 => self.elem(&["\"a,b,c\"", "\"hello\"", "\"l\"", "\"\"", "\"b\"", "\"a\""]).to_string(),
            6 => self
                .elem(&["[3, 1, 2]", "[]", "[\"b\", \"a\"]", "[[1], [2, 3]]", "[1, null, false, 1]", "[1.5, 2]"])
                .to_string(),
            _ => {
                let k = self.random_kind();
                self.shown(k, d + 1)
            }
        }
    }

    /// A built-in called with random arguments (function or method syntax);
    /// the result or the error message is printed.
    fn builtin_call(&mut self) -> String {
        const FNS: [&str; 56] = [
            "len",
            "first",
            "last",
            "contains",
            "index_of",
            "is_empty",
            "has_key",
            "str",
            "int",
            "float",
            "typeof",
            "keys",
            "values",
            "entries",
            "sort",
            "reverse",
            "join",
            "slice",
            "sum",
            "min_of",
            "max_of",
            "upper",
            "lower",
            "trim",
            "split",
            "replace",
            "starts_with",
            "ends_with",
            "unique",
            "flatten",
            "compact",
            "zip",
            "enumerate",
            "take_n",
            "skip",
            "chunk",
            "frequencies",
            "get",
            "pick",
            "omit",
            "merge",
            "unwrap",
            "unwrap_or",
            "is_ok",
            "is_some",
            "math.abs",
            "math.pow",
            "math.sqrt",
            "math.floor",
            "math.round",
            "math.max",
            "math.min",
            "count",
            "substring",
            "last_index_of",
            "pop",
        ];
        let f = FNS[self.below(FNS.len())];
        let nargs = self.pick(&[(2, 1), (3, 2), (1, 0), (1, 3)]);
        let mut args: Vec<String> = (0..nargs).map(|_| self.any_value(1)).collect();
        if f == "pop" && !args.is_empty() {
            // Not a place: `pop` only returns.
            args[0] = format!("(if true {{ {} }} else {{ null }})", args[0]);
        }
        let call = if !f.starts_with("math.") && !args.is_empty() && self.below(3) == 0 {
            let recv = args.remove(0);
            format!("({recv}).{f}({})", args.join(", "))
        } else {
            format!("{f}({})", args.join(", "))
        };
        let e = self.fresh("err");
        format!("try {{\n    say {call}\n}} catch {e} {{\n    println({e}.message)\n}}")
    }

    fn template(&mut self) -> String {
        let id = self.fresh("t");
        match self.below(18) {
            // Closures made in a loop capture that iteration's variable;
            // closures over one outer variable share it.
            0 => {
                let arr = self.small(Kind::Arr, 1);
                let k = self.small(Kind::Int, 2);
                format!(
                    "let mut {id}fs = []\nlet mut {id}n = 0\nfor x in {arr} {{\n    {id}n += 1\n    let y = x * 2\n    {id}fs.push(fn() {{ return x + y * {k} + {id}n }})\n}}\nfor f in {id}fs {{ print(f(), \"\") }}\nprintln(len({id}fs))"
                )
            }
            1 => {
                let n = 1 + self.below(4);
                format!(
                    "let mut {id}fs = []\nlet mut {id}i = 0\nwhile {id}i < {n} {{\n    {id}i += 1\n    let j = {id}i\n    {id}fs.push(fn() {{ return [j, {id}i] }})\n}}\n{id}i = 100\nfor f in {id}fs {{ print(f()) }}\nprintln()"
                )
            }
            // A counter factory: each closure has its own captured variable.
            2 => {
                let (a, b) = (self.small(Kind::Int, 2), self.small(Kind::Int, 2));
                format!(
                    "fn {id}mk(start) {{\n    let mut c = start\n    return fn(d) {{\n        c += d\n        return c\n    }}\n}}\nlet {id}a = {id}mk({a})\nlet {id}b = {id}mk({b})\n{id}a(1)\nprintln({id}a(2), {id}b(5), {id}a(0), {id}b(0))"
                )
            }
            // Closures two levels deep updating variables of both levels.
            3 => {
                let v = self.small(Kind::Int, 2);
                format!(
                    "let mut {id}a = {v}\nlet {id}outer = fn(p) {{\n    let mut b = p\n    let inner = fn(q) {{ {id}a += q; b += q; return {id}a * 100 + b }}\n    inner(1)\n    return [inner(p), b]\n}}\nprintln({id}outer(2), {id}outer(3), {id}a)"
                )
            }
            // Leaving a `try` with break/continue/return must drop its handler.
            4 => {
                let jump = self.elem(&["break", "continue"]);
                let after = self.risky_after();
                format!(
                    "for x in [1, 2, 3] {{\n    try {{\n        if x == 2 {{ {jump} }}\n        println(\"in\", x)\n    }} catch e {{\n        println(\"caught\", e.message)\n    }}\n}}\n{after}"
                )
            }
            5 => {
                let after = self.risky_after();
                format!(
                    "fn {id}f(n) {{\n    try {{\n        if n > 0 {{ return n * 2 }}\n    }} catch e {{\n        return -1\n    }}\n    return 0\n}}\nprintln({id}f(3), {id}f(0))\n{after}"
                )
            }
            // An error deep in calls: variables changed before it keep
            // their values; the catch block may fail again.
            6 => {
                let n = self.below(4);
                let inner = if self.below(2) == 0 {
                    "println(\"handled\", e.message)"
                } else {
                    "println(e.message)\n        say [1][5]"
                };
                format!(
                    "let mut {id}s = [0]\nfn {id}thrower(n) {{\n    if n == 0 {{ return 1 / n }}\n    return {id}thrower(n - 1) + 1\n}}\ntry {{\n    try {{\n        {id}s.push(1)\n        {id}thrower({n})\n        {id}s.push(2)\n    }} catch e {{\n        {inner}\n    }}\n    {id}s.push(3)\n}} catch e2 {{\n    println(\"outer\", e2.message, {id}s)\n}}\nprintln({id}s)"
                )
            }
            // Shadowing in a nested block and in the same scope.
            7 => {
                let (k1, k2) = (self.random_kind(), self.random_kind());
                let (e1, e2) = (self.stored(k1), self.stored(k2));
                format!(
                    "let {id} = {e1}\nlet {id}f = fn() {{ return {id} }}\nif true {{\n    let {id} = {e2}\n    println({id}, {id}f())\n}}\nlet {id} = [{id}]\nprintln({id}, {id}f())"
                )
            }
            // Default parameters and arity errors.
            8 => {
                let d = self.small(Kind::Int, 2);
                let bad = self.elem(&["()", "(1, 2, 3)", "(1, 2, 3, 4)"]);
                format!(
                    "fn {id}d(a, b = {d}) {{ return a * 10 + b }}\nprintln({id}d(1), {id}d(1, 2))\nlet {id}l = fn(x) {{ return x }}\ntry {{ {id}d{bad} }} catch e {{ println(e.message) }}\ntry {{ {id}l() }} catch e {{ println(e.message) }}\ntry {{ (P {{ x: 1 }}).sum(5) }} catch e {{ println(e.message) }}\ntry {{ say 5(1) }} catch e {{ println(e.message) }}"
                )
            }
            // Result, Option, `?`, must.
            9 => {
                let (a, b) = (self.small(Kind::Int, 2), self.small(Kind::Int, 2));
                format!(
                    "fn {id}half(n) {{\n    if n % 2 != 0 {{ return Err(\"odd: {{n}}\") }}\n    return Ok(n / 2)\n}}\nfn {id}q(n) {{\n    let h = {id}half(n)?\n    return {id}half(h)\n}}\nprintln({id}q({a}), unwrap_or({id}q({b}), -1), must Ok(3), is_ok({id}q(8)))\nmatch {id}q({b}) {{\n    Ok(v) => println(\"ok\", v)\n    Err(e) => println(\"err\", e)\n}}\ntry {{ must {id}q({a}) }} catch e {{ println(e.message) }}\nprintln(match Some(Some({a})) {{ Some(Some(n)) => n, _ => 0 }})"
                )
            }
            // Pipes.
            10 => {
                let (a, b) = (self.small(Kind::Int, 2), self.small(Kind::Arr, 2));
                format!(
                    "fn {id}add(x, y) {{ return x + y }}\nprintln({a} |> {id}add(10), {b} |> sort |> join(\"-\"), {a} |> fn(x) {{ return x * x }})"
                )
            }
            // Nested places: fields of elements, elements of fields.
            11 => {
                let (v, w) = (self.small(Kind::Int, 2), self.small(Kind::Str, 2));
                let i = self.index(2);
                format!(
                    "let mut {id} = [{{name: \"a\", tags: [1]}}, {{name: \"b\", tags: []}}]\nlet {id}copy = {id}\n{id}[0].tags.push({v})\n{id}[1].name = {w}\n{id}[{i}].tags[0] += 1\nlet mut {id}o = {{list: [1], inner: {{n: 1}}}}\n{id}o.list.push({v})\n{id}o.inner.n += 5\nsay pop({id}o.list)\nprintln({id}, {id}copy, {id}o)"
                )
            }
            // Integer edges.
            12 => {
                let e = self.elem(&[
                    "(-9223372036854775807 - 1) % (-1)",
                    "-(-9223372036854775807 - 1)",
                    "math.abs(-9223372036854775807 - 1)",
                    "math.pow(2, 63)",
                    "math.pow(2, 62)",
                    "int(1e300)",
                    "int(0.0 / 0)",
                    "int(-2.9)",
                    "(-9223372036854775807 - 1) * (-1)",
                    "9223372036854775807 * 2",
                    "-9223372036854775807 - 2",
                    "7 % (-3)",
                    "(-7) / 2",
                    "math.floor(-2.5)",
                    "math.round(2.5)",
                    "math.round(-2.5)",
                    "float(9007199254740993)",
                    "1_000_000 * 1_000_000 * 1_000_000",
                ]);
                let e2 = self.small(Kind::Int, 1);
                format!("try {{ say {e} }} catch e {{ println(e.message) }}\ntry {{ say {e} + {e2} }} catch e {{ println(e.message) }}")
            }
            // `safe` as an expression and as a block.
            13 => {
                let r = self.risky_int(2);
                format!("let {id} = safe {{ {r} }}\nprintln({id})\nlet {id}b = safe {{\n    say \"x\"\n    [1, 2]\n}}\nprintln({id}b)")
            }
            // Iterating a collection that the loop changes.
            14 => {
                let a = self.small(Kind::Arr, 2);
                format!(
                    "let mut {id} = {a}\nfor x in {id} {{\n    {id}.push(x * 2)\n    if len({id}) > 12 {{ break }}\n}}\nlet mut {id}o = {{a: 1, b: 2}}\nfor k, v in {id}o {{\n    {id}o.c = v\n    print(k)\n}}\nprintln({id}, {id}o)"
                )
            }
            // Values already evaluated do not change when a later operand
            // changes their variable in place (push on a place, a closure).
            15 => {
                let (arr, obj, n) = (self.small(Kind::Arr, 2), self.small(Kind::Obj, 2), self.small(Kind::Int, 2));
                let lines = [
                    format!("println({id}a, {id}g(1), {id}a)"),
                    format!("println({id}o, {id}g(2))"),
                    format!("println({id}a == {id}a.push(3), [{id}a, {id}a.pop()])"),
                    format!("println(\"{{{id}a}}{{push({id}a, 4)}}\")"),
                    format!("let {id}n = {id}a.push(5)\n{id}a.pop()\nprintln({id}a, {id}n)"),
                    format!("let {id}m = {id}o\n{id}g(6)\nprintln({id}m, {id}o)"),
                    format!("fn {id}first(x, y) {{ return x }}\nprintln({id}first({id}a, {id}g(7)))"),
                    format!("let mut {id}c = {n}\nlet {id}h = fn() {{\n    {id}c += 10\n    return 1\n}}\n{id}c += {id}h()\nprintln({id}c)"),
                ];
                let mut out = format!(
                    "let mut {id}a = {arr}\nlet mut {id}o = {obj}\nlet {id}g = fn(p) {{\n    {id}a.push(p)\n    {id}o.a = p\n    return p\n}}\n"
                );
                for line in lines {
                    if self.below(3) == 0 {
                        out.push_str(&line);
                        out.push('\n');
                    }
                }
                out.push_str(&format!("println({id}a, {id}o)"));
                out
            }
            // Operands and arguments are evaluated left to right.
            16 => {
                let (x, y) = (self.small(Kind::Int, 2), self.small(Kind::Int, 2));
                format!(
                    "fn {id}tr(x) {{\n    print(\"<{{x}}>\")\n    return x\n}}\nprintln({id}tr({x}) + {id}tr({y}) * {id}tr(3), [{id}tr(4), {id}tr(5)], {{a: {id}tr(6)}}, {id}tr(false) && {id}tr(7), \"{{{id}tr(8)}}{{{id}tr(9)}}\")\nlet mut {id}a = [0, 0]\n{id}a[{id}tr(1)] = {id}tr({x})\nprintln({id}a, {id}tr({id}a)[{id}tr(0)])"
                )
            }
            // Deep recursion fails with `stack overflow`, which is catchable.
            _ => {
                let after = self.small(Kind::Int, 1);
                let call = if self.below(2) == 0 {
                    format!("{id}deep(n + 1) + 1")
                } else {
                    // Through a built-in's callback.
                    format!("map([n], fn(x) {{ return {id}deep(x + 1) }})[0]")
                };
                format!(
                    "let mut {id}n = 0\nfn {id}deep(n) {{\n    {id}n += 1\n    return {call}\n}}\ntry {{\n    {id}deep(0)\n}} catch e {{\n    println(e.message, {id}n > 0)\n}}\nprintln({id}n, {after})"
                )
            }
        }
    }

    /// A statement after a `try` that was left early: usually an error that
    /// must not be caught by the old handler.
    fn risky_after(&mut self) -> String {
        match self.below(3) {
            0 => "println(\"after\")".to_string(),
            1 => "say [1, 2][9]".to_string(),
            _ => format!("say {}", self.risky_int(1)),
        }
    }

    // ---- functions and programs ----------------------------------------

    /// A hoisted top-level function `fN(params) -> ret` that may call the
    /// functions before it.
    fn function(&mut self, index: usize) -> String {
        let f = self.funcs[index].clone();
        let saved_scopes = std::mem::replace(&mut self.scopes, vec![Vec::new()]);
        self.callable = index;
        self.ret = Some(f.ret);
        self.fn_depth = 1;
        let mut params = Vec::new();
        let mut body = String::new();
        if f.recursive {
            let (n, x) = (self.fresh("n"), self.fresh("x"));
            self.declare(&n, Kind::Int, false);
            self.declare(&x, f.params[1], true);
            params = vec![n.clone(), x.clone()];
            body.push_str(&indent(&format!("if {n} <= 0 {{ return {x} }}")));
            for _ in 0..self.below(3) {
                body.push_str(&indent(&self.stmt()));
            }
            let step = match f.params[1] {
                Kind::Int => match self.below(3) {
                    0 => format!("{}({n} - 1, {x} + {n}) + {}({n} - 2, {x})", f.name, f.name),
                    1 => format!("{}({n} - 1, {x} * 2 + 1)", f.name),
                    _ => format!("{n} + {}({n} - 1, {x})", f.name),
                },
                Kind::Str => format!("{}({n} - 1, {x} + \"{{{n}}}\")", f.name),
                _ => match self.below(2) {
                    0 => format!("{}({n} - 1, push({x}, {n}))", f.name),
                    _ => format!("[{n}, ...{}({n} - 1, {x})]", f.name),
                },
            };
            body.push_str(&indent(&format!("return {step}")));
        } else {
            for &k in &f.params {
                let p = self.fresh("a");
                self.declare(&p, k, true);
                params.push(p);
            }
            for _ in 0..1 + self.below(5) {
                if self.stmts_left == 0 {
                    break;
                }
                body.push_str(&indent(&self.stmt()));
            }
            if self.below(4) != 0 {
                body.push_str(&indent(&format!("return {}", self.stored(f.ret))));
            } else {
                // Fall off the end: the value of the last expression.
                body.push_str(&indent(&self.stored(f.ret)));
            }
        }
        self.scopes = saved_scopes;
        self.ret = None;
        self.fn_depth = 0;
        let kw = if self.one_in(6) { "define" } else { "fn" };
        format!("{kw} {}({}) {{\n{body}}}", f.name, params.join(", "))
    }

    fn program(&mut self) -> String {
        let total = 10 + self.below(31);
        self.wild = self.one_in(3);
        // Functions use at most half of the statements.
        self.stmts_left = total / 2;
        // Function signatures first: everything may call them (hoisting).
        let nfuncs = self.below(4);
        for i in 0..nfuncs {
            let recursive = self.one_in(3);
            let (params, ret) = if recursive {
                let k = self.pick(&[(3, Kind::Int), (1, Kind::Str), (1, Kind::Arr)]);
                (vec![Kind::Int, k], k)
            } else {
                let n = self.below(3);
                let params: Vec<Kind> = (0..n).map(|_| self.random_kind()).collect();
                let ret = if self.below(2) == 0 { Kind::Int } else { self.random_kind() };
                (params, ret)
            };
            let name = if recursive { format!("r{i}") } else { format!("f{i}") };
            self.funcs.push(Func { name, params, ret, recursive });
        }
        let mut defs = Vec::new();
        for i in 0..nfuncs {
            defs.push(self.function(i));
        }
        self.callable = nfuncs;
        self.stmts_left += total - total / 2;
        let mut top: Vec<String> = Vec::new();
        while self.stmts_left > 0 && !self.exhausted() {
            top.push(self.stmt());
        }
        // Every function is called at least once.
        for f in self.funcs.clone() {
            self.big_refs = 1;
            let call = self.call_of(&f, f.ret, 0);
            top.push(format!("println(\"{}:\", {call})", f.name));
        }
        // The final state of every top-level variable.
        for v in self.scopes[0].clone() {
            top.push(format!("println(\"{}:\", {})", v.name, v.name));
        }
        // Hoisted definitions go anywhere, even after their calls.
        for def in defs {
            let at = self.below(top.len() + 1);
            top.insert(at, def);
        }
        let mut out = String::from(PRELUDE);
        for s in top {
            out.push_str(&s);
            out.push('\n');
        }
        out
    }
}

/// The program for a vector of choices.
fn generate(choices: &[u32]) -> String {
    Gen::new(choices).program()
}

// ---------------------------------------------------------------------------
// Running both tiers
// ---------------------------------------------------------------------------

/// Generated programs finish in milliseconds; a tier that runs this long hangs.
const TIMEOUT: Duration = Duration::from_secs(20);
/// While minimising, candidates that run this long are taken as hanging
/// (deleting statements can remove a loop's exit).
const MINIMISE_TIMEOUT: Duration = Duration::from_secs(3);

/// What one tier did with a program.
#[derive(Debug)]
struct Outcome {
    stdout: String,
    stderr: String,
    /// `None`: killed by a signal, or timed out.
    code: Option<i32>,
    timed_out: bool,
}

impl Outcome {
    fn first_stderr_line(&self) -> &str {
        self.stderr.lines().next().unwrap_or("")
    }

    fn crashed(&self) -> bool {
        self.code.is_none() || self.code == Some(101) || self.stderr.contains("panicked")
    }
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("forge-differential-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs `program` on one tier: `interp`, `vm`, or `vm-stress` (the VM with
/// `FORGE_GC_STRESS=1`, a collection at every safepoint after an allocation).
fn run_tier(tier: &str, program: &Path, timeout: Duration) -> Outcome {
    let dir = program.parent().expect("program in a folder");
    let out_path = dir.join(format!("{tier}.stdout"));
    let err_path = dir.join(format!("{tier}.stderr"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_forge"));
    match tier.strip_suffix("-stress") {
        Some(base) => cmd.args(["run", &format!("--{base}")]).env("FORGE_GC_STRESS", "1"),
        None => cmd.args(["run", &format!("--{tier}")]),
    };
    let mut child = cmd
        .arg(program.file_name().expect("file name"))
        .current_dir(dir)
        // Low enough that stack overflows come fast, high enough to show
        // where the tiers' limits differ.
        .env("FORGE_MAX_DEPTH", "1000")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("run forge");
    let start = Instant::now();
    let (code, timed_out) = loop {
        match child.try_wait().expect("wait for forge") {
            Some(status) => break (status.code(), false),
            None if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break (None, true);
            }
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    Outcome { stdout: read(&out_path), stderr: read(&err_path), code, timed_out }
}

/// Tiers that did not agree (or crashed or hung), described for a human.
struct Disagreement {
    report: String,
    /// Some tier hung.
    timed_out: bool,
}

/// Runs `src` on every tier (the first is the reference); `Err` describes a
/// disagreement, crash or hang with the program and every outcome.
fn compare(src: &str, tiers: &[String], timeout: Duration) -> Result<Outcome, Disagreement> {
    let dir = scratch_dir();
    let path = dir.join("case.fg");
    std::fs::write(&path, src).expect("write program");
    let outcomes: Vec<Outcome> = tiers.iter().map(|t| run_tier(t, &path, timeout)).collect();
    let reference = &outcomes[0];
    let mut problems = Vec::new();
    for (tier, o) in tiers.iter().zip(&outcomes) {
        if o.timed_out {
            problems.push(format!("{tier} timed out after {}s", timeout.as_secs()));
        } else if o.crashed() {
            problems.push(format!("{tier} crashed"));
        }
    }
    for (tier, o) in tiers.iter().zip(&outcomes).skip(1) {
        if o.code != reference.code {
            problems.push(format!("exit status: {} {:?}, {tier} {:?}", tiers[0], reference.code, o.code));
        }
        if o.stdout != reference.stdout {
            problems.push(format!("stdout of {tier} differs"));
        }
        if o.first_stderr_line() != reference.first_stderr_line() {
            problems.push(format!("first line of stderr of {tier} differs"));
        }
    }
    if problems.is_empty() {
        return Ok(outcomes.into_iter().next().expect("a tier"));
    }
    let timed_out = outcomes.iter().any(|o| o.timed_out);
    let mut report = format!("{}\n--- program ---\n{src}", problems.join("; "));
    for (tier, o) in tiers.iter().zip(&outcomes) {
        let stderr: Vec<&str> = o.stderr.lines().take(3).collect();
        report.push_str(&format!(
            "--- {tier}: exit {:?}, stdout ---\n{}--- {tier}: stderr ---\n{}\n",
            o.code,
            o.stdout,
            stderr.join("\n")
        ));
    }
    Err(Disagreement { report, timed_out })
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")),
        Err(_) => default,
    }
}

/// A new seed per run unless `FORGE_DIFF_SEED` replays one.
fn seed() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64);
    let fresh = now.unwrap_or(0) ^ u64::from(std::process::id()).rotate_left(32);
    env_number("FORGE_DIFF_SEED", fresh)
}

/// The choices behind one program. Shorter vectors give shorter programs.
fn choices() -> impl Strategy<Value = Vec<u32>> {
    vec(any::<u32>(), 200..4000)
}

// ---------------------------------------------------------------------------
// Minimising a disagreement
// ---------------------------------------------------------------------------

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The removable pieces of a program, in order: single lines, and whole
/// statements with blocks (a line ending in `{` up to the `}` line at the
/// same indentation that closes the last of its blocks, so `if … else …`
/// and `try … catch …` are one piece). Inclusive line ranges.
fn pieces(lines: &[String]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with('}') {
            continue;
        }
        let mut end = i;
        if line.ends_with('{') {
            let ind = indentation(line);
            for (j, l) in lines.iter().enumerate().skip(i + 1) {
                if indentation(l) == ind && l.trim_start().starts_with('}') && !l.ends_with('{') {
                    end = j;
                    break;
                }
            }
        }
        out.push((i, end));
    }
    out
}

/// Shrinks a program on which the tiers disagree by deleting pieces (or
/// replacing a statement with the statements of its blocks) while they still
/// disagree, for at most `budget`.
fn minimise(src: &str, tiers: &[String], budget: Duration) -> String {
    let deadline = Instant::now() + budget;
    let disagree = |lines: &[String]| {
        let mut s = lines.join("\n");
        s.push('\n');
        // A hang is not the disagreement being minimised.
        compare(&s, tiers, MINIMISE_TIMEOUT).is_err_and(|d| !d.timed_out)
    };
    let mut lines: Vec<String> = src.lines().map(str::to_string).collect();
    let mut changed = true;
    while changed && Instant::now() < deadline {
        changed = false;
        let mut k = 0;
        while Instant::now() < deadline {
            let Some(&(start, end)) = pieces(&lines).get(k) else { break };
            let mut without: Vec<String> = lines[..start].to_vec();
            without.extend_from_slice(&lines[end + 1..]);
            if disagree(&without) {
                lines = without;
                changed = true;
                continue;
            }
            if end > start {
                let ind = indentation(&lines[start]);
                let mut unwrapped: Vec<String> = lines[..start].to_vec();
                for l in &lines[start + 1..end] {
                    if indentation(l) > ind {
                        unwrapped.push(l[4.min(indentation(l) - ind)..].to_string());
                    }
                }
                unwrapped.extend_from_slice(&lines[end + 1..]);
                if disagree(&unwrapped) {
                    lines = unwrapped;
                    changed = true;
                    continue;
                }
            }
            k += 1;
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

#[test]
fn interpreter_and_vm_agree() {
    let cases = env_number("FORGE_DIFF_CASES", 500) as u32;
    let seed = seed();
    let keep_going = std::env::var_os("FORGE_DIFF_KEEP_GOING").is_some_and(|v| v != "0");
    let save = std::env::var_os("FORGE_DIFF_SAVE").map(PathBuf::from);
    let show = env_number("FORGE_DIFF_SHOW", 0);
    let minimise_for = Duration::from_secs(env_number("FORGE_DIFF_MINIMISE_SECS", 60));
    let tiers: Vec<String> = std::env::var("FORGE_DIFF_TIERS")
        .unwrap_or_else(|_| "interp,vm,vm-stress".to_string())
        .split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    assert!(tiers.len() >= 2, "FORGE_DIFF_TIERS needs at least two tiers");
    // Proptest's own shrinking deletes one choice at a time, which rewrites
    // the whole program; `minimise` shrinks the program text instead.
    let config = Config { cases, failure_persistence: None, max_shrink_iters: 0, ..Config::default() };
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));

    let started = Instant::now();
    let runs = Cell::new(0u64);
    let errors = Cell::new(0u64);
    let failures: RefCell<Vec<String>> = RefCell::new(Vec::new());
    let endings: RefCell<BTreeMap<String, u32>> = RefCell::new(BTreeMap::new());
    let result = runner.run(&choices(), |choices| {
        let src = generate(&choices);
        runs.set(runs.get() + 1);
        let result = compare(&src, &tiers, TIMEOUT);
        if runs.get() <= show {
            println!("--- program {} ---\n{src}", runs.get());
            if let Ok(o) = &result {
                println!("--- exit {:?}, stdout ---\n{}--- stderr ---\n{}", o.code, o.stdout, o.first_stderr_line());
            }
        }
        match result {
            Ok(outcome) => {
                if outcome.code != Some(0) {
                    errors.set(errors.get() + 1);
                }
                let ending = format!("{:?} {}", outcome.code, outcome.first_stderr_line());
                *endings.borrow_mut().entry(ending).or_default() += 1;
                Ok(())
            }
            Err(Disagreement { report, timed_out }) => {
                // A hang is reported as it is: minimising would take long.
                let small = if timed_out { src.clone() } else { minimise(&src, &tiers, minimise_for) };
                let small_report = compare(&small, &tiers, TIMEOUT).err().map(|d| d.report).unwrap_or_default();
                if let Some(dir) = &save {
                    std::fs::create_dir_all(dir).expect("FORGE_DIFF_SAVE folder");
                    let n = failures.borrow().len();
                    std::fs::write(dir.join(format!("disagreement-{seed}-{n}.fg")), &src).expect("save program");
                    std::fs::write(dir.join(format!("disagreement-{seed}-{n}-min.fg")), &small).expect("save program");
                }
                let report = format!(
                    "{small_report}\n(minimised from a program of {} lines; the original follows)\n{report}",
                    src.lines().count()
                );
                if keep_going {
                    failures.borrow_mut().push(report);
                    Ok(())
                } else {
                    Err(TestCaseError::fail(report))
                }
            }
        }
    });
    let _ = std::fs::remove_dir_all(scratch_dir());
    println!(
        "differential: {} programs ({} ended with a non-zero status) in {:.1}s, seed {seed}",
        runs.get(),
        errors.get(),
        started.elapsed().as_secs_f64()
    );
    if std::env::var_os("FORGE_DIFF_STATS").is_some() {
        let mut endings: Vec<(String, u32)> = endings.into_inner().into_iter().collect();
        endings.sort_by_key(|e| std::cmp::Reverse(e.1));
        for (ending, n) in endings {
            println!("{n:5}  exit {ending}");
        }
    }
    let failures = failures.into_inner();
    if !failures.is_empty() {
        panic!(
            "{} of {} programs disagree (replay with FORGE_DIFF_SEED={seed}):\n\n{}",
            failures.len(),
            runs.get(),
            failures.join("\n\n=====\n\n")
        );
    }
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, _)) => {
            panic!("the tiers disagree (replay with FORGE_DIFF_SEED={seed}); minimised program first:\n{why}")
        }
        Err(TestError::Abort(why)) => panic!("differential test aborted: {why}"),
    }
}

/// The generator is deterministic, and an exhausted choice vector still
/// gives a program.
#[test]
fn generator_is_deterministic() {
    let choices: Vec<u32> = (0..500u32).map(|i| i.wrapping_mul(2_654_435_761)).collect();
    assert_eq!(generate(&choices), generate(&choices));
    assert!(generate(&[]).starts_with(PRELUDE));
}

/// `minimise` sees statements with blocks as one piece.
#[test]
fn pieces_keep_blocks_whole() {
    let src = "let a = 1\nif a {\n    say 1\n} else {\n    say 2\n}\nsay 3";
    let lines: Vec<String> = src.lines().map(str::to_string).collect();
    assert_eq!(pieces(&lines), vec![(0, 0), (1, 5), (2, 2), (4, 4), (6, 6)]);
}
