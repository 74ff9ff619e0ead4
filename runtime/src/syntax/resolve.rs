//! The resolver: binds every name to a slot before anything runs, and
//! reports static errors (assignment to an immutable binding, `break` or
//! `continue` outside a loop).
//!
//! Names resolve from the innermost block outward, through enclosing
//! functions (becoming captures), then to the program's globals (every name
//! declared at the top level, so hoisted functions see later variables),
//! then to built-ins. A name found nowhere becomes `Slot::Undefined`, which
//! raises `undefined variable` only if that code runs.
//!
//! Whether a local is captured by a closure is only known once its function
//! has been walked, so slots are first `Pending(var)` and a final pass over
//! the tree (`Patch`) writes the real `Local`/`Cell` slots and captures.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arcstr::ArcStr;

use super::ast::*;
use super::diagnostic::SyntaxError;
use super::span::Span;

/// Loads (parses and resolves) an imported file, allocating its globals in
/// the same program-wide table.
pub trait ModuleLoader {
    /// `from` is the importing file's path; `Ok(None)` means an import cycle.
    fn load(
        &mut self,
        from: &str,
        path: &str,
        span: Span,
        globals: &mut Vec<GlobalInfo>,
    ) -> Result<Option<Arc<Module>>, SyntaxError>;
}

/// Looks up built-in names (functions, modules, `None`).
pub type BuiltinLookup = fn(&str) -> Option<u32>;

struct VarInfo {
    mutable: bool,
    captured: bool,
    /// Index of the parameter, for parameters.
    param: Option<u32>,
    slot: Slot,
}

#[derive(Default)]
struct FnScope {
    scopes: Vec<Vec<(ArcStr, u32)>>,
    vars: Vec<u32>,
    /// Captures of this function: the outer variable (or outer capture) each
    /// comes from, deduplicated.
    captures: Vec<Capture>,
    capture_keys: HashMap<CaptureKey, u32>,
    loops: usize,
    is_top_level: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum CaptureKey {
    Var(u32),
}

pub struct Resolver<'l> {
    path: String,
    builtins: BuiltinLookup,
    loader: &'l mut dyn ModuleLoader,
    /// The program-wide table (shared with imported modules).
    globals: &'l mut Vec<GlobalInfo>,
    /// This module's top-level names.
    global_index: HashMap<ArcStr, u32>,
    exported: Vec<(ArcStr, u32)>,
    unit_variants: HashSet<ArcStr>,
    vars: Vec<VarInfo>,
    fns: Vec<FnScope>,
    pub errors: Vec<SyntaxError>,
}

/// Resolves a parsed file into a module; its globals are added to `globals`.
pub fn resolve(
    block: Block,
    span: Span,
    path: &str,
    builtins: BuiltinLookup,
    loader: &mut dyn ModuleLoader,
    globals: &mut Vec<GlobalInfo>,
) -> Result<Module, Vec<SyntaxError>> {
    let mut r = Resolver {
        path: path.to_string(),
        builtins,
        loader,
        globals,
        global_index: HashMap::new(),
        exported: Vec::new(),
        unit_variants: HashSet::new(),
        vars: Vec::new(),
        fns: Vec::new(),
        errors: Vec::new(),
    };
    let mut main = FnDef {
        name: ArcStr::from("<main>"),
        params: Vec::new(),
        body: block,
        span,
        is_lambda: false,
        locals: 0,
        cells: 0,
        captures: Vec::new(),
    };
    r.declare_globals(&mut main.body);
    r.fns.push(FnScope { scopes: vec![Vec::new()], is_top_level: true, ..FnScope::default() });
    r.block_stmts(&mut main.body);
    let scope = r.fns.pop().unwrap_or_default();
    r.finish_fn(&mut main, scope);
    Patch { vars: &r.vars }.fn_def(&mut main);
    if !r.errors.is_empty() {
        r.errors.sort_by_key(|e| e.span.start);
        return Err(r.errors);
    }
    let unit_variants = r.unit_variants.into_iter().collect();
    Ok(Module { main: Arc::new(main), globals: r.exported, unit_variants, path: path.to_string() })
}

