//! Tokens produced by the lexer. Keywords are listed once in `keywords!`,
//! which generates the `Kw` enum and its spelling table.

use super::span::Span;

macro_rules! keywords {
    ($($variant:ident = $text:literal,)*) => {
        /// Every reserved word of the language (FORGE.md §1), classic,
        /// natural and reserved-for-later alike.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Kw { $($variant,)* }

        impl Kw {
            pub fn lookup(s: &str) -> Option<Kw> {
                match s { $($text => Some(Kw::$variant),)* _ => None }
            }
            pub fn as_str(self) -> &'static str {
                match self { $(Kw::$variant => $text,)* }
            }
        }
    };
}

keywords! {
    // classic
    Let = "let", Mut = "mut", Fn = "fn", Return = "return", If = "if", Else = "else",
    Match = "match", For = "for", In = "in", While = "while", Loop = "loop",
    Break = "break", Continue = "continue", Struct = "struct", Type = "type",
    Interface = "interface", Impl = "impl", Import = "import", Spawn = "spawn",
    Squad = "squad", True = "true", False = "false", Null = "null", Async = "async",
    Await = "await", Try = "try", Catch = "catch", Pub = "pub",
    // natural
    Set = "set", To = "to", Change = "change", Define = "define", Otherwise = "otherwise",
    Nah = "nah", Each = "each", Repeat = "repeat", Times = "times", Wait = "wait",
    Seconds = "seconds", Say = "say", Yell = "yell", Whisper = "whisper", Thing = "thing",
    Power = "power", Give = "give", Craft = "craft", The = "the", Forge = "forge",
    Hold = "hold", Unpack = "unpack",
    // other
    And = "and", Or = "or", Not = "not", Must = "must", Check = "check", Safe = "safe",
    When = "when", IntTy = "Int", FloatTy = "Float", StringTy = "String", BoolTy = "Bool",
    JsonTy = "Json",
    // reserved for later language levels
    Grab = "grab", From = "from", Emit = "emit", Yield = "yield", Unless = "unless",
    Until = "until", Where = "where", Timeout = "timeout", Retry = "retry",
    Schedule = "schedule", Every = "every", Any = "any", Ask = "ask", Prompt = "prompt",
    Agent = "agent", Transform = "transform", Table = "table", Select = "select",
    Order = "order", By = "by", Limit = "limit", Keep = "keep", Take = "take",
    Freeze = "freeze", Watch = "watch", Download = "download", Crawl = "crawl",
}

impl Kw {
    /// Keywords that name a built-in function when followed by `(` in an
    /// expression (`type(x)`, `any(xs, f)`, `select(chs)`, `wait(0.1)`).
    pub fn as_callable_name(self) -> Option<&'static str> {
        match self {
            Kw::Type | Kw::Any | Kw::Select | Kw::Wait | Kw::Timeout | Kw::Prompt => Some(self.as_str()),
            _ => None,
        }
    }
}

/// One piece of a `"…"` literal: literal text or the source range of an
/// interpolated expression (byte offsets into the file).
#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    Lit(String),
    Expr { start: usize, end: usize },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Int(i64),
    Float(f64),
    /// A string literal; raw strings are one `Lit` part.
    Str(Vec<StrPart>),
    Ident(String),
    Kw(Kw),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Semi,
    Dot,
    DotDot,
    Ellipsis,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Assign,
    PlusEq,
    MinusEq,
    StarEq,
    SlashEq,
    PercentEq,
    EqEq,
    NotEq,
    Lt,
    Gt,
    Le,
    Ge,
    AndAnd,
    OrOr,
    Bang,
    Pipe,
    Bar,
    Arrow,
    FatArrow,
    Question,
    At,
    Newline,
    Eof,
}

impl Tok {
    /// How the token is shown in "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Int(n) => format!("number {n}"),
            Tok::Float(f) => format!("number {f:?}"),
            Tok::Str(_) => "string".to_string(),
            Tok::Ident(name) => format!("'{name}'"),
            Tok::Kw(k) => format!("keyword '{}'", k.as_str()),
            Tok::Newline => "end of line".to_string(),
            Tok::Eof => "end of file".to_string(),
            other => format!("'{}'", other.punct_text()),
        }
    }

    fn punct_text(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::Semi => ";",
            Tok::Dot => ".",
            Tok::DotDot => "..",
            Tok::Ellipsis => "...",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Assign => "=",
            Tok::PlusEq => "+=",
            Tok::MinusEq => "-=",
            Tok::StarEq => "*=",
            Tok::SlashEq => "/=",
            Tok::PercentEq => "%=",
            Tok::EqEq => "==",
            Tok::NotEq => "!=",
            Tok::Lt => "<",
            Tok::Gt => ">",
            Tok::Le => "<=",
            Tok::Ge => ">=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::Bang => "!",
            Tok::Pipe => "|>",
            Tok::Bar => "|",
            Tok::Arrow => "->",
            Tok::FatArrow => "=>",
            Tok::Question => "?",
            Tok::At => "@",
            _ => "?",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}
