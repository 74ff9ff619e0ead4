//! `Val`: what a VM register holds (seed memory model: `Int`, `Float`,
//! `Bool`, `Null` inline, `Obj` an index into the task's heap). 16 bytes and
//! `Copy`: moving values between registers never touches the heap.

use crate::builtins::NativeFn;

/// An index into the task's object table (`gc/heap.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ObjRef(pub u32);

// An 8-byte tag puts every payload at offset 8, so a copy is two aligned
// words; with the default layout `Bool` sits at offset 1 and copies of
// `Val` (and `Option<Val>`) became odd-sized moves that stall on
// store-forwarding in the dispatch loop.
#[derive(Clone, Copy, Debug, Default)]
#[repr(u64)]
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
        // The globals table stores `Option<Val>`: the tag's niche holds `None`.
        assert_eq!(std::mem::size_of::<Option<super::Val>>(), 16);
    }
}
