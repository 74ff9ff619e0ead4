//! `match` patterns (FORGE.md §4.5). Binding names go to the arm's scope.

use super::Interp;
use crate::syntax::ast::Pattern;
use crate::value::compare::equal;
use crate::value::Value;

impl Interp<'_> {
    /// Whether `v` matches `p`; binds the pattern's names as it goes.
    pub(crate) fn match_pattern(&mut self, p: &'static Pattern, v: &Value) -> bool {
        match p {
            Pattern::Wildcard => true,
            Pattern::Bind(decl) => {
                self.bind(decl, v.clone());
                true
            }
            Pattern::Unit(name) => match v {
                Value::None => name.as_str() == "None",
                Value::Enum(e) => e.payload.is_empty() && e.variant == *name,
                _ => false,
            },
            Pattern::Int(n) => equal(v, &Value::Int(*n)),
            Pattern::Float(f) => equal(v, &Value::Float(*f)),
            Pattern::Str(s) => matches!(v, Value::Str(x) if x == s),
            Pattern::Bool(b) => matches!(v, Value::Bool(x) if x == b),
            Pattern::Ctor { name, args } => {
                let payload: &[Value] = match (name.as_str(), v) {
                    ("Ok", Value::Ok(x)) | ("Err", Value::Err(x)) | ("Some", Value::Some(x)) => {
                        std::slice::from_ref(&**x)
                    }
                    (_, Value::Enum(e)) if e.variant == *name => &e.payload,
                    _ => return false,
                };
                if args.len() > payload.len() {
                    return false;
                }
                let payload = payload.to_vec();
                args.iter().zip(payload.iter()).all(|(a, x)| self.match_pattern(a, x))
            }
        }
    }
}