impl Resolver<'_> {
    fn error(&mut self, message: impl Into<String>, span: Span) {
        self.errors.push(SyntaxError::new(message, span));
    }

    // ---- globals ------------------------------------------------------

    fn declare_global(&mut self, name: &ArcStr, mutable: bool, imported: bool) -> u32 {
        if let Some(&i) = self.global_index.get(name) {
            let g = &mut self.globals[i as usize];
            g.mutable |= mutable;
            g.imported &= imported;
            return i;
        }
        let i = self.globals.len() as u32;
        self.globals.push(GlobalInfo { name: name.clone(), mutable, imported });
        self.global_index.insert(name.clone(), i);
        self.exported.push((name.clone(), i));
        i
    }

    /// Pre-pass over the top level: every declared name becomes a global
    /// slot, and imports are loaded.
    fn declare_globals(&mut self, block: &mut Block) {
        for stmt in &mut block.stmts {
            self.collect_unit_variants(stmt);
            match &mut stmt.kind {
                StmtKind::Let { decl, .. } => {
                    decl.slot = Slot::Global(self.declare_global(&decl.name, decl.mutable, false));
                }
                StmtKind::LetTuple { decls, .. } => {
                    for d in decls {
                        d.slot = Slot::Global(self.declare_global(&d.name, d.mutable, false));
                    }
                }
                StmtKind::Fn { decl, .. } => decl.slot = Slot::Global(self.declare_global(&decl.name, false, false)),
                StmtKind::Struct(def) => {
                    let def = Arc::get_mut(def).expect("fresh AST");
                    def.decl.slot = Slot::Global(self.declare_global(&def.name, false, false));
                }
                StmtKind::Enum { decl, def } => {
                    decl.slot = Slot::Global(self.declare_global(&decl.name, false, false));
                    let def = Arc::get_mut(def).expect("fresh AST");
                    for v in &mut def.variants {
                        v.decl.slot = Slot::Global(self.declare_global(&v.name, false, false));
                    }
                }
                StmtKind::Interface { decl, .. } => {
                    decl.slot = Slot::Global(self.declare_global(&decl.name, false, false));
                }
                StmtKind::Unpack { pattern, .. } => match pattern {
                    UnpackPattern::Object(ds) => {
                        for d in ds {
                            d.slot = Slot::Global(self.declare_global(&d.name, false, false));
                        }
                    }
                    UnpackPattern::Array { items, rest } => {
                        for d in items.iter_mut().chain(rest.iter_mut()) {
                            d.slot = Slot::Global(self.declare_global(&d.name, false, false));
                        }
                    }
                },
                StmtKind::Import { path, names, module, bindings } => {
                    if names.as_ref().is_some_and(|n| n.is_empty()) {
                        continue; // `import math`
                    }
                    match self.loader.load(&self.path, path, stmt.span, self.globals) {
                        Ok(Some(m)) => {
                            let wanted: Option<HashSet<ArcStr>> = names.as_ref().map(|n| n.iter().cloned().collect());
                            for (name, src) in &m.globals {
                                if wanted.as_ref().is_none_or(|w| w.contains(name)) {
                                    let dst = self.declare_global(name, false, true);
                                    bindings.push((*src, dst));
                                }
                            }
                            self.unit_variants.extend(m.unit_variants.iter().cloned());
                            *module = Some(m);
                        }
                        Ok(None) => {}
                        Err(e) => self.errors.push(e),
                    }
                }
                _ => {}
            }
        }
    }

    fn collect_unit_variants(&mut self, stmt: &Stmt) {
        if let StmtKind::Enum { def, .. } = &stmt.kind {
            for v in &def.variants {
                if v.arity == 0 {
                    self.unit_variants.insert(v.name.clone());
                }
            }
        }
    }

    // ---- scopes -------------------------------------------------------

    fn fn_scope(&mut self) -> &mut FnScope {
        self.fns.last_mut().expect("inside a function")
    }

    fn at_global_level(&self) -> bool {
        let f = self.fns.last().expect("inside a function");
        f.is_top_level && f.scopes.len() == 1
    }

    fn declare_local(&mut self, decl: &mut VarDecl, param: Option<u32>) {
        if self.at_global_level() && param.is_none() {
            // Top-level declarations were bound to globals by the pre-pass.
            if matches!(decl.slot, Slot::Unresolved) {
                decl.slot = Slot::Global(self.declare_global(&decl.name, decl.mutable, false));
            }
            return;
        }
        let id = self.vars.len() as u32;
        self.vars.push(VarInfo { mutable: decl.mutable, captured: false, param, slot: Slot::Unresolved });
        let f = self.fn_scope();
        f.vars.push(id);
        f.scopes.last_mut().expect("a scope").push((decl.name.clone(), id));
        decl.slot = Slot::Pending(id);
    }

    fn push_scope(&mut self) {
        self.fn_scope().scopes.push(Vec::new());
    }

    fn pop_scope(&mut self) {
        self.fn_scope().scopes.pop();
    }

    /// Resolves a name to a slot; `Err` carries whether the binding may be
    /// assigned (for the immutability check) alongside.
    fn lookup(&mut self, name: &ArcStr) -> (Slot, Option<bool>) {
        let depth = self.fns.len();
        for level in (0..depth).rev() {
            let found = self.fns[level]
                .scopes
                .iter()
                .rev()
                .find_map(|scope| scope.iter().rev().find(|(n, _)| n == name).map(|(_, id)| *id));
            if let Some(var) = found {
                let mutable = self.vars[var as usize].mutable;
                if level == depth - 1 {
                    return (Slot::Pending(var), Some(mutable));
                }
                self.vars[var as usize].captured = true;
                // Thread the capture through every function between.
                let mut capture = Capture::Cell(var);
                let mut idx = 0;
                for f in &mut self.fns[level + 1..depth] {
                    let key = match capture {
                        Capture::Cell(v) => CaptureKey::Var(v),
                        Capture::Upvalue(_) => CaptureKey::Var(var),
                    };
                    idx = match f.capture_keys.get(&key) {
                        Some(&i) => i,
                        None => {
                            let i = f.captures.len() as u32;
                            f.captures.push(capture);
                            f.capture_keys.insert(key, i);
                            i
                        }
                    };
                    capture = Capture::Upvalue(idx);
                }
                return (Slot::Upvalue(idx), Some(mutable));
            }
        }
        if let Some(&g) = self.global_index.get(name) {
            let info = &self.globals[g as usize];
            let mutable = if info.imported { None } else { Some(info.mutable) };
            return (Slot::Global(g), mutable);
        }
        if let Some(b) = (self.builtins)(name) {
            return (Slot::Builtin(b), Some(false));
        }
        (Slot::Undefined, None)
    }

    fn var_ref(&mut self, v: &mut VarRef) {
        v.slot = self.lookup(&v.name).0;
    }

    /// Resolves an assignment target's root and checks it may be changed.
    fn place(&mut self, place: &mut Place) {
        let (slot, mutable) = self.lookup(&place.root.name);
        place.root.slot = match slot {
            Slot::Builtin(_) => Slot::Undefined,
            s => s,
        };
        if mutable == Some(false) && !matches!(slot, Slot::Builtin(_)) {
            self.error(format!("cannot assign to immutable variable '{}'", place.root.name), place.span);
        }
        for seg in &mut place.path {
            if let PathSeg::Index(e) = seg {
                self.expr(e);
            }
        }
    }

    // ---- functions ----------------------------------------------------

    fn function(&mut self, def: &mut FnDef) {
        self.fns.push(FnScope { scopes: vec![Vec::new()], ..FnScope::default() });
        for (i, p) in def.params.iter_mut().enumerate() {
            if let Some(d) = &mut p.default {
                self.expr(d);
            }
            self.declare_local(&mut p.decl, Some(i as u32));
        }
        self.block_stmts(&mut def.body);
        let scope = self.fns.pop().expect("pushed above");
        self.finish_fn(def, scope);
    }

    /// Gives every variable of a finished function its final slot.
    fn finish_fn(&mut self, def: &mut FnDef, scope: FnScope) {
        let mut locals = def.params.len() as u32;
        let mut cells = 0u32;
        for id in scope.vars {
            let v = &mut self.vars[id as usize];
            v.slot = if v.captured {
                cells += 1;
                Slot::Cell(cells - 1)
            } else if let Some(p) = v.param {
                Slot::Local(p)
            } else {
                locals += 1;
                Slot::Local(locals - 1)
            };
        }
        def.locals = locals;
        def.cells = cells;
        def.captures = scope.captures;
    }

    fn lambda(&mut self, def: &mut Arc<FnDef>) {
        let def = Arc::get_mut(def).expect("fresh AST");
        self.function(def);
    }

    // ---- statements ---------------------------------------------------

    fn block(&mut self, block: &mut Block) {
        self.push_scope();
        self.block_stmts(block);
        self.pop_scope();
    }

    fn block_stmts(&mut self, block: &mut Block) {
        // Functions declared in a block may call each other; bind their
        // names first so bodies resolve to them.
        for stmt in &mut block.stmts {
            if let StmtKind::Fn { decl, .. } = &mut stmt.kind {
                self.declare_local(decl, None);
            }
        }
        for stmt in &mut block.stmts {
            self.stmt(stmt);
        }
    }

    fn in_loop(&mut self, body: &mut Block) {
        self.fn_scope().loops += 1;
        self.block(body);
        self.fn_scope().loops -= 1;
    }

    fn stmt(&mut self, stmt: &mut Stmt) {
        let span = stmt.span;
        match &mut stmt.kind {
            StmtKind::Expr(e) => self.expr(e),
            StmtKind::Let { decl, value } => {
                self.expr(value);
                self.declare_local(decl, None);
            }
            StmtKind::LetTuple { decls, value } => {
                self.expr(value);
                for d in decls {
                    self.declare_local(d, None);
                }
            }
            StmtKind::Assign { place, value, .. } => {
                self.expr(value);
                self.place(place);
            }
            StmtKind::Fn { def, .. } => self.lambda(def),
            StmtKind::Return(v) => {
                if let Some(v) = v {
                    self.expr(v);
                }
            }
            StmtKind::While { cond, body } => {
                self.expr(cond);
                self.in_loop(body);
            }
            StmtKind::Loop(body) => self.in_loop(body),
            StmtKind::For { first, second, iter, body } => {
                self.expr(iter);
                self.push_scope();
                self.declare_local(first, None);
                if let Some(s) = second {
                    self.declare_local(s, None);
                }
                self.in_loop(body);
                self.pop_scope();
            }
            StmtKind::Repeat { count, body } => {
                self.expr(count);
                self.in_loop(body);
            }
            StmtKind::Break | StmtKind::Continue => {
                if self.fn_scope().loops == 0 {
                    let word = if matches!(stmt.kind, StmtKind::Break) { "break" } else { "continue" };
                    self.error(format!("'{word}' outside of a loop"), span);
                }
            }
            StmtKind::Struct(def) => {
                let def = Arc::get_mut(def).expect("fresh AST");
                for f in &mut def.fields {
                    if let Some(d) = &mut f.default {
                        self.expr(d);
                    }
                }
                self.declare_local(&mut def.decl, None);
            }
            StmtKind::Enum { decl, def } => {
                self.declare_local(decl, None);
                let def = Arc::get_mut(def).expect("fresh AST");
                for v in &def.variants {
                    if v.arity == 0 {
                        self.unit_variants.insert(v.name.clone());
                    }
                }
                for v in &mut def.variants {
                    self.declare_local(&mut v.decl, None);
                }
            }
            StmtKind::Interface { decl, .. } => self.declare_local(decl, None),
            StmtKind::Impl { methods, .. } => {
                for m in methods {
                    self.lambda(m);
                }
            }
            StmtKind::Import { .. } => {
                if !self.at_global_level() {
                    self.error("import is only allowed at the top level", span);
                }
            }
            StmtKind::Print { value, .. } | StmtKind::Wait(value) => self.expr(value),
            StmtKind::Unpack { pattern, value } => {
                self.expr(value);
                match pattern {
                    UnpackPattern::Object(ds) => {
                        for d in ds {
                            self.declare_local(d, None);
                        }
                    }
                    UnpackPattern::Array { items, rest } => {
                        for d in items.iter_mut().chain(rest.iter_mut()) {
                            self.declare_local(d, None);
                        }
                    }
                }
            }
            StmtKind::TryCatch { body, name, handler } => {
                self.block(body);
                self.push_scope();
                self.declare_local(name, None);
                self.block(handler);
                self.pop_scope();
            }
            StmtKind::Check { value, kind } => {
                self.expr(value);
                if let CheckKind::Between(lo, hi) = kind {
                    self.expr(lo);
                    self.expr(hi);
                }
            }
            StmtKind::Decorator(d) => {
                for (_, e) in &mut d.args {
                    self.expr(e);
                }
            }
        }
    }

    // ---- expressions --------------------------------------------------

    fn exprs(&mut self, es: &mut [Expr]) {
        for e in es {
            self.expr(e);
        }
    }

    fn expr(&mut self, e: &mut Expr) {
        match &mut e.kind {
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) => {}
            ExprKind::Template(parts) => {
                for p in parts {
                    if let TemplatePart::Expr(x) = p {
                        self.expr(x);
                    }
                }
            }
            ExprKind::Var(v) => self.var_ref(v),
            ExprKind::Array(items) => {
                for it in items {
                    match it {
                        ArrayItem::Item(x) | ArrayItem::Spread(x) => self.expr(x),
                    }
                }
            }
            ExprKind::Object(items) => {
                for it in items {
                    match it {
                        ObjectItem::Field(_, x) | ObjectItem::Spread(x) => self.expr(x),
                    }
                }
            }
            ExprKind::Unary(_, x) | ExprKind::Question(x) | ExprKind::Await(x) | ExprKind::Must(x) => self.expr(x),
            ExprKind::Field(x, _) => self.expr(x),
            ExprKind::Binary(_, a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Range(a, b)
            | ExprKind::Index(a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Call { callee, args } => {
                self.expr(callee);
                self.exprs(args);
                self.maybe_place_call(e);
            }
            ExprKind::MethodCall { recv, args, place, .. } => {
                match place {
                    Some(p) => self.place(p),
                    None => self.expr(recv),
                }
                self.exprs(args);
            }
            ExprKind::PlaceCall { place, args, .. } => {
                self.place(place);
                self.exprs(args);
            }
            ExprKind::Lambda(def) => self.lambda(def),
            ExprKind::If { cond, then, otherwise } => {
                self.expr(cond);
                self.block(then);
                match otherwise {
                    Some(ElseBranch::Block(b)) => self.block(b),
                    Some(ElseBranch::If(x)) => self.expr(x),
                    None => {}
                }
            }
            ExprKind::When { subject, arms, otherwise } => {
                self.expr(subject);
                for arm in arms {
                    self.expr(&mut arm.value);
                    self.expr(&mut arm.result);
                }
                if let Some(o) = otherwise {
                    self.expr(o);
                }
            }
            ExprKind::Match { subject, arms } => {
                self.expr(subject);
                for arm in arms {
                    self.push_scope();
                    self.pattern(&mut arm.pattern);
                    match &mut arm.body {
                        ArmBody::Expr(x) => self.expr(x),
                        ArmBody::Stmt(s) => self.stmt(s),
                        ArmBody::Block(b) => self.block(b),
                    }
                    self.pop_scope();
                }
            }
            ExprKind::Safe(b) | ExprKind::Squad(b) => self.block(b),
            ExprKind::Spawn { kind, .. } => match kind {
                SpawnKind::Block(def) => self.lambda(def),
                SpawnKind::Call(call) => self.expr(call),
            },
            ExprKind::StructLit { fields, .. } => {
                for (_, x) in fields {
                    self.expr(x);
                }
            }
        }
    }

    /// `push(v, x)` / `pop(v)` on a place updates the place (FORGE.md §2).
    fn maybe_place_call(&mut self, e: &mut Expr) {
        let ExprKind::Call { callee, args } = &mut e.kind else {
            return;
        };
        let ExprKind::Var(VarRef { name, slot: Slot::Builtin(b), .. }) = &callee.kind else {
            return;
        };
        if name.as_str() != "push" && name.as_str() != "pop" {
            return;
        }
        if args.is_empty() || !is_place_expr(&args[0]) {
            return;
        }
        let (builtin, name) = (*b, name.clone());
        let mut args = std::mem::take(args);
        let first = args.remove(0);
        let mut place = to_place(first);
        // The root was resolved as an expression; check mutability now.
        let (slot, mutable) = self.lookup(&place.root.name);
        place.root.slot = slot;
        if mutable == Some(false) {
            self.error(format!("cannot assign to immutable variable '{}'", place.root.name), place.span);
        }
        e.kind = ExprKind::PlaceCall { builtin, name, place: Box::new(place), args };
    }

    fn pattern(&mut self, p: &mut Pattern) {
        match p {
            Pattern::Bind(decl) => {
                if decl.name.as_str() == "None" || self.unit_variants.contains(&decl.name) {
                    *p = Pattern::Unit(decl.name.clone());
                } else {
                    self.declare_local(decl, None);
                }
            }
            Pattern::Ctor { args, .. } => {
                for a in args {
                    self.pattern(a);
                }
            }
            _ => {}
        }
    }
}

