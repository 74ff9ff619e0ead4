//! The parser: tokens → AST (FORGE.md §1 and §4–§6).
//!
//! Recursive descent for statements, precedence climbing for expressions.
//! Newlines are statement separators except inside `( … )`, `[ … ]` and the
//! braces of object/struct literals; `nl_ignore` is that stack. A syntax
//! error inside one statement is recorded and the parser skips to the next
//! statement, so one run reports several independent errors.

use std::sync::Arc;

use arcstr::ArcStr;

use super::ast::*;
use super::diagnostic::SyntaxError;
use super::lexer::Lexer;
use super::span::{FileId, Span};
use super::token::{Kw, StrPart, Tok, Token};

/// Marker for "an error was recorded"; the message is already in `errors`.
#[derive(Debug)]
pub struct Failed;
type PResult<T> = Result<T, Failed>;

const MAX_ERRORS: usize = 20;
/// Bound on expression nesting so a hostile input cannot overflow the stack.
const MAX_NESTING: usize = 400;

pub struct Parser<'a> {
    src: &'a str,
    file: FileId,
    tokens: Vec<Token>,
    pos: usize,
    pub errors: Vec<SyntaxError>,
    nl_ignore: Vec<bool>,
    /// In the header of `if`/`while`/`for`/`match`/`when`: `Name {` is a body.
    no_struct: bool,
    /// Lexical `squad` blocks enclosing the current point of this function.
    squad_depth: usize,
    nesting: usize,
}

/// Parses a whole file into its top-level block.
pub fn parse(src: &str, file: FileId) -> (Block, Vec<SyntaxError>) {
    let (tokens, mut errors) = super::lexer::lex(src, file);
    let mut p = Parser::new(src, file, tokens);
    let block = p.program();
    errors.append(&mut p.errors);
    errors.sort_by_key(|e| e.span.start);
    errors.dedup_by(|a, b| a.span.start == b.span.start);
    (block, errors)
}

fn is_type_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
}

