//! The abstract syntax tree. Every node carries a `Span`.
//!
//! The parser builds it with every name `Slot::Unresolved`; the resolver
//! (`resolve.rs`) then fills in slots, frame sizes and captures in place.
//! After resolution the tree is immutable and lives for the whole process
//! (`&'static`), so every tier and every task can point into it freely.

use std::sync::Arc;

use arcstr::ArcStr;

use super::span::Span;

/// Where a variable lives at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Not yet resolved (only between parsing and resolution).
    Unresolved,
    /// A local of the current frame.
    Local(u32),
    /// A local of the current frame captured by a closure: lives in a cell.
    Cell(u32),
    /// A variable captured by the running closure (index into its captures).
    Upvalue(u32),
    /// A top-level variable of the program.
    Global(u32),
    /// A built-in function or module, by index in the builtin table.
    Builtin(u32),
    /// No declaration anywhere: reading or writing raises `undefined variable`.
    Undefined,
    /// A variable whose final slot is decided when its function is done
    /// (only during resolution).
    Pending(u32),
}

/// A use of a name.
#[derive(Clone, Debug)]
pub struct VarRef {
    pub name: ArcStr,
    pub slot: Slot,
    pub span: Span,
}

/// A declaration of a name.
#[derive(Clone, Debug)]
pub struct VarDecl {
    pub name: ArcStr,
    pub slot: Slot,
    pub mutable: bool,
    pub span: Span,
}

impl VarDecl {
    pub fn new(name: impl Into<ArcStr>, mutable: bool, span: Span) -> VarDecl {
        VarDecl { name: name.into(), slot: Slot::Unresolved, mutable, span }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl BinOp {
    /// The name used in `cannot apply Add to Int and Array`.
    pub fn verb(self) -> &'static str {
        match self {
            BinOp::Add => "Add",
            BinOp::Sub => "Sub",
            BinOp::Mul => "Mul",
            BinOp::Div => "Div",
            BinOp::Mod => "Mod",
            BinOp::Eq => "Eq",
            BinOp::Ne => "Ne",
            BinOp::Lt => "Lt",
            BinOp::Gt => "Gt",
            BinOp::Le => "Le",
            BinOp::Ge => "Ge",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug)]
pub enum TemplatePart {
    Lit(ArcStr),
    Expr(Expr),
}

#[derive(Debug)]
pub enum ArrayItem {
    Item(Expr),
    Spread(Expr),
}

#[derive(Debug)]
pub enum ObjectItem {
    Field(ArcStr, Expr),
    Spread(Expr),
}

/// One step of an assignment path: `.field` or `[index]`.
#[derive(Debug)]
pub enum PathSeg {
    Field(ArcStr),
    Index(Expr),
}

/// An assignable location: a variable followed by fields and indexes
/// (`v`, `v.f`, `v[i].f[j]`).
#[derive(Debug)]
pub struct Place {
    pub root: VarRef,
    pub path: Vec<PathSeg>,
    pub span: Span,
}

#[derive(Debug)]
pub enum ElseBranch {
    Block(Block),
    If(Box<Expr>),
}

#[derive(Debug)]
pub struct WhenArm {
    /// `None` means `==`.
    pub op: Option<BinOp>,
    pub value: Expr,
    pub result: Expr,
}

#[derive(Debug)]
pub enum Pattern {
    Wildcard,
    Bind(VarDecl),
    /// A unit enum variant or `None`, compared by name.
    Unit(ArcStr),
    Int(i64),
    Float(f64),
    Str(ArcStr),
    Bool(bool),
    /// `Ok(p)`, `Err(p)`, `Some(p)` or `Variant(p, …)`.
    Ctor {
        name: ArcStr,
        args: Vec<Pattern>,
    },
}

#[derive(Debug)]
pub enum ArmBody {
    Expr(Expr),
    Stmt(Box<Stmt>),
    Block(Block),
}

#[derive(Debug)]
pub struct MatchArm {
    pub pattern: Pattern,
    pub body: ArmBody,
    pub span: Span,
}

#[derive(Debug)]
pub enum SpawnKind {
    /// `spawn { … }`: a zero-parameter function run in the new task.
    Block(Arc<FnDef>),
    /// `spawn f(x)` / `spawn o.m(x)`: the call is prepared by the parent.
    Call(Box<Expr>),
}

#[derive(Debug)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(ArcStr),
    Template(Vec<TemplatePart>),
    Var(VarRef),
    Array(Vec<ArrayItem>),
    Object(Vec<ObjectItem>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Range(Box<Expr>, Box<Expr>),
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    /// `recv.name(args)`; `place` is set when the receiver is an assignable
    /// place, so `v.push(x)` can update `v` (FORGE.md §2).
    MethodCall {
        recv: Box<Expr>,
        name: ArcStr,
        args: Vec<Expr>,
        place: Option<Box<Place>>,
    },
    /// `push(v, x)` / `pop(v)` with a place as first argument.
    PlaceCall {
        builtin: u32,
        name: ArcStr,
        place: Box<Place>,
        args: Vec<Expr>,
    },
    Index(Box<Expr>, Box<Expr>),
    Field(Box<Expr>, ArcStr),
    /// `e?`
    Question(Box<Expr>),
    Lambda(Arc<FnDef>),
    If {
        cond: Box<Expr>,
        then: Block,
        otherwise: Option<ElseBranch>,
    },
    When {
        subject: Box<Expr>,
        arms: Vec<WhenArm>,
        otherwise: Option<Box<Expr>>,
    },
    Match {
        subject: Box<Expr>,
        arms: Vec<MatchArm>,
    },
    Safe(Block),
    Spawn {
        kind: SpawnKind,
        in_squad: bool,
    },
    Squad(Block),
    Await(Box<Expr>),
    Must(Box<Expr>),
    StructLit {
        name: ArcStr,
        fields: Vec<(ArcStr, Expr)>,
    },
}

#[derive(Debug, Default)]
pub struct Block {
    pub stmts: Vec<Stmt>,
}

#[derive(Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrintKind {
    Say,
    Yell,
    Whisper,
}

#[derive(Debug)]
pub enum CheckKind {
    Truthy,
    NotEmpty,
    Between(Expr, Expr),
}

#[derive(Debug)]
pub enum UnpackPattern {
    Object(Vec<VarDecl>),
    Array { items: Vec<VarDecl>, rest: Option<VarDecl> },
}

#[derive(Debug)]
pub struct Decorator {
    pub name: ArcStr,
    /// Positional arguments and `key: value` arguments (key `None` when positional).
    pub args: Vec<(Option<ArcStr>, Expr)>,
    pub span: Span,
}

#[derive(Debug)]
pub enum StmtKind {
    Expr(Expr),
    Let {
        decl: VarDecl,
        value: Expr,
    },
    /// `let (a, b) = arr`
    LetTuple {
        decls: Vec<VarDecl>,
        value: Expr,
    },
    Assign {
        place: Place,
        op: Option<BinOp>,
        value: Expr,
    },
    Fn {
        decl: VarDecl,
        def: Arc<FnDef>,
        decorators: Vec<Decorator>,
    },
    Return(Option<Expr>),
    While {
        cond: Expr,
        body: Block,
    },
    Loop(Block),
    For {
        first: VarDecl,
        second: Option<VarDecl>,
        iter: Expr,
        body: Block,
    },
    Repeat {
        count: Expr,
        body: Block,
    },
    Break,
    Continue,
    Struct(Arc<StructDef>),
    Enum {
        decl: VarDecl,
        def: Arc<EnumDef>,
    },
    Interface {
        decl: VarDecl,
        def: Arc<InterfaceDef>,
    },
    Impl {
        type_name: ArcStr,
        interface: Option<ArcStr>,
        methods: Vec<Arc<FnDef>>,
    },
    /// `bindings` pairs the module's global slots with the importer's
    /// slots they are copied into after the module ran.
    Import {
        path: ArcStr,
        names: Option<Vec<ArcStr>>,
        module: Option<Arc<Module>>,
        bindings: Vec<(u32, u32)>,
    },
    Print {
        kind: PrintKind,
        value: Expr,
    },
    Wait(Expr),
    Unpack {
        pattern: UnpackPattern,
        value: Expr,
    },
    TryCatch {
        body: Block,
        name: VarDecl,
        handler: Block,
    },
    Check {
        value: Expr,
        kind: CheckKind,
    },
    /// A standalone decorator such as `@server(port: 8080)`.
    Decorator(Decorator),
}

#[derive(Debug)]
pub struct Param {
    pub decl: VarDecl,
    pub default: Option<Expr>,
}

/// A variable a closure captures from the function that creates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture {
    /// Cell `n` of the creating frame.
    Cell(u32),
    /// Upvalue `n` of the creating closure.
    Upvalue(u32),
}