fn is_place_expr(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Var(_) => true,
        ExprKind::Field(b, _) | ExprKind::Index(b, _) => is_place_expr(b),
        _ => false,
    }
}

fn to_place(e: Expr) -> Place {
    let span = e.span;
    match e.kind {
        ExprKind::Var(root) => Place { root, path: Vec::new(), span },
        ExprKind::Field(b, name) => {
            let mut p = to_place(*b);
            p.path.push(PathSeg::Field(name));
            p.span = span;
            p
        }
        ExprKind::Index(b, i) => {
            let mut p = to_place(*b);
            p.path.push(PathSeg::Index(*i));
            p.span = span;
            p
        }
        _ => unreachable!("checked by is_place_expr"),
    }
}

/// The final pass: replaces `Pending` slots and capture variable ids with
/// the real slots chosen by `finish_fn`.
struct Patch<'a> {
    vars: &'a [VarInfo],
}

impl Patch<'_> {
    fn slot(&self, s: &mut Slot) {
        if let Slot::Pending(v) = *s {
            *s = self.vars[v as usize].slot;
        }
    }

    fn fn_def(&self, def: &mut FnDef) {
        for c in &mut def.captures {
            if let Capture::Cell(v) = *c {
                match self.vars[v as usize].slot {
                    Slot::Cell(i) => *c = Capture::Cell(i),
                    other => unreachable!("captured variable without a cell: {other:?}"),
                }
            }
        }
        for p in &mut def.params {
            self.slot(&mut p.decl.slot);
            if let Some(d) = &mut p.default {
                self.expr(d);
            }
        }
        self.block(&mut def.body);
    }

    fn arc_fn(&self, def: &mut Arc<FnDef>) {
        self.fn_def(Arc::get_mut(def).expect("fresh AST"));
    }

    fn block(&self, b: &mut Block) {
        for s in &mut b.stmts {
            self.stmt(s);
        }
    }

    fn place(&self, p: &mut Place) {
        self.slot(&mut p.root.slot);
        for seg in &mut p.path {
            if let PathSeg::Index(e) = seg {
                self.expr(e);
            }
        }
    }

    fn stmt(&self, s: &mut Stmt) {
        match &mut s.kind {
            StmtKind::Expr(e) | StmtKind::Print { value: e, .. } | StmtKind::Wait(e) => self.expr(e),
            StmtKind::Let { decl, value } => {
                self.slot(&mut decl.slot);
                self.expr(value);
            }
            StmtKind::LetTuple { decls, value } => {
                decls.iter_mut().for_each(|d| self.slot(&mut d.slot));
                self.expr(value);
            }
            StmtKind::Assign { place, value, .. } => {
                self.place(place);
                self.expr(value);
            }
            StmtKind::Fn { decl, def, .. } => {
                self.slot(&mut decl.slot);
                self.arc_fn(def);
            }
            StmtKind::Return(v) => {
                if let Some(v) = v {
                    self.expr(v)
                }
            }
            StmtKind::While { cond, body } => {
                self.expr(cond);
                self.block(body);
            }
            StmtKind::Loop(b) => self.block(b),
            StmtKind::For { first, second, iter, body } => {
                self.slot(&mut first.slot);
                if let Some(s) = second {
                    self.slot(&mut s.slot);
                }
                self.expr(iter);
                self.block(body);
            }
            StmtKind::Repeat { count, body } => {
                self.expr(count);
                self.block(body);
            }
            StmtKind::Break | StmtKind::Continue | StmtKind::Import { .. } => {}
            StmtKind::Struct(def) => {
                let def = Arc::get_mut(def).expect("fresh AST");
                self.slot(&mut def.decl.slot);
                for f in &mut def.fields {
                    if let Some(d) = &mut f.default {
                        self.expr(d);
                    }
                }
            }
            StmtKind::Enum { decl, def } => {
                self.slot(&mut decl.slot);
                for v in &mut Arc::get_mut(def).expect("fresh AST").variants {
                    self.slot(&mut v.decl.slot);
                }
            }
            StmtKind::Interface { decl, .. } => self.slot(&mut decl.slot),
            StmtKind::Impl { methods, .. } => methods.iter_mut().for_each(|m| self.arc_fn(m)),
            StmtKind::Unpack { pattern, value } => {
                match pattern {
                    UnpackPattern::Object(ds) => ds.iter_mut().for_each(|d| self.slot(&mut d.slot)),
                    UnpackPattern::Array { items, rest } => {
                        items.iter_mut().chain(rest.iter_mut()).for_each(|d| self.slot(&mut d.slot))
                    }
                }
                self.expr(value);
            }
            StmtKind::TryCatch { body, name, handler } => {
                self.block(body);
                self.slot(&mut name.slot);
                self.block(handler);
            }
            StmtKind::Check { value, kind } => {
                self.expr(value);
                if let CheckKind::Between(lo, hi) = kind {
                    self.expr(lo);
                    self.expr(hi);
                }
            }
            StmtKind::Decorator(d) => d.args.iter_mut().for_each(|(_, e)| self.expr(e)),
        }
    }

    fn expr(&self, e: &mut Expr) {
        match &mut e.kind {
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) => {}
            ExprKind::Template(parts) => {
                for p in parts {
                    if let TemplatePart::Expr(x) = p {
                        self.expr(x);
                    }
                }
            }
            ExprKind::Var(v) => self.slot(&mut v.slot),
            ExprKind::Array(items) => {
                for it in items {
                    match it {
                        ArrayItem::Item(x) | ArrayItem::Spread(x) => self.expr(x),
                    }
                }
            }
            ExprKind::Object(items) => {
                for it in items {
                    match it {
                        ObjectItem::Field(_, x) | ObjectItem::Spread(x) => self.expr(x),
                    }
                }
            }
            ExprKind::Unary(_, x)
            | ExprKind::Question(x)
            | ExprKind::Await(x)
            | ExprKind::Must(x)
            | ExprKind::Field(x, _) => self.expr(x),
            ExprKind::Binary(_, a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Range(a, b)
            | ExprKind::Index(a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Call { callee, args } => {
                self.expr(callee);
                args.iter_mut().for_each(|a| self.expr(a));
            }
            ExprKind::MethodCall { recv, args, place, .. } => {
                self.expr(recv);
                if let Some(p) = place {
                    self.place(p);
                }
                args.iter_mut().for_each(|a| self.expr(a));
            }
            ExprKind::PlaceCall { place, args, .. } => {
                self.place(place);
                args.iter_mut().for_each(|a| self.expr(a));
            }
            ExprKind::Lambda(def) => self.arc_fn(def),
            ExprKind::If { cond, then, otherwise } => {
                self.expr(cond);
                self.block(then);
                match otherwise {
                    Some(ElseBranch::Block(b)) => self.block(b),
                    Some(ElseBranch::If(x)) => self.expr(x),
                    None => {}
                }
            }
            ExprKind::When { subject, arms, otherwise } => {
                self.expr(subject);
                for arm in arms {
                    self.expr(&mut arm.value);
                    self.expr(&mut arm.result);
                }
                if let Some(o) = otherwise {
                    self.expr(o);
                }
            }
            ExprKind::Match { subject, arms } => {
                self.expr(subject);
                for arm in arms {
                    self.pattern(&mut arm.pattern);
                    match &mut arm.body {
                        ArmBody::Expr(x) => self.expr(x),
                        ArmBody::Stmt(s) => self.stmt(s),
                        ArmBody::Block(b) => self.block(b),
                    }
                }
            }
            ExprKind::Safe(b) | ExprKind::Squad(b) => self.block(b),
            ExprKind::Spawn { kind, .. } => match kind {
                SpawnKind::Block(def) => self.arc_fn(def),
                SpawnKind::Call(c) => self.expr(c),
            },
            ExprKind::StructLit { fields, .. } => fields.iter_mut().for_each(|(_, x)| self.expr(x)),
        }
    }

    fn pattern(&self, p: &mut Pattern) {
        match p {
            Pattern::Bind(d) => self.slot(&mut d.slot),
            Pattern::Ctor { args, .. } => args.iter_mut().for_each(|a| self.pattern(a)),
            _ => {}
        }
    }
}
