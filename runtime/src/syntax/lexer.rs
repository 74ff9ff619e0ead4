//! The lexer: source text → tokens (FORGE.md §1).
//!
//! It owns the lexical rules only: newlines are emitted as `Tok::Newline`
//! and the parser decides where they matter. A `"…"` literal is split into
//! literal parts and the byte ranges of its `{…}` interpolations; the parser
//! lexes and parses those ranges itself, so positions inside an
//! interpolation stay exact. Errors are collected, never thrown: one bad
//! character does not hide the rest of the file's diagnostics.

use super::diagnostic::SyntaxError;
use super::span::{FileId, Span};
use super::token::{Kw, StrPart, Tok, Token};

/// Lexes `src[start..end]` of file `file`. Offsets in spans are file offsets.
pub struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    end: usize,
    file: FileId,
    tokens: Vec<Token>,
    errors: Vec<SyntaxError>,
}

/// Lexes a whole file.
pub fn lex(src: &str, file: FileId) -> (Vec<Token>, Vec<SyntaxError>) {
    Lexer::new(src, file, 0, src.len()).run()
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str, file: FileId, start: usize, end: usize) -> Lexer<'a> {
        Lexer { src, bytes: src.as_bytes(), pos: start, end, file, tokens: Vec::new(), errors: Vec::new() }
    }

    pub fn run(mut self) -> (Vec<Token>, Vec<SyntaxError>) {
        while self.pos < self.end {
            self.next_token();
        }
        let span = Span::new(self.file, self.end, self.end);
        self.tokens.push(Token { tok: Tok::Eof, span });
        (self.tokens, self.errors)
    }

    fn peek_at(&self, i: usize) -> u8 {
        if i < self.end {
            self.bytes[i]
        } else {
            0
        }
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.tokens.push(Token { tok, span: Span::new(self.file, start, self.pos) });
    }

    fn error(&mut self, message: impl Into<String>, start: usize, end: usize) {
        self.errors.push(SyntaxError::new(message, Span::new(self.file, start, end)));
    }

    fn next_token(&mut self) {
        let start = self.pos;
        let c = self.bytes[self.pos];
        match c {
            b' ' | b'\t' | b'\r' => self.pos += 1,
            b'\n' => {
                self.pos += 1;
                if !matches!(self.tokens.last(), Some(Token { tok: Tok::Newline, .. })) {
                    self.push(Tok::Newline, start);
                }
            }
            b'/' if self.peek_at(start + 1) == b'/' => {
                while self.pos < self.end && self.bytes[self.pos] != b'\n' {
                    self.pos += 1;
                }
            }
            b'/' if self.peek_at(start + 1) == b'*' => self.block_comment(),
            b'"' => self.string(),
            b'0'..=b'9' => self.number(),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => self.word(),
            _ => self.punct(c),
        }
    }

    fn block_comment(&mut self) {
        let start = self.pos;
        match self.src[start + 2..self.end].find("*/") {
            Some(i) => self.pos = start + 2 + i + 2,
            None => {
                self.pos = self.end;
                self.error("unterminated block comment", start, start + 2);
            }
        }
    }

    fn word(&mut self) {
        let start = self.pos;
        while self.pos < self.end && (self.bytes[self.pos].is_ascii_alphanumeric() || self.bytes[self.pos] == b'_') {
            self.pos += 1;
        }
        let text = &self.src[start..self.pos];
        let tok = match Kw::lookup(text) {
            Some(k) => Tok::Kw(k),
            None => Tok::Ident(text.to_string()),
        };
        self.push(tok, start);
    }

    fn number(&mut self) {
        let start = self.pos;
        let digits = |lx: &mut Lexer| {
            while lx.pos < lx.end && (lx.bytes[lx.pos].is_ascii_digit() || lx.bytes[lx.pos] == b'_') {
                lx.pos += 1;
            }
        };
        digits(self);
        let is_float = self.peek_at(self.pos) == b'.' && self.peek_at(self.pos + 1).is_ascii_digit();
        if is_float {
            self.pos += 1;
            digits(self);
        }
        let text: String = self.src[start..self.pos].chars().filter(|&c| c != '_').collect();
        if is_float {
            match text.parse::<f64>() {
                Ok(f) => self.push(Tok::Float(f), start),
                Err(_) => {
                    self.error("invalid float literal", start, self.pos);
                    self.push(Tok::Float(0.0), start);
                }
            }
        } else {
            match text.parse::<i64>() {
                Ok(n) => self.push(Tok::Int(n), start),
                Err(_) => {
                    self.error("invalid integer literal", start, self.pos);
                    self.push(Tok::Int(0), start);
                }
            }
        }
    }

    fn punct(&mut self, c: u8) {
        let start = self.pos;
        let next = self.peek_at(start + 1);
        let (tok, len) = match (c, next) {
            (b'(', _) => (Tok::LParen, 1),
            (b')', _) => (Tok::RParen, 1),
            (b'[', _) => (Tok::LBracket, 1),
            (b']', _) => (Tok::RBracket, 1),
            (b'{', _) => (Tok::LBrace, 1),
            (b'}', _) => (Tok::RBrace, 1),
            (b',', _) => (Tok::Comma, 1),
            (b':', _) => (Tok::Colon, 1),
            (b';', _) => (Tok::Semi, 1),
            (b'.', b'.') if self.peek_at(start + 2) == b'.' => (Tok::Ellipsis, 3),
            (b'.', b'.') => (Tok::DotDot, 2),
            (b'.', _) => (Tok::Dot, 1),
            (b'+', b'=') => (Tok::PlusEq, 2),
            (b'+', _) => (Tok::Plus, 1),
            (b'-', b'=') => (Tok::MinusEq, 2),
            (b'-', b'>') => (Tok::Arrow, 2),
            (b'-', _) => (Tok::Minus, 1),
            (b'*', b'=') => (Tok::StarEq, 2),
            (b'*', _) => (Tok::Star, 1),
            (b'/', b'=') => (Tok::SlashEq, 2),
            (b'/', _) => (Tok::Slash, 1),
            (b'%', b'=') => (Tok::PercentEq, 2),
            (b'%', _) => (Tok::Percent, 1),
            (b'=', b'=') => (Tok::EqEq, 2),
            (b'=', b'>') => (Tok::FatArrow, 2),
            (b'=', _) => (Tok::Assign, 1),
            (b'!', b'=') => (Tok::NotEq, 2),
            (b'!', _) => (Tok::Bang, 1),
            (b'<', b'=') => (Tok::Le, 2),
            (b'<', _) => (Tok::Lt, 1),
            (b'>', b'=') => (Tok::Ge, 2),
            (b'>', _) => (Tok::Gt, 1),
            (b'&', b'&') => (Tok::AndAnd, 2),
            (b'|', b'|') => (Tok::OrOr, 2),
            (b'|', b'>') => (Tok::Pipe, 2),
            (b'|', _) => (Tok::Bar, 1),
            (b'?', _) => (Tok::Question, 1),
            (b'@', _) => (Tok::At, 1),
            _ => {
                let ch = self.src[start..].chars().next().unwrap_or('?');
                self.pos += ch.len_utf8();
                self.error(format!("unexpected character: '{ch}'"), start, self.pos);
                return;
            }
        };
        self.pos += len;
        self.push(tok, start);
    }

    fn string(&mut self) {
        let start = self.pos;
        if self.src[start..self.end].starts_with("\"\"\"") {
            return self.raw_string();
        }
        self.pos += 1;
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            if self.pos >= self.end || self.bytes[self.pos] == b'\n' {
                self.error("unterminated string", start, self.pos);
                break;
            }
            let c = self.bytes[self.pos];
            match c {
                b'"' => {
                    self.pos += 1;
                    break;
                }
                b'\\' => self.escape(&mut lit),
                b'{' => match scan_code(self.bytes, self.pos + 1, self.end) {
                    Some(close) => {
                        let inner = &self.src[self.pos + 1..close];
                        if inner.trim().is_empty() {
                            self.error("empty interpolation", self.pos, close + 1);
                        } else {
                            if !lit.is_empty() {
                                parts.push(StrPart::Lit(std::mem::take(&mut lit)));
                            }
                            parts.push(StrPart::Expr { start: self.pos + 1, end: close });
                        }
                        self.pos = close + 1;
                    }
                    None => {
                        lit.push('{');
                        self.pos += 1;
                    }
                },
                _ => {
                    let ch = self.src[self.pos..].chars().next().unwrap_or('\u{fffd}');
                    lit.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
        if !lit.is_empty() || parts.is_empty() {
            parts.push(StrPart::Lit(lit));
        }
        self.push(Tok::Str(parts), start);
    }

    fn escape(&mut self, lit: &mut String) {
        let start = self.pos;
        let next = self.src[start + 1..self.end].chars().next();
        let out = match next {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('\\') => '\\',
            Some('"') => '"',
            Some('{') => '{',
            Some('}') => '}',
            Some('\n') | None => {
                self.pos += 1;
                return;
            }
            Some(other) => {
                self.pos += 1 + other.len_utf8();
                self.error(format!("unknown escape: \\{other}"), start, self.pos);
                return;
            }
        };
        lit.push(out);
        self.pos += 2;
    }

    fn raw_string(&mut self) {
        let start = self.pos;
        let body_start = start + 3;
        match self.src[body_start..self.end].find("\"\"\"") {
            Some(i) => {
                let mut body = &self.src[body_start..body_start + i];
                if let Some(rest) = body.strip_prefix("\r\n").or_else(|| body.strip_prefix('\n')) {
                    body = rest;
                }
                self.pos = body_start + i + 3;
                self.push(Tok::Str(vec![StrPart::Lit(body.to_string())]), start);
            }
            None => {
                self.pos = self.end;
                self.error("unterminated string", start, start + 3);
            }
        }
    }
}

/// From just after an interpolation's `{`, finds its matching `}` on the same
/// line, skipping nested braces and string literals. `None` when the line
/// ends first: the `{` is then an ordinary character.
fn scan_code(bytes: &[u8], mut pos: usize, end: usize) -> Option<usize> {
    let mut depth = 0usize;
    while pos < end {
        match bytes[pos] {
            b'\n' => return None,
            b'"' => pos = scan_string(bytes, pos + 1, end)?,
            b'{' => {
                depth += 1;
                pos += 1;
            }
            b'}' if depth == 0 => return Some(pos),
            b'}' => {
                depth -= 1;
                pos += 1;
            }
            _ => pos += 1,
        }
    }
    None
}

/// From just after a nested string's opening quote, returns the position just
/// past its closing quote (same line only).
fn scan_string(bytes: &[u8], mut pos: usize, end: usize) -> Option<usize> {
    while pos < end {
        match bytes[pos] {
            b'\n' => return None,
            b'\\' => pos += 2,
            b'"' => return Some(pos + 1),
            b'{' => match scan_code(bytes, pos + 1, end) {
                Some(close) => pos = close + 1,
                None => pos += 1,
            },
            _ => pos += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        let (t, e) = lex(src, FileId(0));
        assert!(e.is_empty(), "{e:?}");
        t.into_iter().map(|t| t.tok).collect()
    }

    fn first_error(src: &str) -> String {
        lex(src, FileId(0)).1.first().map(|e| e.message.clone()).unwrap_or_default()
    }

    #[test]
    fn numbers_and_ranges() {
        assert_eq!(
            toks("1_000 2.5 1..4"),
            vec![Tok::Int(1000), Tok::Float(2.5), Tok::Int(1), Tok::DotDot, Tok::Int(4), Tok::Eof]
        );
    }

    #[test]
    fn interpolation_parts() {
        let t = toks(r#""a{x}b""#);
        assert_eq!(
            t[0],
            Tok::Str(vec![StrPart::Lit("a".into()), StrPart::Expr { start: 3, end: 4 }, StrPart::Lit("b".into())])
        );
    }

    #[test]
    fn nested_string_in_interpolation() {
        let t = toks(r#""r {join(xs, ", ")} s""#);
        assert!(matches!(&t[0], Tok::Str(p) if p.len() == 3));
    }

    #[test]
    fn unmatched_brace_is_literal() {
        assert_eq!(toks(r#""open { stay""#)[0], Tok::Str(vec![StrPart::Lit("open { stay".into())]));
        assert_eq!(toks(r#""\{x\}""#)[0], Tok::Str(vec![StrPart::Lit("{x}".into())]));
    }

    #[test]
    fn lexical_errors() {
        assert_eq!(first_error("let a = 5 $ 3"), "unexpected character: '$'");
        assert_eq!(first_error("9223372036854775808"), "invalid integer literal");
        assert_eq!(first_error("\"abc\nx"), "unterminated string");
        assert_eq!(first_error(r#""\q""#), "unknown escape: \\q");
        assert_eq!(first_error(r#""a {} b""#), "empty interpolation");
        assert_eq!(first_error("é"), "unexpected character: 'é'");
    }

    #[test]
    fn raw_string_drops_first_newline() {
        assert_eq!(toks("\"\"\"\nhi {x}\"\"\"")[0], Tok::Str(vec![StrPart::Lit("hi {x}".into())]));
    }
}
