//! `Val`: what a VM register holds (seed memory model: `Int`, `Float`,
//! `Bool`, `Null` inline, `Obj` an index into the task's heap). 16 bytes and
//! `Copy`: moving values between registers never touches the heap.

use crate::builtins::NativeFn;

/// An index into the task's object table (`gc/heap.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ObjRef(pub u32);

#[derive(Clone, Copy, Debug, Default)]
pub enum Val {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Obj(ObjRef),
    /// A built-in function: code, not heap data.
    Native(&'static NativeFn),
    /// The Option `None` (a constant; no heap object needed).
    None,
}

impl Val {
    #[inline(always)]
    pub fn obj(self) -> Option<ObjRef> {
        match self {
            Val::Obj(r) => Some(r),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn val_is_two_words() {
        assert_eq!(std::mem::size_of::<super::Val>(), 16);
    }
}
