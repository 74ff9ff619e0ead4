//! Marking and collection. Marking uses an explicit work list, so a deeply
//! nested structure never recurses on the native stack.

use super::heap::{Heap, HeapObj};
use crate::vm::value::{ObjRef, Val};

/// Calls `f` on every value an object holds.
pub fn children(obj: &HeapObj, f: &mut dyn FnMut(Val)) {
    match obj {
        HeapObj::Array(a) => a.items.iter().for_each(|v| f(*v)),
        HeapObj::Object(o) => o.fields.values().for_each(|v| f(*v)),
        HeapObj::Closure(c) => c.upvals.iter().for_each(|r| f(Val::Obj(*r))),
        HeapObj::Cell(v) | HeapObj::Ok(v) | HeapObj::Err(v) | HeapObj::Some(v) => f(*v),
        HeapObj::Enum(e) => e.payload.iter().for_each(|v| f(*v)),
        _ => {}
    }
}

/// The marking state of one collection.
pub struct Tracer<'h> {
    heap: &'h mut Heap,
    /// One bit per heap slot. Made per collection, not kept on the heap:
    /// a parked task carries no mark bits.
    marks: Vec<u64>,
    work: Vec<ObjRef>,
}

impl<'h> Tracer<'h> {
    pub fn new(heap: &'h mut Heap) -> Tracer<'h> {
        let words = heap.objs.len().div_ceil(64);
        Tracer { heap, marks: vec![0; words], work: Vec::new() }
    }

    /// Marks a root value.
    #[inline]
    pub fn value(&mut self, v: Val) {
        if let Val::Obj(r) = v {
            self.object(r);
        }
    }

    pub fn values(&mut self, vs: &[Val]) {
        for v in vs {
            self.value(*v);
        }
    }

    #[inline]
    pub fn object(&mut self, r: ObjRef) {
        let i = r.0 as usize;
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        if self.marks[word] & bit == 0 {
            self.marks[word] |= bit;
            self.work.push(r);
        }
    }

    /// Marks everything reachable from the roots given so far; the marks.
    pub fn finish(self) -> Vec<u64> {
        let Tracer { heap, mut marks, mut work } = self;
        let objs = &heap.objs;
        let mut mark = |v: Val, work: &mut Vec<ObjRef>| {
            if let Val::Obj(r) = v {
                let i = r.0 as usize;
                let (word, bit) = (i / 64, 1u64 << (i % 64));
                if marks[word] & bit == 0 {
                    marks[word] |= bit;
                    work.push(r);
                }
            }
        };
        while let Some(r) = work.pop() {
            match &objs[r.0 as usize] {
                HeapObj::Array(a) => a.items.iter().for_each(|v| mark(*v, &mut work)),
                HeapObj::Object(o) => o.fields.values().for_each(|v| mark(*v, &mut work)),
                HeapObj::Closure(c) => c.upvals.iter().for_each(|r| mark(Val::Obj(*r), &mut work)),
                HeapObj::Cell(v) | HeapObj::Ok(v) | HeapObj::Err(v) | HeapObj::Some(v) => mark(*v, &mut work),
                HeapObj::Enum(e) => e.payload.iter().for_each(|v| mark(*v, &mut work)),
                _ => {}
            }
        }
        marks
    }
}

/// Runs one collection: `roots` marks the roots (see `roots.rs`), then the
/// heap is swept (`stress`: see `Heap::sweep`). Returns (objects before,
/// objects after, bytes before, bytes after); the caller times it.
pub fn collect(heap: &mut Heap, stress: bool, roots: impl FnOnce(&mut Tracer<'_>)) -> (usize, usize, usize, usize) {
    let (objs_before, bytes_before) = (heap.live_objects(), heap.bytes);
    let mut tracer = Tracer::new(heap);
    roots(&mut tracer);
    let marks = tracer.finish();
    heap.sweep(&marks, stress);
    (objs_before, heap.live_objects(), bytes_before, heap.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::gc::heap::ArrayObj;

    #[test]
    fn unreachable_objects_are_freed_and_slots_reused() {
        let mut heap = Heap::default();
        let a = heap.alloc(HeapObj::Str("kept".into())).unwrap();
        let arr = heap.alloc(HeapObj::Array(ArrayObj { items: vec![Val::Obj(a)], shared: false })).unwrap();
        let garbage = heap.alloc(HeapObj::Str("garbage".into())).unwrap();
        collect(&mut heap, false, |t| t.value(Val::Obj(arr)));
        assert!(matches!(heap.get(garbage), HeapObj::Free));
        assert!(matches!(heap.get(a), HeapObj::Str(_)));
        let again = heap.alloc(HeapObj::Str("new".into())).unwrap();
        assert_eq!(again, garbage, "the freed slot is reused");
        heap.verify().unwrap();
    }

    #[test]
    fn deep_and_cyclic_structures_are_marked_without_recursion() {
        let mut heap = Heap::default();
        let mut v = Val::Null;
        for _ in 0..200_000 {
            let r = heap.alloc(HeapObj::Array(ArrayObj { items: vec![v], shared: false })).unwrap();
            v = Val::Obj(r);
        }
        // A cycle through a cell.
        let cell = heap.alloc(HeapObj::Cell(Val::Null)).unwrap();
        let arr = heap.alloc(HeapObj::Array(ArrayObj { items: vec![Val::Obj(cell)], shared: false })).unwrap();
        *heap.get_mut(cell) = HeapObj::Cell(Val::Obj(arr));
        let (before, after, _, _) = collect(&mut heap, false, |t| t.value(v));
        assert_eq!(before, 200_002);
        assert_eq!(after, 200_000);
        heap.verify().unwrap();
    }
}