impl<'a> Parser<'a> {
    pub fn new(src: &'a str, file: FileId, tokens: Vec<Token>) -> Parser<'a> {
        Parser {
            src,
            file,
            tokens,
            pos: 0,
            errors: Vec::new(),
            nl_ignore: vec![false],
            no_struct: false,
            squad_depth: 0,
            nesting: 0,
        }
    }

    // ---- token access -------------------------------------------------

    fn ignoring_newlines(&self) -> bool {
        *self.nl_ignore.last().unwrap_or(&false)
    }

    fn skip_ignored(&mut self) {
        if self.ignoring_newlines() {
            self.skip_newlines();
        }
    }

    fn skip_newlines(&mut self) {
        while matches!(self.tokens[self.pos].tok, Tok::Newline) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> &Tok {
        self.skip_ignored();
        &self.tokens[self.pos].tok
    }

    fn peek_span(&mut self) -> Span {
        self.skip_ignored();
        self.tokens[self.pos].span
    }

    /// The token `n` places after the current one (newlines count).
    fn peek_nth(&self, n: usize) -> &Tok {
        let i = (self.pos + n).min(self.tokens.len() - 1);
        &self.tokens[i].tok
    }

    /// The next token that is not a newline, without consuming anything.
    fn peek_past_newlines(&self) -> &Tok {
        let mut i = self.pos;
        while matches!(self.tokens[i].tok, Tok::Newline) {
            i += 1;
        }
        &self.tokens[i].tok
    }

    fn advance(&mut self) -> Token {
        self.skip_ignored();
        let t = self.tokens[self.pos].clone();
        if !matches!(t.tok, Tok::Eof) {
            self.pos += 1;
        }
        t
    }

    fn prev_span(&self) -> Span {
        self.tokens[self.pos.saturating_sub(1)].span
    }

    fn at(&mut self, tok: &Tok) -> bool {
        self.peek() == tok
    }

    fn at_kw(&mut self, kw: Kw) -> bool {
        matches!(self.peek(), Tok::Kw(k) if *k == kw)
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.at(tok) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: Kw) -> bool {
        if self.at_kw(kw) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn error_at(&mut self, message: impl Into<String>, span: Span) -> Failed {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(SyntaxError::new(message, span));
        }
        Failed
    }

    fn unexpected(&mut self, what: &str) -> Failed {
        let span = self.peek_span();
        let found = self.tokens[self.pos].tok.describe();
        self.error_at(format!("expected {what}, found {found}"), span)
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> PResult<Span> {
        if self.at(tok) {
            Ok(self.advance().span)
        } else {
            Err(self.unexpected(what))
        }
    }

    fn expect_kw(&mut self, kw: Kw) -> PResult<Span> {
        if self.at_kw(kw) {
            Ok(self.advance().span)
        } else {
            Err(self.unexpected(&format!("'{}'", kw.as_str())))
        }
    }

    fn ident(&mut self, what: &str) -> PResult<(ArcStr, Span)> {
        match self.peek().clone() {
            Tok::Ident(name) => {
                let span = self.advance().span;
                Ok((ArcStr::from(name), span))
            }
            Tok::Kw(k) => {
                let span = self.peek_span();
                Err(self.error_at(format!("'{}' is a reserved word and cannot be used as {what}", k.as_str()), span))
            }
            _ => Err(self.unexpected(what)),
        }
    }

    /// A name after `.`: any identifier or keyword.
    fn member_name(&mut self) -> PResult<(ArcStr, Span)> {
        match self.peek().clone() {
            Tok::Ident(name) => Ok((ArcStr::from(name), self.advance().span)),
            Tok::Kw(k) => Ok((ArcStr::from(k.as_str()), self.advance().span)),
            Tok::Int(n) => Ok((ArcStr::from(n.to_string()), self.advance().span)),
            _ => Err(self.unexpected("a field or method name")),
        }
    }

    fn with_newlines<T>(&mut self, ignore: bool, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        self.nl_ignore.push(ignore);
        let saved_no_struct = self.no_struct;
        if ignore {
            self.no_struct = false;
        }
        let r = f(self);
        self.no_struct = saved_no_struct;
        self.nl_ignore.pop();
        r
    }

    // ---- statements ---------------------------------------------------

    fn program(&mut self) -> Block {
        let mut stmts = Vec::new();
        loop {
            self.skip_separators();
            if matches!(self.peek(), Tok::Eof) {
                break;
            }
            if matches!(self.peek(), Tok::RBrace) {
                let span = self.advance().span;
                self.error_at("unexpected '}'", span);
                continue;
            }
            if let Some(s) = self.statement_recovering() {
                stmts.push(s);
            }
            if self.errors.len() >= MAX_ERRORS {
                break;
            }
        }
        Block { stmts }
    }

    fn skip_separators(&mut self) {
        while matches!(self.tokens[self.pos].tok, Tok::Newline | Tok::Semi) {
            self.pos += 1;
        }
    }

    /// Parses one statement and its terminator; on error skips to the next
    /// statement boundary and returns `None`.
    fn statement_recovering(&mut self) -> Option<Stmt> {
        let depth = self.nl_ignore.len();
        let saved = (self.no_struct, self.squad_depth, self.nesting);
        let result = self.statement().and_then(|s| self.end_of_statement().map(|_| s));
        match result {
            Ok(s) => Some(s),
            Err(Failed) => {
                self.nl_ignore.truncate(depth);
                (self.no_struct, self.squad_depth, self.nesting) = saved;
                self.synchronize();
                None
            }
        }
    }

    fn end_of_statement(&mut self) -> PResult<()> {
        match self.tokens[self.pos].tok {
            Tok::Newline | Tok::Semi => {
                self.pos += 1;
                Ok(())
            }
            Tok::RBrace | Tok::Eof => Ok(()),
            _ => Err(self.unexpected("end of statement")),
        }
    }

    /// Skips tokens until the end of the current line at bracket depth 0, or
    /// just before a `}` that closes the enclosing block.
    fn synchronize(&mut self) {
        let mut depth = 0i32;
        loop {
            match self.tokens[self.pos].tok {
                Tok::Eof => return,
                Tok::Newline | Tok::Semi if depth <= 0 => {
                    self.pos += 1;
                    return;
                }
                Tok::LParen | Tok::LBracket | Tok::LBrace => depth += 1,
                Tok::RParen | Tok::RBracket => depth -= 1,
                Tok::RBrace => {
                    if depth <= 0 {
                        return;
                    }
                    depth -= 1;
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn block(&mut self) -> PResult<Block> {
        self.skip_newlines();
        let open = self.expect(&Tok::LBrace, "'{'")?;
        if self.nesting > MAX_NESTING {
            return Err(self.error_at("blocks nested too deeply", open));
        }
        self.nesting += 1;
        let r = self.block_body();
        self.nesting -= 1;
        r
    }

    fn block_body(&mut self) -> PResult<Block> {
        self.nl_ignore.push(false);
        let saved_no_struct = std::mem::replace(&mut self.no_struct, false);
        let mut stmts = Vec::new();
        loop {
            self.skip_separators();
            match self.tokens[self.pos].tok {
                Tok::RBrace => {
                    self.pos += 1;
                    break;
                }
                Tok::Eof => {
                    let span = self.tokens[self.pos].span;
                    self.nl_ignore.pop();
                    self.no_struct = saved_no_struct;
                    return Err(self.error_at("expected '}' to close the block, found end of file", span));
                }
                _ => {
                    if let Some(s) = self.statement_recovering() {
                        stmts.push(s);
                    }
                    if self.errors.len() >= MAX_ERRORS {
                        self.nl_ignore.pop();
                        return Err(Failed);
                    }
                }
            }
        }
        self.nl_ignore.pop();
        self.no_struct = saved_no_struct;
        Ok(Block { stmts })
    }

    fn statement(&mut self) -> PResult<Stmt> {
        let start = self.peek_span();
        let kind = match self.peek().clone() {
            Tok::Kw(Kw::Let) => self.let_stmt()?,
            Tok::Kw(Kw::Set) => self.set_stmt()?,
            Tok::Kw(Kw::Change) => {
                self.advance();
                let target = self.expr()?;
                let place = self.place_of(target)?;
                self.expect_kw(Kw::To)?;
                self.skip_newlines();
                let value = self.expr()?;
                StmtKind::Assign { place, op: None, value }
            }
            Tok::Kw(Kw::Fn) if matches!(self.peek_nth(1), Tok::Ident(_)) => self.fn_decl(Vec::new())?,
            Tok::Kw(Kw::Define | Kw::Forge) => self.fn_decl(Vec::new())?,
            Tok::Kw(Kw::Async) => {
                self.advance();
                if !self.at_kw(Kw::Fn) {
                    return Err(self.unexpected("'fn' after 'async'"));
                }
                self.fn_decl(Vec::new())?
            }
            Tok::Kw(Kw::Pub) => {
                self.advance();
                return self.statement();
            }
            Tok::Kw(Kw::Return) => {
                self.advance();
                let value = match self.tokens[self.pos].tok {
                    Tok::Newline | Tok::Semi | Tok::RBrace | Tok::Eof => None,
                    _ => Some(self.expr()?),
                };
                StmtKind::Return(value)
            }
            Tok::Kw(Kw::While) => {
                self.advance();
                let cond = self.header_expr()?;
                let body = self.block()?;
                StmtKind::While { cond, body }
            }
            Tok::Kw(Kw::Loop) => {
                self.advance();
                StmtKind::Loop(self.block()?)
            }
            Tok::Kw(Kw::For) => self.for_stmt()?,
            Tok::Kw(Kw::Repeat) => {
                self.advance();
                let count = self.header_expr()?;
                self.eat_kw(Kw::Times);
                let body = self.block()?;
                StmtKind::Repeat { count, body }
            }
            Tok::Kw(Kw::Break) => {
                self.advance();
                StmtKind::Break
            }
            Tok::Kw(Kw::Continue) => {
                self.advance();
                StmtKind::Continue
            }
            Tok::Kw(Kw::Struct | Kw::Thing) => self.struct_decl()?,
            Tok::Kw(Kw::Type) if matches!(self.peek_nth(1), Tok::Ident(_)) => self.enum_decl()?,
            Tok::Kw(Kw::Interface | Kw::Power) => self.interface_decl()?,
            Tok::Kw(Kw::Impl) => self.impl_decl()?,
            Tok::Kw(Kw::Give) => self.give_decl()?,
            Tok::Kw(Kw::Import) => self.import_stmt()?,
            Tok::Kw(k @ (Kw::Say | Kw::Yell | Kw::Whisper)) => {
                self.advance();
                let kind = match k {
                    Kw::Say => PrintKind::Say,
                    Kw::Yell => PrintKind::Yell,
                    _ => PrintKind::Whisper,
                };
                StmtKind::Print { kind, value: self.expr()? }
            }
            Tok::Kw(Kw::Wait) => {
                self.advance();
                let value = self.expr()?;
                self.eat_kw(Kw::Seconds);
                StmtKind::Wait(value)
            }
            Tok::Kw(Kw::Unpack) => self.unpack_stmt()?,
            Tok::Kw(Kw::Try) => self.try_stmt()?,
            Tok::Kw(Kw::Check) => self.check_stmt()?,
            Tok::At => return self.decorated(),
            _ => {
                let e = self.expr()?;
                let op = match self.tokens[self.pos].tok {
                    Tok::Assign => Some(None),
                    Tok::PlusEq => Some(Some(BinOp::Add)),
                    Tok::MinusEq => Some(Some(BinOp::Sub)),
                    Tok::StarEq => Some(Some(BinOp::Mul)),
                    Tok::SlashEq => Some(Some(BinOp::Div)),
                    Tok::PercentEq => Some(Some(BinOp::Mod)),
                    _ => None,
                };
                match op {
                    Some(op) => {
                        self.advance();
                        self.skip_newlines();
                        let place = self.place_of(e)?;
                        let value = self.expr()?;
                        StmtKind::Assign { place, op, value }
                    }
                    None => StmtKind::Expr(e),
                }
            }
        };
        Ok(Stmt { kind, span: start.to(self.prev_span()) })
    }

    fn skip_type_annotation(&mut self) -> PResult<()> {
        if self.eat(&Tok::Colon) {
            self.type_expr()?;
        }
        Ok(())
    }

    /// Parses (and discards) a type: `Int`, `Name`, `[T]`, `?T`, `Name<T, U>`.
    fn type_expr(&mut self) -> PResult<()> {
        if self.eat(&Tok::Question) {
            return self.type_expr();
        }
        if self.eat(&Tok::LBracket) {
            self.type_expr()?;
            self.expect(&Tok::RBracket, "']'")?;
            return Ok(());
        }
        match self.peek() {
            Tok::Ident(_) | Tok::Kw(_) => {
                self.advance();
            }
            _ => return Err(self.unexpected("a type")),
        }
        if self.eat(&Tok::Lt) {
            loop {
                self.type_expr()?;
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            self.expect(&Tok::Gt, "'>'")?;
        }
        Ok(())
    }

    fn let_stmt(&mut self) -> PResult<StmtKind> {
        self.advance();
        let mutable = self.eat_kw(Kw::Mut);
        if self.at(&Tok::LParen) {
            self.advance();
            let mut decls = Vec::new();
            loop {
                let (name, span) = self.ident("a variable name")?;
                decls.push(VarDecl::new(name, mutable, span));
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            self.expect(&Tok::RParen, "')'")?;
            self.expect(&Tok::Assign, "'='")?;
            self.skip_newlines();
            let value = self.expr()?;
            return Ok(StmtKind::LetTuple { decls, value });
        }
        if self.at(&Tok::LBrace) {
            let span = self.peek_span();
            return Err(self.error_at("'let {…} = …' is not supported; use 'unpack {…} from …'", span));
        }
        let (name, span) = self.ident("a variable name")?;
        self.skip_type_annotation()?;
        self.expect(&Tok::Assign, "'='")?;
        self.skip_newlines();
        let value = self.expr()?;
        Ok(StmtKind::Let { decl: VarDecl::new(name, mutable, span), value })
    }

    fn set_stmt(&mut self) -> PResult<StmtKind> {
        self.advance();
        let mutable = self.eat_kw(Kw::Mut);
        let (name, span) = self.ident("a variable name")?;
        self.skip_type_annotation()?;
        self.expect_kw(Kw::To)?;
        self.skip_newlines();
        let value = self.expr()?;
        Ok(StmtKind::Let { decl: VarDecl::new(name, mutable, span), value })
    }

    fn for_stmt(&mut self) -> PResult<StmtKind> {
        self.advance();
        self.eat_kw(Kw::Each);
        let (name, span) = self.ident("a loop variable")?;
        let first = VarDecl::new(name, false, span);
        let second = if self.eat(&Tok::Comma) {
            let (name, span) = self.ident("a loop variable")?;
            Some(VarDecl::new(name, false, span))
        } else {
            None
        };
        self.expect_kw(Kw::In)?;
        let iter = self.header_expr()?;
        let body = self.block()?;
        Ok(StmtKind::For { first, second, iter, body })
    }

    /// An expression in a statement header, where `Name {` opens the body.
    fn header_expr(&mut self) -> PResult<Expr> {
        let saved = std::mem::replace(&mut self.no_struct, true);
        let r = self.expr();
        self.no_struct = saved;
        r
    }

    fn params(&mut self) -> PResult<Vec<Param>> {
        self.expect(&Tok::LParen, "'('")?;
        self.with_newlines(true, |p| {
            let mut params = Vec::new();
            while !p.at(&Tok::RParen) {
                let (name, span) = p.ident("a parameter name")?;
                p.skip_type_annotation()?;
                let default = if p.eat(&Tok::Assign) { Some(p.expr()?) } else { None };
                if default.is_none() && params.iter().any(|q: &Param| q.default.is_some()) {
                    return Err(p.error_at("a parameter without a default cannot follow one with a default", span));
                }
                params.push(Param { decl: VarDecl::new(name, true, span), default });
                if !p.eat(&Tok::Comma) {
                    break;
                }
            }
            p.expect(&Tok::RParen, "')'")?;
            Ok(params)
        })
    }

    fn return_type(&mut self) -> PResult<()> {
        if self.eat(&Tok::Arrow) {
            self.type_expr()?;
        }
        Ok(())
    }

    /// The body of a function: a fresh lexical context for `squad`.
    fn fn_body(&mut self) -> PResult<Block> {
        let saved = std::mem::replace(&mut self.squad_depth, 0);
        let r = self.block();
        self.squad_depth = saved;
        r
    }

    fn fn_def(&mut self, name: ArcStr, span: Span, is_lambda: bool) -> PResult<FnDef> {
        let params = self.params()?;
        self.return_type()?;
        let body = self.fn_body()?;
        Ok(FnDef {
            name,
            params,
            body,
            span: span.to(self.prev_span()),
            is_lambda,
            locals: 0,
            cells: 0,
            captures: Vec::new(),
        })
    }

    fn fn_decl(&mut self, decorators: Vec<Decorator>) -> PResult<StmtKind> {
        let start = self.advance().span; // fn / define / forge
        let (name, span) = self.ident("a function name")?;
        let def = self.fn_def(name.clone(), start, false)?;
        Ok(StmtKind::Fn { decl: VarDecl::new(name, false, span), def: Arc::new(def), decorators })
    }

    fn decorated(&mut self) -> PResult<Stmt> {
        let start = self.peek_span();
        let mut decorators = Vec::new();
        while self.at(&Tok::At) {
            let at = self.advance().span;
            let (name, _) = self.member_name()?;
            let mut args = Vec::new();
            if self.at(&Tok::LParen) {
                self.advance();
                self.with_newlines(true, |p| {
                    while !p.at(&Tok::RParen) {
                        let key = match (p.peek().clone(), p.peek_nth(1)) {
                            (Tok::Ident(k), Tok::Colon) => {
                                p.advance();
                                p.advance();
                                Some(ArcStr::from(k))
                            }
                            _ => None,
                        };
                        args.push((key, p.expr()?));
                        if !p.eat(&Tok::Comma) {
                            break;
                        }
                    }
                    p.expect(&Tok::RParen, "')'")?;
                    Ok(())
                })?;
            }
            decorators.push(Decorator { name, args, span: at.to(self.prev_span()) });
            self.skip_newlines();
        }
        let kind = match self.peek().clone() {
            Tok::Kw(Kw::Fn | Kw::Define | Kw::Forge) => self.fn_decl(decorators)?,
            Tok::Kw(Kw::Async) => {
                self.advance();
                self.fn_decl(decorators)?
            }
            _ if decorators.len() == 1 => {
                let d = decorators.pop().unwrap_or_else(|| unreachable!());
                return Ok(Stmt { span: d.span, kind: StmtKind::Decorator(d) });
            }
            _ => return Err(self.unexpected("a function after its decorators")),
        };
        Ok(Stmt { kind, span: start.to(self.prev_span()) })
    }

    fn struct_decl(&mut self) -> PResult<StmtKind> {
        let start = self.advance().span;
        let (name, span) = self.ident("a struct name")?;
        if self.eat(&Tok::Lt) {
            while !self.eat(&Tok::Gt) {
                if matches!(self.peek(), Tok::Eof | Tok::LBrace) {
                    return Err(self.unexpected("'>'"));
                }
                self.advance();
            }
        }
        self.skip_newlines();
        self.expect(&Tok::LBrace, "'{'")?;
        let fields = self.with_newlines(false, |p| {
            let mut fields: Vec<FieldDef> = Vec::new();
            loop {
                p.skip_arm_separators();
                if p.eat(&Tok::RBrace) {
                    break;
                }
                let embedded = matches!(p.peek(), Tok::Ident(h) if h == "has")
                    && matches!(p.peek_nth(1), Tok::Ident(_) | Tok::Kw(_));
                if embedded {
                    p.advance();
                }
                let (fname, fspan) = p.ident("a field name")?;
                if fields.iter().any(|f| f.name == fname) {
                    return Err(p.error_at(format!("duplicate field '{fname}'"), fspan));
                }
                p.skip_type_annotation()?;
                let default = if p.eat(&Tok::Assign) { Some(p.expr()?) } else { None };
                fields.push(FieldDef { name: fname, default, embedded });
                if !matches!(p.tokens[p.pos].tok, Tok::Newline | Tok::Comma | Tok::Semi | Tok::RBrace) {
                    return Err(p.unexpected("',' or '}'"));
                }
            }
            Ok(fields)
        })?;
        let def = StructDef {
            name: name.clone(),
            fields,
            decl: VarDecl::new(name, false, span),
            span: start.to(self.prev_span()),
        };
        Ok(StmtKind::Struct(Arc::new(def)))
    }

    fn enum_decl(&mut self) -> PResult<StmtKind> {
        self.advance();
        let (name, span) = self.ident("a type name")?;
        if self.eat(&Tok::Lt) {
            while !self.eat(&Tok::Gt) {
                if matches!(self.peek(), Tok::Eof) {
                    return Err(self.unexpected("'>'"));
                }
                self.advance();
            }
        }
        self.expect(&Tok::Assign, "'='")?;
        self.skip_newlines();
        self.eat(&Tok::Bar);
        let mut variants = Vec::new();
        loop {
            self.skip_newlines();
            let (vname, vspan) = self.ident("a variant name")?;
            let mut arity = 0;
            if self.at(&Tok::LParen) {
                self.advance();
                self.with_newlines(true, |p| {
                    while !p.at(&Tok::RParen) {
                        p.type_expr()?;
                        arity += 1;
                        if !p.eat(&Tok::Comma) {
                            break;
                        }
                    }
                    p.expect(&Tok::RParen, "')'")?;
                    Ok(())
                })?;
            }
            variants.push(VariantDef {
                name: vname.clone(),
                arity,
                decl: VarDecl::new(vname, false, vspan),
                span: vspan.to(self.prev_span()),
            });
            let continues = matches!(self.tokens[self.pos].tok, Tok::Bar)
                || (matches!(self.tokens[self.pos].tok, Tok::Newline) && matches!(self.peek_past_newlines(), Tok::Bar));
            if !continues {
                break;
            }
            self.skip_newlines();
            self.advance();
        }
        let def = EnumDef { name: name.clone(), variants };
        Ok(StmtKind::Enum { decl: VarDecl::new(name, false, span), def: Arc::new(def) })
    }

    fn interface_decl(&mut self) -> PResult<StmtKind> {
        self.advance();
        let (name, span) = self.ident("an interface name")?;
        self.skip_newlines();
        self.expect(&Tok::LBrace, "'{'")?;
        let methods = self.with_newlines(true, |p| {
            let mut methods = Vec::new();
            while !p.at(&Tok::RBrace) {
                if !(p.eat_kw(Kw::Fn) || p.eat_kw(Kw::Define)) {
                    return Err(p.unexpected("'fn' in an interface"));
                }
                let (m, _) = p.ident("a method name")?;
                p.params()?;
                p.return_type()?;
                methods.push(m);
                p.eat(&Tok::Comma);
            }
            p.expect(&Tok::RBrace, "'}'")?;
            Ok(methods)
        })?;
        Ok(StmtKind::Interface {
            decl: VarDecl::new(name.clone(), false, span),
            def: Arc::new(InterfaceDef { name, methods }),
        })
    }

    fn method_block(&mut self) -> PResult<Vec<Arc<FnDef>>> {
        self.skip_newlines();
        self.expect(&Tok::LBrace, "'{'")?;
        self.nl_ignore.push(true);
        let mut methods = Vec::new();
        let r = (|| {
            while !self.at(&Tok::RBrace) {
                self.eat_kw(Kw::Pub);
                self.eat_kw(Kw::Async);
                if !(self.at_kw(Kw::Fn) || self.at_kw(Kw::Define) || self.at_kw(Kw::Forge)) {
                    return Err(self.unexpected("a method ('fn' or 'define')"));
                }
                let start = self.advance().span;
                let (name, _) = self.ident("a method name")?;
                self.nl_ignore.push(false);
                let def = self.fn_def(name, start, false);
                self.nl_ignore.pop();
                methods.push(Arc::new(def?));
            }
            self.expect(&Tok::RBrace, "'}'")?;
            Ok(())
        })();
        self.nl_ignore.pop();
        r.map(|_| methods)
    }

    fn impl_decl(&mut self) -> PResult<StmtKind> {
        self.advance();
        let (first, _) = self.ident("a type name")?;
        let (type_name, interface) = if self.eat_kw(Kw::For) {
            let (t, _) = self.ident("a type name")?;
            (t, Some(first))
        } else {
            (first, None)
        };
        let methods = self.method_block()?;
        Ok(StmtKind::Impl { type_name, interface, methods })
    }

    fn give_decl(&mut self) -> PResult<StmtKind> {
        self.advance();
        let (type_name, _) = self.ident("a type name")?;
        let interface = if self.eat_kw(Kw::The) {
            self.expect_kw(Kw::Power)?;
            Some(self.ident("a power name")?.0)
        } else {
            None
        };
        let methods = self.method_block()?;
        Ok(StmtKind::Impl { type_name, interface, methods })
    }

    fn string_literal(&mut self, what: &str) -> PResult<ArcStr> {
        match self.peek().clone() {
            Tok::Str(parts) => match parts.as_slice() {
                [StrPart::Lit(s)] => {
                    self.advance();
                    Ok(ArcStr::from(s.as_str()))
                }
                _ => {
                    let span = self.peek_span();
                    Err(self.error_at(format!("{what} cannot contain interpolation"), span))
                }
            },
            _ => Err(self.unexpected(what)),
        }
    }

    fn import_stmt(&mut self) -> PResult<StmtKind> {
        self.advance();
        match self.peek().clone() {
            Tok::LBrace => {
                self.advance();
                let names = self.with_newlines(true, |p| {
                    let mut names = Vec::new();
                    while !p.at(&Tok::RBrace) {
                        names.push(p.ident("an imported name")?.0);
                        if !p.eat(&Tok::Comma) {
                            break;
                        }
                    }
                    p.expect(&Tok::RBrace, "'}'")?;
                    Ok(names)
                })?;
                self.expect_kw(Kw::From)?;
                let path = self.string_literal("an import path")?;
                Ok(StmtKind::Import { path, names: Some(names), module: None, bindings: Vec::new() })
            }
            Tok::Ident(_) => {
                // `import math`: built-in modules are always present.
                let (name, span) = self.ident("a module name")?;
                if crate::stdlib::is_module_name(&name) {
                    Ok(StmtKind::Import { path: name, names: Some(Vec::new()), module: None, bindings: Vec::new() })
                } else {
                    Err(self.error_at(format!("unknown module '{name}'; import a file with import \"path\""), span))
                }
            }
            _ => {
                let path = self.string_literal("an import path")?;
                Ok(StmtKind::Import { path, names: None, module: None, bindings: Vec::new() })
            }
        }
    }

    fn unpack_stmt(&mut self) -> PResult<StmtKind> {
        self.advance();
        let pattern = match self.peek().clone() {
            Tok::LBrace => {
                self.advance();
                let names = self.with_newlines(true, |p| {
                    let mut names = Vec::new();
                    while !p.at(&Tok::RBrace) {
                        let (n, s) = p.ident("a name")?;
                        names.push(VarDecl::new(n, false, s));
                        if !p.eat(&Tok::Comma) {
                            break;
                        }
                    }
                    p.expect(&Tok::RBrace, "'}'")?;
                    Ok(names)
                })?;
                UnpackPattern::Object(names)
            }
            Tok::LBracket => {
                self.advance();
                self.with_newlines(true, |p| {
                    let mut items = Vec::new();
                    let mut rest = None;
                    while !p.at(&Tok::RBracket) {
                        if p.eat(&Tok::Ellipsis) {
                            let (n, s) = p.ident("a name")?;
                            rest = Some(VarDecl::new(n, false, s));
                            break;
                        }
                        let (n, s) = p.ident("a name")?;
                        items.push(VarDecl::new(n, false, s));
                        if !p.eat(&Tok::Comma) {
                            break;
                        }
                    }
                    p.expect(&Tok::RBracket, "']'")?;
                    Ok(UnpackPattern::Array { items, rest })
                })?
            }
            _ => return Err(self.unexpected("'{' or '[' after 'unpack'")),
        };
        self.expect_kw(Kw::From)?;
        let value = self.expr()?;
        Ok(StmtKind::Unpack { pattern, value })
    }

    fn try_stmt(&mut self) -> PResult<StmtKind> {
        self.advance();
        let body = self.block()?;
        self.skip_newlines();
        self.expect_kw(Kw::Catch)?;
        let (name, span) = self.ident("a name for the caught error")?;
        let handler = self.block()?;
        Ok(StmtKind::TryCatch { body, name: VarDecl::new(name, false, span), handler })
    }

    fn check_stmt(&mut self) -> PResult<StmtKind> {
        self.advance();
        let value = self.range_level()?;
        let kind = if matches!(self.peek(), Tok::Ident(w) if w == "is") {
            self.advance();
            self.expect_kw(Kw::Not)?;
            match self.peek().clone() {
                Tok::Ident(w) if w == "empty" => {
                    self.advance();
                    CheckKind::NotEmpty
                }
                _ => return Err(self.unexpected("'empty'")),
            }
        } else if matches!(self.peek(), Tok::Ident(w) if w == "between") {
            self.advance();
            let lo = self.eq_level()?;
            self.expect_kw(Kw::And)?;
            let hi = self.eq_level()?;
            CheckKind::Between(lo, hi)
        } else {
            // `check a > b and c`: the comparison levels above `range`.
            let value = self.continue_binary(value)?;
            return Ok(StmtKind::Check { value, kind: CheckKind::Truthy });
        };
        Ok(StmtKind::Check { value, kind })
    }

    fn place_of(&mut self, e: Expr) -> PResult<Place> {
        let span = e.span;
        match e.kind {
            ExprKind::Var(root) => Ok(Place { root, path: Vec::new(), span }),
            ExprKind::Field(base, name) => {
                let mut p = self.place_of(*base)?;
                p.path.push(PathSeg::Field(name));
                p.span = span;
                Ok(p)
            }
            ExprKind::Index(base, index) => {
                let mut p = self.place_of(*base)?;
                p.path.push(PathSeg::Index(*index));
                p.span = span;
                Ok(p)
            }
            _ => Err(self.error_at("invalid assignment target", span)),
        }
    }

    fn is_place_shaped(e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Var(_) => true,
            ExprKind::Field(b, _) | ExprKind::Index(b, _) => Self::is_place_shaped(b),
            _ => false,
        }
    }

    // ---- expressions --------------------------------------------------

    pub fn expr(&mut self) -> PResult<Expr> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            let span = self.peek_span();
            self.nesting -= 1;
            return Err(self.error_at("expression nested too deeply", span));
        }
        let r = self.pipe_level();
        self.nesting -= 1;
        r
    }

    fn pipe_level(&mut self) -> PResult<Expr> {
        let mut lhs = self.or_level()?;
        while self.at(&Tok::Pipe) {
            self.advance();
            self.skip_newlines();
            let rhs = self.or_level()?;
            let span = lhs.span.to(rhs.span);
            let kind = match rhs.kind {
                ExprKind::Call { callee, mut args } => {
                    args.insert(0, lhs);
                    ExprKind::Call { callee, args }
                }
                ExprKind::MethodCall { recv, name, mut args, place } => {
                    args.insert(0, lhs);
                    ExprKind::MethodCall { recv, name, args, place }
                }
                other => ExprKind::Call { callee: Box::new(Expr { kind: other, span: rhs.span }), args: vec![lhs] },
            };
            lhs = Expr { kind, span };
        }
        Ok(lhs)
    }

    fn or_level(&mut self) -> PResult<Expr> {
        let mut lhs = self.and_level()?;
        while matches!(self.peek(), Tok::OrOr | Tok::Kw(Kw::Or)) {
            self.advance();
            self.skip_newlines();
            let rhs = self.and_level()?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr { kind: ExprKind::Or(Box::new(lhs), Box::new(rhs)), span };
        }
        Ok(lhs)
    }

    fn and_level(&mut self) -> PResult<Expr> {
        let mut lhs = self.eq_level()?;
        while matches!(self.peek(), Tok::AndAnd | Tok::Kw(Kw::And)) {
            self.advance();
            self.skip_newlines();
            let rhs = self.eq_level()?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr { kind: ExprKind::And(Box::new(lhs), Box::new(rhs)), span };
        }
        Ok(lhs)
    }

    fn binary(lhs: Expr, op: BinOp, rhs: Expr, op_span: Span) -> Expr {
        let span = lhs.span.to(rhs.span);
        let _ = op_span;
        Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span }
    }

    fn eq_level(&mut self) -> PResult<Expr> {
        let lhs = self.cmp_level()?;
        self.eq_rest(lhs)
    }

    fn eq_rest(&mut self, mut lhs: Expr) -> PResult<Expr> {
        loop {
            let op = match self.peek() {
                Tok::EqEq => BinOp::Eq,
                Tok::NotEq => BinOp::Ne,
                _ => return Ok(lhs),
            };
            let op_span = self.advance().span;
            self.skip_newlines();
            let rhs = self.cmp_level()?;
            lhs = Self::binary(lhs, op, rhs, op_span);
        }
    }

    fn cmp_level(&mut self) -> PResult<Expr> {
        let lhs = self.range_level()?;
        self.cmp_rest(lhs)
    }

    fn cmp_rest(&mut self, mut lhs: Expr) -> PResult<Expr> {
        loop {
            let op = match self.peek() {
                Tok::Lt => BinOp::Lt,
                Tok::Gt => BinOp::Gt,
                Tok::Le => BinOp::Le,
                Tok::Ge => BinOp::Ge,
                _ => return Ok(lhs),
            };
            let op_span = self.advance().span;
            self.skip_newlines();
            let rhs = self.range_level()?;
            lhs = Self::binary(lhs, op, rhs, op_span);
        }
    }

    /// Continues a parsed range-level operand through the comparison,
    /// equality, `and`, `or` and pipe levels (used by `check`).
    fn continue_binary(&mut self, lhs: Expr) -> PResult<Expr> {
        let lhs = self.cmp_rest(lhs)?;
        let mut lhs = self.eq_rest(lhs)?;
        while matches!(self.peek(), Tok::AndAnd | Tok::Kw(Kw::And)) {
            self.advance();
            self.skip_newlines();
            let rhs = self.eq_level()?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr { kind: ExprKind::And(Box::new(lhs), Box::new(rhs)), span };
        }
        while matches!(self.peek(), Tok::OrOr | Tok::Kw(Kw::Or)) {
            self.advance();
            self.skip_newlines();
            let rhs = self.and_level()?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr { kind: ExprKind::Or(Box::new(lhs), Box::new(rhs)), span };
        }
        Ok(lhs)
    }

    fn range_level(&mut self) -> PResult<Expr> {
        let lhs = self.add_level()?;
        if self.at(&Tok::DotDot) {
            self.advance();
            self.skip_newlines();
            let rhs = self.add_level()?;
            if self.at(&Tok::DotDot) {
                let span = self.peek_span();
                return Err(self.error_at("ranges cannot be chained", span));
            }
            let span = lhs.span.to(rhs.span);
            return Ok(Expr { kind: ExprKind::Range(Box::new(lhs), Box::new(rhs)), span });
        }
        Ok(lhs)
    }

    fn add_level(&mut self) -> PResult<Expr> {
        let mut lhs = self.mul_level()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(lhs),
            };
            let op_span = self.advance().span;
            self.skip_newlines();
            let rhs = self.mul_level()?;
            lhs = Self::binary(lhs, op, rhs, op_span);
        }
    }

    fn mul_level(&mut self) -> PResult<Expr> {
        let mut lhs = self.unary_level()?;
        loop {
            let op = match self.peek() {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Percent => BinOp::Mod,
                _ => return Ok(lhs),
            };
            let op_span = self.advance().span;
            self.skip_newlines();
            let rhs = self.unary_level()?;
            lhs = Self::binary(lhs, op, rhs, op_span);
        }
    }

    fn unary_level(&mut self) -> PResult<Expr> {
        let start = self.peek_span();
        match self.peek().clone() {
            Tok::Minus => {
                self.advance();
                let e = self.nested(Self::unary_level)?;
                let span = start.to(e.span);
                // Fold `-FLOAT` so `-0.0` is a constant.
                let kind = match e.kind {
                    ExprKind::Float(f) => ExprKind::Float(-f),
                    kind => ExprKind::Unary(UnOp::Neg, Box::new(Expr { kind, span: e.span })),
                };
                Ok(Expr { kind, span })
            }
            Tok::Bang | Tok::Kw(Kw::Not) => {
                self.advance();
                let e = self.nested(Self::unary_level)?;
                let span = start.to(e.span);
                Ok(Expr { kind: ExprKind::Unary(UnOp::Not, Box::new(e)), span })
            }
            Tok::Kw(Kw::Await | Kw::Hold) => {
                self.advance();
                let e = self.nested(Self::unary_level)?;
                let span = start.to(e.span);
                Ok(Expr { kind: ExprKind::Await(Box::new(e)), span })
            }
            Tok::Kw(Kw::Must) => {
                self.advance();
                let e = self.nested(Self::unary_level)?;
                let span = start.to(e.span);
                Ok(Expr { kind: ExprKind::Must(Box::new(e)), span })
            }
            _ => self.postfix_level(),
        }
    }

    fn nested(&mut self, f: fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            let span = self.peek_span();
            self.nesting -= 1;
            return Err(self.error_at("expression nested too deeply", span));
        }
        let r = f(self);
        self.nesting -= 1;
        r
    }

    fn args(&mut self) -> PResult<Vec<Expr>> {
        // `(` already consumed
        self.with_newlines(true, |p| {
            let mut args = Vec::new();
            while !p.at(&Tok::RParen) {
                if p.at(&Tok::Ellipsis) {
                    let span = p.peek_span();
                    return Err(p.error_at("spread is not available in calls", span));
                }
                args.push(p.expr()?);
                if !p.eat(&Tok::Comma) {
                    break;
                }
            }
            p.expect(&Tok::RParen, "')' or ','")?;
            Ok(args)
        })
    }

    fn postfix_level(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        loop {
            // Postfix operators must be on the same line unless newlines are ignored.
            let tok = if self.ignoring_newlines() { self.peek().clone() } else { self.tokens[self.pos].tok.clone() };
            match tok {
                Tok::LParen => {
                    self.advance();
                    let args = self.args()?;
                    let span = e.span.to(self.prev_span());
                    e = Expr { kind: ExprKind::Call { callee: Box::new(e), args }, span };
                }
                Tok::LBracket => {
                    self.advance();
                    let index = self.with_newlines(true, |p| {
                        let i = p.expr()?;
                        p.expect(&Tok::RBracket, "']'")?;
                        Ok(i)
                    })?;
                    let span = e.span.to(self.prev_span());
                    e = Expr { kind: ExprKind::Index(Box::new(e), Box::new(index)), span };
                }
                Tok::Dot => {
                    self.advance();
                    let (name, name_span) = self.member_name()?;
                    let next_is_call = if self.ignoring_newlines() {
                        self.at(&Tok::LParen)
                    } else {
                        matches!(self.tokens[self.pos].tok, Tok::LParen)
                    };
                    if next_is_call {
                        self.advance();
                        let args = self.args()?;
                        let span = e.span.to(self.prev_span());
                        let (recv, place) = if (name == "push" || name == "pop") && Self::is_place_shaped(&e) {
                            let place = self.place_of(e)?;
                            (Expr { kind: ExprKind::Null, span: place.span }, Some(Box::new(place)))
                        } else {
                            (e, None)
                        };
                        e = Expr { kind: ExprKind::MethodCall { recv: Box::new(recv), name, args, place }, span };
                    } else {
                        let span = e.span.to(name_span);
                        e = Expr { kind: ExprKind::Field(Box::new(e), name), span };
                    }
                }
                Tok::Question => {
                    self.advance();
                    let span = e.span.to(self.prev_span());
                    e = Expr { kind: ExprKind::Question(Box::new(e)), span };
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let tok = self.peek().clone();
        let span = self.peek_span();
        let lit = |kind| Ok(Expr { kind, span });
        match tok {
            Tok::Int(n) => {
                self.advance();
                lit(ExprKind::Int(n))
            }
            Tok::Float(f) => {
                self.advance();
                lit(ExprKind::Float(f))
            }
            Tok::Str(parts) => {
                self.advance();
                self.template(parts, span)
            }
            Tok::Kw(Kw::True) => {
                self.advance();
                lit(ExprKind::Bool(true))
            }
            Tok::Kw(Kw::False) => {
                self.advance();
                lit(ExprKind::Bool(false))
            }
            Tok::Kw(Kw::Null) => {
                self.advance();
                lit(ExprKind::Null)
            }
            Tok::Ident(name) => {
                self.advance();
                let name = ArcStr::from(name);
                if is_type_name(&name) && !self.no_struct && matches!(self.peek_for_brace(), Tok::LBrace) {
                    return self.struct_literal(name, span);
                }
                lit(ExprKind::Var(VarRef { name, slot: Slot::Unresolved, span }))
            }
            Tok::Kw(k) if k.as_callable_name().is_some() && matches!(self.peek_nth(1), Tok::LParen) => {
                self.advance();
                let name = ArcStr::from(k.as_str());
                lit(ExprKind::Var(VarRef { name, slot: Slot::Unresolved, span }))
            }
            Tok::LParen => {
                self.advance();
                let e = self.with_newlines(true, |p| {
                    let e = p.expr()?;
                    p.expect(&Tok::RParen, "')'")?;
                    Ok(e)
                })?;
                Ok(Expr { kind: e.kind, span: span.to(self.prev_span()) })
            }
            Tok::LBracket => self.array_literal(),
            Tok::LBrace => self.object_literal(),
            Tok::Kw(Kw::Fn) => {
                self.advance();
                let def = self.fn_def(ArcStr::from("<lambda>"), span, true)?;
                Ok(Expr { span: def.span, kind: ExprKind::Lambda(Arc::new(def)) })
            }
            Tok::Kw(Kw::If) => self.if_expr(),
            Tok::Kw(Kw::When) => self.when_expr(),
            Tok::Kw(Kw::Match) => self.match_expr(),
            Tok::Kw(Kw::Safe) => {
                self.advance();
                let body = self.block()?;
                Ok(Expr { kind: ExprKind::Safe(body), span: span.to(self.prev_span()) })
            }
            Tok::Kw(Kw::Squad) => {
                self.advance();
                self.squad_depth += 1;
                let body = self.block();
                self.squad_depth -= 1;
                Ok(Expr { kind: ExprKind::Squad(body?), span: span.to(self.prev_span()) })
            }
            Tok::Kw(Kw::Spawn) => self.spawn_expr(),
            Tok::Kw(Kw::Craft) => {
                self.advance();
                let (name, _) = self.ident("a struct name")?;
                self.struct_literal(name, span)
            }
            Tok::Kw(k) => Err(self.error_at(format!("unexpected keyword '{}'", k.as_str()), span)),
            _ => Err(self.unexpected("an expression")),
        }
    }

    /// The next token after an identifier when deciding `Name {`: the brace
    /// must be on the same line.
    fn peek_for_brace(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn template(&mut self, parts: Vec<StrPart>, span: Span) -> PResult<Expr> {
        if let [StrPart::Lit(s)] = parts.as_slice() {
            return Ok(Expr { kind: ExprKind::Str(ArcStr::from(s.as_str())), span });
        }
        let mut out = Vec::new();
        for part in parts {
            match part {
                StrPart::Lit(s) => out.push(TemplatePart::Lit(ArcStr::from(s))),
                StrPart::Expr { start, end } => {
                    let (tokens, lex_errors) = Lexer::new(self.src, self.file, start, end).run();
                    self.errors.extend(lex_errors);
                    let mut sub = Parser::new(self.src, self.file, tokens);
                    sub.nl_ignore = vec![true];
                    sub.nesting = self.nesting;
                    let e = sub.expr();
                    if e.is_ok() && !matches!(sub.peek(), Tok::Eof) {
                        let _ = sub.unexpected("'}' to end the interpolation");
                    }
                    self.errors.append(&mut sub.errors);
                    out.push(TemplatePart::Expr(e?));
                }
            }
        }
        Ok(Expr { kind: ExprKind::Template(out), span })
    }

    fn array_literal(&mut self) -> PResult<Expr> {
        let start = self.advance().span;
        let items = self.with_newlines(true, |p| {
            let mut items = Vec::new();
            while !p.at(&Tok::RBracket) {
                if p.eat(&Tok::Ellipsis) {
                    items.push(ArrayItem::Spread(p.expr()?));
                } else {
                    items.push(ArrayItem::Item(p.expr()?));
                }
                if !p.eat(&Tok::Comma) {
                    break;
                }
            }
            p.expect(&Tok::RBracket, "']' or ','")?;
            Ok(items)
        })?;
        Ok(Expr { kind: ExprKind::Array(items), span: start.to(self.prev_span()) })
    }

    fn object_key(&mut self) -> PResult<ArcStr> {
        match self.peek().clone() {
            Tok::Ident(name) => {
                self.advance();
                Ok(ArcStr::from(name))
            }
            Tok::Str(_) => self.string_literal("an object key"),
            Tok::Kw(k) => {
                let span = self.peek_span();
                Err(self
                    .error_at(format!("'{0}' is a keyword; quote it to use it as a key: \"{0}\"", k.as_str()), span))
            }
            _ => Err(self.unexpected("an object key")),
        }
    }

    fn object_literal(&mut self) -> PResult<Expr> {
        let start = self.advance().span;
        let items = self.with_newlines(true, |p| {
            let mut items = Vec::new();
            while !p.at(&Tok::RBrace) {
                if p.eat(&Tok::Ellipsis) {
                    items.push(ObjectItem::Spread(p.expr()?));
                } else {
                    let key = p.object_key()?;
                    p.expect(&Tok::Colon, "':' after the key")?;
                    items.push(ObjectItem::Field(key, p.expr()?));
                }
                if !p.eat(&Tok::Comma) {
                    break;
                }
            }
            p.expect(&Tok::RBrace, "'}' or ','")?;
            Ok(items)
        })?;
        Ok(Expr { kind: ExprKind::Object(items), span: start.to(self.prev_span()) })
    }

    fn struct_literal(&mut self, name: ArcStr, start: Span) -> PResult<Expr> {
        self.expect(&Tok::LBrace, "'{'")?;
        let fields = self.with_newlines(true, |p| {
            let mut fields: Vec<(ArcStr, Expr)> = Vec::new();
            while !p.at(&Tok::RBrace) {
                let key = p.object_key()?;
                p.expect(&Tok::Colon, "':' after the field name")?;
                let value = p.expr()?;
                fields.push((key, value));
                if !p.eat(&Tok::Comma) {
                    break;
                }
            }
            p.expect(&Tok::RBrace, "'}' or ','")?;
            Ok(fields)
        })?;
        Ok(Expr { kind: ExprKind::StructLit { name, fields }, span: start.to(self.prev_span()) })
    }

    fn if_expr(&mut self) -> PResult<Expr> {
        let start = self.advance().span;
        let cond = self.header_expr()?;
        let then = self.block()?;
        let otherwise = if matches!(self.peek_past_newlines(), Tok::Kw(Kw::Else | Kw::Otherwise | Kw::Nah)) {
            self.skip_newlines();
            self.advance();
            if self.at_kw(Kw::If) {
                Some(ElseBranch::If(Box::new(self.if_expr()?)))
            } else {
                Some(ElseBranch::Block(self.block()?))
            }
        } else {
            None
        };
        Ok(Expr { kind: ExprKind::If { cond: Box::new(cond), then, otherwise }, span: start.to(self.prev_span()) })
    }

    fn arms_open(&mut self) -> PResult<()> {
        self.skip_newlines();
        self.expect(&Tok::LBrace, "'{'")?;
        Ok(())
    }

    fn skip_arm_separators(&mut self) {
        while matches!(self.tokens[self.pos].tok, Tok::Newline | Tok::Comma | Tok::Semi) {
            self.pos += 1;
        }
    }

    fn when_expr(&mut self) -> PResult<Expr> {
        let start = self.advance().span;
        let subject = self.header_expr()?;
        self.arms_open()?;
        self.nl_ignore.push(false);
        let r = (|| {
            let mut arms = Vec::new();
            let mut otherwise = None;
            loop {
                self.skip_arm_separators();
                if self.eat(&Tok::RBrace) {
                    break;
                }
                if matches!(self.peek(), Tok::Kw(Kw::Else | Kw::Otherwise | Kw::Nah)) {
                    self.advance();
                    self.arrow()?;
                    otherwise = Some(Box::new(self.expr()?));
                    continue;
                }
                let op = match self.peek() {
                    Tok::Lt => Some(BinOp::Lt),
                    Tok::Gt => Some(BinOp::Gt),
                    Tok::Le => Some(BinOp::Le),
                    Tok::Ge => Some(BinOp::Ge),
                    Tok::EqEq => Some(BinOp::Eq),
                    Tok::NotEq => Some(BinOp::Ne),
                    _ => None,
                };
                if op.is_some() {
                    self.advance();
                }
                let value = self.range_level()?;
                self.arrow()?;
                let result = self.expr()?;
                arms.push(WhenArm { op, value, result });
                if !matches!(self.tokens[self.pos].tok, Tok::Newline | Tok::Comma | Tok::Semi | Tok::RBrace) {
                    return Err(self.unexpected("a new line or ',' between arms"));
                }
            }
            Ok((arms, otherwise))
        })();
        self.nl_ignore.pop();
        let (arms, otherwise) = r?;
        Ok(Expr {
            kind: ExprKind::When { subject: Box::new(subject), arms, otherwise },
            span: start.to(self.prev_span()),
        })
    }

    fn arrow(&mut self) -> PResult<()> {
        if self.eat(&Tok::Arrow) || self.eat(&Tok::FatArrow) {
            self.skip_newlines();
            Ok(())
        } else {
            Err(self.unexpected("'->' or '=>'"))
        }
    }

    fn match_expr(&mut self) -> PResult<Expr> {
        let start = self.advance().span;
        let subject = self.header_expr()?;
        self.arms_open()?;
        self.nl_ignore.push(false);
        let r = (|| {
            let mut arms = Vec::new();
            loop {
                self.skip_arm_separators();
                if self.eat(&Tok::RBrace) {
                    break;
                }
                let arm_start = self.peek_span();
                let pattern = self.pattern()?;
                if !self.eat(&Tok::FatArrow) && !self.eat(&Tok::Arrow) {
                    return Err(self.unexpected("'=>' after the pattern"));
                }
                self.skip_newlines();
                let body = if self.at(&Tok::LBrace) {
                    ArmBody::Block(self.block()?)
                } else {
                    let stmt = self.statement()?;
                    match stmt.kind {
                        StmtKind::Expr(e) => ArmBody::Expr(e),
                        kind => ArmBody::Stmt(Box::new(Stmt { kind, span: stmt.span })),
                    }
                };
                arms.push(MatchArm { pattern, body, span: arm_start.to(self.prev_span()) });
                if !matches!(self.tokens[self.pos].tok, Tok::Newline | Tok::Comma | Tok::Semi | Tok::RBrace) {
                    return Err(self.unexpected("a new line or ',' between arms"));
                }
            }
            Ok(arms)
        })();
        self.nl_ignore.pop();
        let arms = r?;
        Ok(Expr { kind: ExprKind::Match { subject: Box::new(subject), arms }, span: start.to(self.prev_span()) })
    }

    fn pattern(&mut self) -> PResult<Pattern> {
        let span = self.peek_span();
        match self.peek().clone() {
            Tok::Ident(name) if name == "_" => {
                self.advance();
                Ok(Pattern::Wildcard)
            }
            Tok::Ident(name) => {
                self.advance();
                let name = ArcStr::from(name);
                if self.at(&Tok::LParen) {
                    self.advance();
                    let args = self.with_newlines(true, |p| {
                        let mut args = Vec::new();
                        while !p.at(&Tok::RParen) {
                            args.push(p.pattern()?);
                            if !p.eat(&Tok::Comma) {
                                break;
                            }
                        }
                        p.expect(&Tok::RParen, "')'")?;
                        Ok(args)
                    })?;
                    Ok(Pattern::Ctor { name, args })
                } else {
                    Ok(Pattern::Bind(VarDecl::new(name, false, span)))
                }
            }
            Tok::Int(n) => {
                self.advance();
                Ok(Pattern::Int(n))
            }
            Tok::Float(f) => {
                self.advance();
                Ok(Pattern::Float(f))
            }
            Tok::Str(_) => Ok(Pattern::Str(self.string_literal("a string pattern")?)),
            Tok::Kw(Kw::True) => {
                self.advance();
                Ok(Pattern::Bool(true))
            }
            Tok::Kw(Kw::False) => {
                self.advance();
                Ok(Pattern::Bool(false))
            }
            _ => Err(self.unexpected("a pattern")),
        }
    }

    fn spawn_expr(&mut self) -> PResult<Expr> {
        let start = self.advance().span;
        let in_squad = self.squad_depth > 0;
        if matches!(self.peek(), Tok::LBrace) {
            let body = self.fn_body()?;
            let span = start.to(self.prev_span());
            let def = FnDef {
                name: ArcStr::from("<spawn>"),
                params: Vec::new(),
                body,
                span,
                is_lambda: true,
                locals: 0,
                cells: 0,
                captures: Vec::new(),
            };
            return Ok(Expr { kind: ExprKind::Spawn { kind: SpawnKind::Block(Arc::new(def)), in_squad }, span });
        }
        let call = self.postfix_level()?;
        if !matches!(call.kind, ExprKind::Call { .. } | ExprKind::MethodCall { .. }) {
            return Err(self.error_at("spawn needs a block or a call: spawn { … } or spawn f(x)", call.span));
        }
        let span = start.to(call.span);
        Ok(Expr { kind: ExprKind::Spawn { kind: SpawnKind::Call(Box::new(call)), in_squad }, span })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> Block {
        let (b, e) = parse(src, FileId(0));
        assert!(e.is_empty(), "{src}: {e:?}");
        b
    }

    fn errs(src: &str) -> Vec<String> {
        parse(src, FileId(0)).1.into_iter().map(|e| e.message).collect()
    }

    #[test]
    fn continuation_rules() {
        ok("let total = 1 +\n 2 +\n 3\nlet p = {\n x: 1,\n y: (2\n * 3)\n}");
        assert!(!errs("let x = 1\n|> f").is_empty());
    }

    #[test]
    fn else_on_next_line() {
        ok("if x {\n say 1\n}\nelse {\n say 2\n}");
        ok("try {\n a()\n}\ncatch e {\n say e\n}");
    }

    #[test]
    fn struct_literal_not_in_headers() {
        ok("if d == Dot { say 1 }");
        ok("let p = Point { x: 1, y: 2 }");
        ok("if (P { x: 1 }) == q { say 1 }");
    }

    #[test]
    fn several_errors_reported() {
        let e = errs("let = 1\nsay 2\nlet = 3\n");
        assert_eq!(e.len(), 2, "{e:?}");
    }

    #[test]
    fn keyword_as_name_is_an_error() {
        assert!(!errs("let while = 5").is_empty());
        assert!(!errs("let o = {type: 1}").is_empty());
        ok("let o = {\"type\": 1}\nsay o.type\nsay type(o)");
    }

    #[test]
    fn match_and_when() {
        ok("let w = match n {\n 1 => \"one\",\n Some(Circle(r)) => say r\n _ => { return 1 }\n}");
        ok("let l = when age { < 13 -> \"kid\", else -> \"adult\" }");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!("say {}1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(!errs(&src).is_empty());
    }

    #[test]
    fn missing_brace_reported() {
        assert!(!errs("fn broken(x) {\n if x > 1 {\n return x\n }\n").is_empty());
    }
}