/// A function: `fn`, `define`, lambda, method, spawn block, or the
/// program's top level.
#[derive(Debug)]
pub struct FnDef {
    pub name: ArcStr,
    pub params: Vec<Param>,
    pub body: Block,
    pub span: Span,
    pub is_lambda: bool,
    /// Filled by the resolver: number of local slots and cells of a frame.
    pub locals: u32,
    pub cells: u32,
    /// Filled by the resolver: how to build the captures of a closure.
    pub captures: Vec<Capture>,
}

impl FnDef {
    /// Number of parameters without a default.
    pub fn required_params(&self) -> usize {
        self.params.iter().take_while(|p| p.default.is_none()).count()
    }
}

#[derive(Debug)]
pub struct FieldDef {
    pub name: ArcStr,
    pub default: Option<Expr>,
    /// `has name: Type`: lookups fall through to this field's value.
    pub embedded: bool,
}

#[derive(Debug)]
pub struct StructDef {
    pub name: ArcStr,
    pub fields: Vec<FieldDef>,
    pub decl: VarDecl,
    pub span: Span,
}

#[derive(Debug)]
pub struct VariantDef {
    pub name: ArcStr,
    pub arity: usize,
    pub decl: VarDecl,
    pub span: Span,
}

#[derive(Debug)]
pub struct EnumDef {
    pub name: ArcStr,
    pub variants: Vec<VariantDef>,
}

#[derive(Debug)]
pub struct InterfaceDef {
    pub name: ArcStr,
    pub methods: Vec<ArcStr>,
}

/// One parsed and resolved source file.
#[derive(Debug)]
pub struct Module {
    /// The top level as a function with no parameters.
    pub main: Arc<FnDef>,
    /// The module's top-level names and their (program-wide) global slots.
    pub globals: Vec<(ArcStr, u32)>,
    /// Unit enum variants declared by the module (patterns match them by name).
    pub unit_variants: Vec<ArcStr>,
    pub path: String,
}

/// One global slot of the program. Every module's top-level names get their
/// own slots in one program-wide table, so an imported function keeps
/// reading its own module's variables.
#[derive(Clone, Debug)]
pub struct GlobalInfo {
    pub name: ArcStr,
    pub mutable: bool,
    /// Bound by an `import`: its mutability is only known at run time.
    pub imported: bool,
}
