//! `OnDemand<T>`: a machine field that costs one pointer until it is first
//! written. Most tasks never declare a type or materialise a string
//! constant, and a parked task's size is what the `idle_tasks` benchmark
//! measures (the allocator rounds a `Machine` up to its size class, so every
//! word counts). Reads of a field never written see a shared empty value.

use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::types::VmTypes;
use crate::vm::value::{ObjRef, Val};

/// A value with a shared, immutable empty instance for reads.
pub(crate) trait Empty: Default + Sync + 'static {
    fn empty() -> &'static Self;
}

#[derive(Default)]
pub(crate) struct OnDemand<T>(Option<Box<T>>);

impl<T: Empty> Deref for OnDemand<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.0 {
            Some(t) => t,
            None => T::empty(),
        }
    }
}

impl<T: Empty> DerefMut for OnDemand<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

#[cfg(test)]
impl<T> OnDemand<T> {
    /// Whether the field was ever written.
    pub(crate) fn is_allocated(&self) -> bool {
        self.0.is_some()
    }
}

/// Heap objects materialised from the program once per task.
#[derive(Default)]
pub(crate) struct Interned {
    /// String constants, by (chunk, index).
    pub consts: FxHashMap<(usize, u16), ObjRef>,
    /// Built-in module objects, by built-in index.
    pub builtins: FxHashMap<u32, Val>,
}

impl Empty for Interned {
    fn empty() -> &'static Self {
        static EMPTY: OnceLock<Interned> = OnceLock::new();
        EMPTY.get_or_init(Interned::default)
    }
}

impl Empty for VmTypes {
    fn empty() -> &'static Self {
        static EMPTY: OnceLock<VmTypes> = OnceLock::new();
        EMPTY.get_or_init(VmTypes::default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_do_not_allocate_and_writes_do() {
        let mut t: OnDemand<Interned> = OnDemand::default();
        assert!(!t.consts.contains_key(&(1, 2)));
        assert!(!t.is_allocated());
        t.consts.insert((1, 2), ObjRef(7));
        assert!(t.is_allocated());
        assert_eq!(t.consts.get(&(1, 2)), Some(&ObjRef(7)));
        // The shared empty value stays empty.
        assert!(Interned::empty().consts.is_empty());
    }

    #[test]
    fn a_machine_fits_its_allocator_size_class() {
        // mimalloc rounds a 641..768-byte box up to 768 bytes: one more
        // field on `Machine` costs every parked task 128 bytes.
        assert!(
            std::mem::size_of::<super::super::Machine>() <= 640,
            "{}",
            std::mem::size_of::<super::super::Machine>()
        );
    }
}
