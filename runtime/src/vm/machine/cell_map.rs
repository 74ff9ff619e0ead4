//! `CellMap`: the cells already copied while a value crosses between heaps,
//! by identity, so closures that shared a cell still share its copy. Almost
//! every crossing (a spawn's closure, a message) has a handful of cells or
//! none, so the map is a short list searched in place, and becomes a hash
//! map only past `INLINE` entries (spawning must not pay for a hash table).

use std::hash::Hash;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

const INLINE: usize = 8;

pub(crate) enum CellMap<K, V> {
    Few(SmallVec<[(K, V); INLINE]>),
    Many(FxHashMap<K, V>),
}

impl<K, V> Default for CellMap<K, V> {
    fn default() -> Self {
        CellMap::Few(SmallVec::new())
    }
}

impl<K: Eq + Hash + Copy, V> CellMap<K, V> {
    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        match self {
            CellMap::Few(v) => v.iter().find(|(key, _)| key == k).map(|(_, v)| v),
            CellMap::Many(m) => m.get(k),
        }
    }

    /// Adds `k` (not present: callers look it up first).
    pub(crate) fn insert(&mut self, k: K, v: V) {
        match self {
            CellMap::Few(list) if list.len() < INLINE => list.push((k, v)),
            CellMap::Few(list) => {
                let mut m: FxHashMap<K, V> = list.drain(..).collect();
                m.insert(k, v);
                *self = CellMap::Many(m);
            }
            CellMap::Many(m) => {
                m.insert(k, v);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            CellMap::Few(v) => v.is_empty(),
            CellMap::Many(m) => m.is_empty(),
        }
    }

    pub(crate) fn values(&self) -> Box<dyn Iterator<Item = &V> + '_> {
        match self {
            CellMap::Few(v) => Box::new(v.iter().map(|(_, v)| v)),
            CellMap::Many(m) => Box::new(m.values()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CellMap;

    #[test]
    fn finds_what_it_holds_before_and_after_growing() {
        let mut m: CellMap<usize, usize> = CellMap::default();
        assert!(m.is_empty());
        for i in 0..40 {
            assert_eq!(m.get(&i), None);
            m.insert(i, i * 10);
            for j in 0..=i {
                assert_eq!(m.get(&j), Some(&(j * 10)), "{j} after inserting {i}");
            }
        }
        assert!(matches!(m, CellMap::Many(_)));
        let mut all: Vec<usize> = m.values().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..40).map(|i| i * 10).collect::<Vec<_>>());
    }
}
