//! Array built-ins (FORGE.md §9 "Arrays"): `push`/`pop`, `range`, the
//! callback family (`map` … `group_by`), sorting, slicing, set-like helpers
//! and aggregates. It also owns the names shared with Strings and Objects
//! (`reverse`, `contains`, `index_of`, `last_index_of`, `slice`): they
//! dispatch on their first argument and use `string.rs` for Strings.
//!
//! Invariants:
//! 1. Arguments are never changed, except `args[0]` of `push`/`pop`: it is
//!    left holding the updated array, which the interpreter stores back into
//!    the place the array came from (FORGE.md §2).
//! 2. Arrays are copy-on-write. A native that holds the only reference to an
//!    input (taken with `args::take`) reuses it (`Items`, `Arc::make_mut`,
//!    `Arc::unwrap_or_clone`) instead of copying it.
//! 3. Nothing panics on user data. A user comparator may be inconsistent,
//!    so it runs only in `merge_sort` (std's sorts may panic on such orders);
//!    std sorts get only the total orders `total_cmp` and `Ordering` on Ints.
//! 4. The first error raised by a callback ends the built-in and is returned
//!    as is.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arcstr::ArcStr;
use indexmap::IndexMap;
use rustc_hash::{FxBuildHasher, FxHashMap, FxHasher};

use super::args::{self, requires, take};
use super::{string, Builder, NativeCx};
use crate::error::{msg, Ctrl, EvalResult};
use crate::value::compare::{compare, equal};
use crate::value::display::{display, write_display};
use crate::value::{Array, Map, Value};

/// `range()` refuses to build more elements than this.
const MAX_RANGE: u128 = 100_000_000;

pub fn register(b: &mut Builder) {
    b.method("push", 2, 2, push);
    b.method("pop", 1, 1, pop);
    b.func("range", 1, 3, range);
    b.method("map", 2, 2, map);
    b.method("filter", 2, 2, filter);
    b.method("for_each", 2, 2, for_each);
    b.method("flat_map", 2, 2, flat_map);
    b.method("reduce", 3, 3, reduce);
    b.method("find", 2, 2, find);
    b.method("any", 2, 2, any);
    b.method("all", 2, 2, all);
    b.method("partition", 2, 2, partition);
    b.method("group_by", 2, 2, group_by);
    b.method("sort", 1, 2, sort);
    b.method("sort_by", 2, 2, sort_by);
    b.method("reverse", 1, 1, reverse);
    b.method("contains", 2, 2, contains);
    b.method("index_of", 2, 2, index_of);
    b.method("last_index_of", 2, 2, last_index_of);
    b.method("join", 1, 2, join);
    b.method("slice", 2, 3, slice);
    b.method("first", 1, 1, first);
    b.method("last", 1, 1, last);
    b.method("take_n", 2, 2, take_n);
    b.method("skip", 2, 2, skip);
    b.method("unique", 1, 1, unique);
    b.method("flatten", 1, 1, flatten);
    b.method("compact", 1, 1, compact);
    b.method("zip", 2, 2, zip);
    b.method("enumerate", 1, 1, enumerate);
    b.method("chunk", 2, 2, chunk);
    b.method("frequencies", 1, 1, frequencies);
    b.method("sum", 1, 1, sum);
    b.method("min_of", 1, 1, min_of);
    b.method("max_of", 1, 1, max_of);
}

// ---------------------------------------------------------------------------
// Argument helpers

/// The elements of an array by value: moved out when the caller held the
/// only reference, cloned one at a time (an `Arc` increment at most)
/// otherwise, so no second copy of the whole array is ever made.
enum Items {
    Owned(std::vec::IntoIter<Value>),
    Shared(Arc<Array>, usize),
}

impl Items {
    fn new(a: Arc<Array>) -> Items {
        match Arc::try_unwrap(a) {
            Ok(v) => Items::Owned(v.into_vec().into_iter()),
            Err(a) => Items::Shared(a, 0),
        }
    }

    fn len(&self) -> usize {
        match self {
            Items::Owned(it) => it.len(),
            Items::Shared(a, i) => a.len().saturating_sub(*i),
        }
    }
}

impl Iterator for Items {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        match self {
            Items::Owned(it) => it.next(),
            Items::Shared(a, i) => {
                let v = a.get(*i)?.clone();
                *i += 1;
                Some(v)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }
}

/// Takes argument `i`, which must be an Array.
fn take_array(args: &mut [Value], i: usize, name: &str) -> Result<Arc<Array>, Ctrl> {
    match take(args, i) {
        Value::Array(a) => Ok(a),
        _ => Err(requires(name, "an array")),
    }
}

/// Takes the `(array, callback)` pair of the callback family.
fn array_and_fn(args: &mut [Value], name: &str) -> Result<(Items, Value), Ctrl> {
    let a = take_array(args, 0, name)?;
    let f = take(args, 1);
    args::callable(&f, name)?;
    Ok((Items::new(a), f))
}

/// Calls a one-argument callback.
fn call1(cx: &mut dyn NativeCx, f: &Value, x: Value) -> EvalResult {
    cx.call(f, vec![x])
}

/// A count or size argument: an Int, negative values meaning 0.
fn count_arg(v: &Value, name: &str) -> Result<usize, Ctrl> {
    let n = args::int(v, name, "an integer count")?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Resolves `[start, end)` of a sequence of `len` items: negative positions
/// count from the end, everything is clamped, and `start >= end` is empty.
pub(super) fn slice_bounds(len: usize, start: i64, end: Option<i64>) -> (usize, usize) {
    let resolve = |i: i64| -> usize {
        if i < 0 {
            usize::try_from(i.unsigned_abs()).map_or(0, |back| len.saturating_sub(back))
        } else {
            usize::try_from(i).map_or(len, |i| i.min(len))
        }
    };
    let s = resolve(start);
    let e = end.map_or(len, resolve);
    if s >= e {
        (s, s)
    } else {
        (s, e)
    }
}

/// The optional end position of `slice`/`substring` (absent or `null`: none).
pub(super) fn opt_end(args: &[Value], i: usize, name: &str) -> Result<Option<i64>, Ctrl> {
    match args.get(i) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => args::int(v, name, "integer positions").map(Some),
    }
}

// ---------------------------------------------------------------------------
// push, pop, range

/// `push(a, x)`: appends in place (O(1) when `args[0]` is the only
/// reference), leaves the result in `args[0]` and returns it (invariant 1).
fn push(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let x = take(args, 1);
    let Value::Array(a) = &mut args[0] else { return Err(requires("push", "an array")) };
    Arc::make_mut(a).push(x);
    Ok(Value::Array(a.clone()))
}

/// `pop(a)`: removes the last element in place and returns it (`null` when
/// empty); the shortened array stays in `args[0]` (invariant 1).
fn pop(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let Value::Array(a) = &mut args[0] else { return Err(requires("pop", "an array")) };
    if a.is_empty() {
        return Ok(Value::Null);
    }
    Ok(Arc::make_mut(a).pop().unwrap_or_default())
}

/// `range(n)`, `range(a, b[, step])`: the Ints of `[a, b)` by `step`.
fn range(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let mut ns = [0i64; 3];
    for (slot, v) in ns.iter_mut().zip(args.iter()) {
        *slot = args::int(v, "range", "integer arguments")?;
    }
    let (start, end, step) = match args.len() {
        1 => (0, ns[0], 1),
        2 => (ns[0], ns[1], 1),
        _ => (ns[0], ns[1], ns[2]),
    };
    if step == 0 {
        return Err(Ctrl::runtime("range() step must not be zero"));
    }
    let count = range_len(start, end, step);
    if count > MAX_RANGE {
        return Err(Ctrl::runtime("range() too large"));
    }
    let (start, step) = (i128::from(start), i128::from(step));
    // Every element lies between `start` and `end`, so it fits in an i64.
    let out = (0..count).map(|k| Value::Int((start + k as i128 * step) as i64)).collect();
    Ok(Value::array(out))
}

/// How many elements `range(start, end, step)` has (`step != 0`).
fn range_len(start: i64, end: i64, step: i64) -> u128 {
    let (span, step) = if step > 0 {
        (i128::from(end) - i128::from(start), i128::from(step))
    } else {
        (i128::from(start) - i128::from(end), -i128::from(step))
    };
    if span <= 0 {
        0
    } else {
        ((span + step - 1) / step) as u128
    }
}

// ---------------------------------------------------------------------------
// The callback family

fn map(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (items, f) = array_and_fn(args, "map")?;
    let mut out = Vec::with_capacity(items.len());
    for x in items {
        out.push(call1(cx, &f, x)?);
    }
    Ok(Value::array(out))
}

fn filter(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (items, f) = array_and_fn(args, "filter")?;
    let mut out = Vec::new();
    for x in items {
        if call1(cx, &f, x.clone())?.truthy() {
            out.push(x);
        }
    }
    Ok(Value::array(out))
}

fn for_each(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (items, f) = array_and_fn(args, "for_each")?;
    for x in items {
        call1(cx, &f, x)?;
    }
    Ok(Value::Null)
}

/// Maps, then splices every Array result into the output (one level).
fn flat_map(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (items, f) = array_and_fn(args, "flat_map")?;
    let mut out = Vec::with_capacity(items.len());
    for x in items {
        match call1(cx, &f, x)? {
            Value::Array(inner) => out.extend(Items::new(inner)),
            other => out.push(other),
        }
    }
    Ok(Value::array(out))
}

/// `reduce(a, init, f)`: folds `f(acc, x)` from the left.
fn reduce(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = take_array(args, 0, "reduce")?;
    let mut acc = take(args, 1);
    let f = take(args, 2);
    args::callable(&f, "reduce")?;
    for x in Items::new(a) {
        acc = cx.call(&f, vec![acc, x])?;
    }
    Ok(acc)
}

/// The first element for which `f` is truthy, or `null`.
fn find(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (items, f) = array_and_fn(args, "find")?;
    for x in items {
        if call1(cx, &f, x.clone())?.truthy() {
            return Ok(x);
        }
    }
    Ok(Value::Null)
}

fn any(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (items, f) = array_and_fn(args, "any")?;
    for x in items {
        if call1(cx, &f, x)?.truthy() {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn all(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (items, f) = array_and_fn(args, "all")?;
    for x in items {
        if !call1(cx, &f, x)?.truthy() {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

/// `[matching, rest]`, both in their original order.
fn partition(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (items, f) = array_and_fn(args, "partition")?;
    let (mut yes, mut no) = (Vec::new(), Vec::new());
    for x in items {
        if call1(cx, &f, x.clone())?.truthy() {
            yes.push(x);
        } else {
            no.push(x);
        }
    }
    Ok(Value::array(vec![Value::array(yes), Value::array(no)]))
}

/// The key an Object built from values uses: a value's top-level display
/// form (a String is its own text).
fn display_key(v: &Value) -> ArcStr {
    match v {
        Value::Str(s) => s.clone(),
        other => ArcStr::from(display(other)),
    }
}

/// An Object keyed by `str(f(x))`, in first-seen order, of the elements
/// with that key.
fn group_by(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (items, f) = array_and_fn(args, "group_by")?;
    let mut groups: IndexMap<ArcStr, Vec<Value>, FxBuildHasher> = IndexMap::default();
    for x in items {
        let key = display_key(&call1(cx, &f, x.clone())?);
        groups.entry(key).or_default().push(x);
    }
    let fields: Map = groups.into_iter().map(|(k, v)| (k, Value::array(v))).collect();
    Ok(Value::object(fields))
}

/// An Object keyed by each element's display form, counting occurrences.
fn frequencies(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = args::array(&args[0], "frequencies")?;
    let mut counts: IndexMap<ArcStr, i64, FxBuildHasher> = IndexMap::default();
    for x in a.iter() {
        *counts.entry(display_key(x)).or_default() += 1;
    }
    let fields: Map = counts.into_iter().map(|(k, n)| (k, Value::Int(n))).collect();
    Ok(Value::object(fields))
}

// ---------------------------------------------------------------------------
// Sorting

/// `sort(a)`: numbers numerically or Strings lexicographically (stable);
/// `sort(a, cmp)`: by a comparator returning a number (<0, 0, >0).
fn sort(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = take_array(args, 0, "sort")?;
    let Some(cmp) = args.get(1) else {
        let mut v = Arc::unwrap_or_clone(a).into_vec();
        sort_natural(&mut v)?;
        return Ok(Value::array(v));
    };
    args::callable(cmp, "sort")?;
    let v = Arc::unwrap_or_clone(a).into_vec();
    let mut after = |x: &Value, y: &Value| -> Result<bool, Ctrl> {
        let r = cx.call(cmp, vec![x.clone(), y.clone()])?;
        Ok(comparator_sign(&r)? == Ordering::Greater)
    };
    Ok(Value::array(merge_sort(v, &mut after)?))
}

/// The sign of a comparator's result.
fn comparator_sign(r: &Value) -> Result<Ordering, Ctrl> {
    match r {
        Value::Int(n) => Ok(n.cmp(&0)),
        // NaN counts as 0.
        Value::Float(f) => Ok(f.partial_cmp(&0.0).unwrap_or(Ordering::Equal)),
        _ => Err(Ctrl::runtime("sort() comparator must return a number")),
    }
}

/// Sorts values that must be all numbers or all Strings.
fn sort_natural(v: &mut [Value]) -> Result<(), Ctrl> {
    check_comparable(v.iter())?;
    if v.iter().all(|x| matches!(x, Value::Int(_))) {
        // Equal Ints are indistinguishable, so stability does not matter.
        v.sort_unstable_by_key(|x| if let Value::Int(n) = x { *n } else { 0 });
    } else {
        v.sort_by(total_cmp);
    }
    Ok(())
}

/// `sort_by(a, key)`: stable sort by `key(x)` (numbers or Strings).
fn sort_by(cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let (items, f) = array_and_fn(args, "sort_by")?;
    let mut pairs = Vec::with_capacity(items.len());
    for x in items {
        pairs.push((call1(cx, &f, x.clone())?, x));
    }
    check_comparable(pairs.iter().map(|p| &p.0))?;
    pairs.sort_by(|p, q| total_cmp(&p.0, &q.0));
    Ok(Value::array(pairs.into_iter().map(|p| p.1).collect()))
}

/// Raises `cannot compare X and Y` unless the values are all numbers or all
/// Strings.
fn check_comparable<'a>(mut vals: impl Iterator<Item = &'a Value>) -> Result<(), Ctrl> {
    let Some(first) = vals.next() else { return Ok(()) };
    let kind = |v: &Value| match v {
        Value::Int(_) | Value::Float(_) => 1,
        Value::Str(_) => 2,
        _ => 0,
    };
    for x in vals {
        if kind(first) == 0 || kind(x) != kind(first) {
            compare(first, x)?;
        }
    }
    Ok(())
}

/// A total order on numbers and Strings (as `<`), NaN after every number;
/// never called on mixed kinds (`check_comparable`).
fn total_cmp(a: &Value, b: &Value) -> Ordering {
    let is_nan = |v: &Value| matches!(v, Value::Float(f) if f.is_nan());
    match compare(a, b) {
        Ok(Some(o)) => o,
        _ => is_nan(a).cmp(&is_nan(b)),
    }
}

/// Elements sorted by insertion sort before merging.
const RUN: usize = 16;

/// A stable merge sort driven by `after(x, y)` ("x goes after y"), which
/// may be inconsistent (a user comparator): the result is then some
/// permutation, never a panic. The first error stops the sort.
fn merge_sort(
    mut v: Vec<Value>,
    after: &mut dyn FnMut(&Value, &Value) -> Result<bool, Ctrl>,
) -> EvalResult<Vec<Value>> {
    let n = v.len();
    for lo in (0..n).step_by(RUN) {
        insertion_sort(&mut v[lo..(lo + RUN).min(n)], after)?;
    }
    let mut buf = vec![Value::Null; n];
    let mut width = RUN;
    while width < n {
        for lo in (0..n).step_by(2 * width) {
            let hi = (lo + 2 * width).min(n);
            let mid = (lo + width).min(hi);
            merge(&mut v[lo..hi], mid - lo, &mut buf[lo..hi], after)?;
        }
        std::mem::swap(&mut v, &mut buf);
        width *= 2;
    }
    Ok(v)
}

fn insertion_sort(v: &mut [Value], after: &mut dyn FnMut(&Value, &Value) -> Result<bool, Ctrl>) -> Result<(), Ctrl> {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && after(&v[j - 1], &v[j])? {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
    Ok(())
}

/// Moves the sorted runs `src[..mid]` and `src[mid..]` into `dst`, merged;
/// on ties the left run goes first (stability).
fn merge(
    src: &mut [Value],
    mid: usize,
    dst: &mut [Value],
    after: &mut dyn FnMut(&Value, &Value) -> Result<bool, Ctrl>,
) -> Result<(), Ctrl> {
    let n = src.len();
    // Already in order (common for presorted input): one comparison.
    if mid == 0 || mid == n || !after(&src[mid - 1], &src[mid])? {
        for (d, s) in dst.iter_mut().zip(src.iter_mut()) {
            *d = std::mem::take(s);
        }
        return Ok(());
    }
    let (mut i, mut j) = (0, mid);
    for slot in dst.iter_mut() {
        let right = i == mid || (j < n && after(&src[i], &src[j])?);
        let k = if right { &mut j } else { &mut i };
        *slot = std::mem::take(&mut src[*k]);
        *k += 1;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Shared with Strings and Objects

/// A reversed Array or String.
fn reverse(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    match take(args, 0) {
        Value::Array(a) => {
            let mut v = Arc::unwrap_or_clone(a).into_vec();
            v.reverse();
            Ok(Value::array(v))
        }
        Value::Str(s) => Ok(string::reversed(&s)),
        _ => Err(requires("reverse", "an array or string")),
    }
}

/// Array element `== x`, String substring, or Object key.
fn contains(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let found = match &args[0] {
        Value::Array(a) => a.iter().any(|x| equal(x, &args[1])),
        Value::Str(s) => s.contains(args::string(&args[1], "contains")?.as_str()),
        Value::Object(o) => args[1].as_str().is_some_and(|k| o.fields.contains_key(k)),
        _ => return Err(requires("contains", "an array, string, or object")),
    };
    Ok(Value::Bool(found))
}

/// Index of the first element `== x`, or character position of the first
/// occurrence of a substring; `-1` if none.
fn index_of(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let i = match &args[0] {
        Value::Array(a) => a.iter().position(|x| equal(x, &args[1])).map_or(-1, |i| i as i64),
        Value::Str(s) => string::char_index_of(s, args::string(&args[1], "index_of")?),
        _ => return Err(requires("index_of", "an array or string")),
    };
    Ok(Value::Int(i))
}

/// Like `index_of`, for the last occurrence.
fn last_index_of(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let i = match &args[0] {
        Value::Array(a) => a.iter().rposition(|x| equal(x, &args[1])).map_or(-1, |i| i as i64),
        Value::Str(s) => string::char_last_index_of(s, args::string(&args[1], "last_index_of")?),
        _ => return Err(requires("last_index_of", "an array or string")),
    };
    Ok(Value::Int(i))
}

/// `[s, e)` of an Array or String; negative positions count from the end.
fn slice(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let start = args::int(&args[1], "slice", "integer positions")?;
    let end = opt_end(args, 2, "slice")?;
    match &args[0] {
        Value::Array(a) => {
            let (s, e) = slice_bounds(a.len(), start, end);
            Ok(Value::array(a[s..e].to_vec()))
        }
        Value::Str(s) => Ok(string::char_slice(s, start, end)),
        _ => Err(requires("slice", "an array or string")),
    }
}

// ---------------------------------------------------------------------------
// Other array helpers

/// Each element's top-level display form, joined by `sep` (default `""`).
fn join(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = args::array(&args[0], "join")?;
    let sep = match args.get(1) {
        Some(v) => args::string(v, "join")?.as_str(),
        None => "",
    };
    let mut out = String::new();
    for (i, x) in a.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        write_display(&mut out, x);
    }
    Ok(Value::from(out))
}

fn first(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    Ok(args::array(&args[0], "first")?.first().cloned().unwrap_or_default())
}

fn last(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    Ok(args::array(&args[0], "last")?.last().cloned().unwrap_or_default())
}

/// The first `n` elements (all of them if fewer).
fn take_n(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = args::array(&args[0], "take_n")?;
    let n = count_arg(&args[1], "take_n")?.min(a.len());
    Ok(Value::array(a[..n].to_vec()))
}

/// All but the first `n` elements.
fn skip(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = args::array(&args[0], "skip")?;
    let n = count_arg(&args[1], "skip")?.min(a.len());
    Ok(Value::array(a[n..].to_vec()))
}

/// Drops every element `==` to an earlier one. Candidates are found by a
/// hash consistent with `==` (`hash_value`), so this is linear on average.
fn unique(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = take_array(args, 0, "unique")?;
    let mut out: Vec<Value> = Vec::new();
    let mut seen: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
    for x in Items::new(a) {
        let bucket = seen.entry(hash_value(&x)).or_default();
        if !bucket.iter().any(|&i| equal(&out[i], &x)) {
            bucket.push(out.len());
            out.push(x);
        }
    }
    Ok(Value::array(out))
}

/// A hash with `equal(a, b)` ⇒ `hash_value(a) == hash_value(b)`.
fn hash_value(v: &Value) -> u64 {
    let mut h = FxHasher::default();
    hash_into(v, &mut h, 0);
    h.finish()
}

/// Containers deeper than this hash as equal (`equal` still decides).
const HASH_DEPTH: usize = 32;

fn hash_into(v: &Value, h: &mut FxHasher, depth: usize) {
    if depth > HASH_DEPTH {
        return;
    }
    // Numbers first: an integral Float hashes as the Int it equals.
    let number = match v {
        Value::Int(n) => Some(Ok(*n)),
        Value::Float(f) => Some(float_as_int(*f).ok_or(f.to_bits())),
        _ => None,
    };
    if let Some(n) = number {
        n.hash(h);
        return;
    }
    std::mem::discriminant(v).hash(h);
    match v {
        Value::Bool(b) => b.hash(h),
        Value::Str(s) => s.as_str().hash(h),
        Value::Array(a) => {
            a.len().hash(h);
            a.iter().for_each(|x| hash_into(x, h, depth + 1));
        }
        Value::Object(o) => {
            o.tag.as_deref().hash(h);
            // Equality ignores key order: combine entries commutatively.
            let mut acc = 0u64;
            for (k, x) in &o.fields {
                let mut eh = FxHasher::default();
                k.as_str().hash(&mut eh);
                hash_into(x, &mut eh, depth + 1);
                acc = acc.wrapping_add(eh.finish());
            }
            acc.hash(h);
        }
        Value::Enum(e) => {
            e.variant.as_str().hash(h);
            e.payload.iter().for_each(|x| hash_into(x, h, depth + 1));
        }
        Value::Ok(x) | Value::Err(x) | Value::Some(x) => hash_into(x, h, depth + 1),
        Value::Func(c) => Arc::as_ptr(c).hash(h),
        Value::Builtin(n) => (*n as *const super::NativeFn).hash(h),
        Value::Variant(c) => Arc::as_ptr(c).hash(h),
        Value::Type(t) => t.name.as_str().hash(h),
        Value::Task(t) => Arc::as_ptr(t).hash(h),
        Value::Null | Value::None | Value::Channel(_) | Value::Int(_) | Value::Float(_) => {}
    }
}

/// The Int a Float is exactly equal to, if any (so `1.0` hashes as `1`).
fn float_as_int(f: f64) -> Option<i64> {
    let two_63 = 2f64.powi(63);
    let in_range = (-two_63..two_63).contains(&f);
    (in_range && f.fract() == 0.0).then_some(f as i64)
}

/// Splices nested Arrays one level deep.
fn flatten(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = take_array(args, 0, "flatten")?;
    let mut out = Vec::with_capacity(a.len());
    for x in Items::new(a) {
        match x {
            Value::Array(inner) => out.extend(Items::new(inner)),
            other => out.push(other),
        }
    }
    Ok(Value::array(out))
}

/// Drops `null` and `false`.
fn compact(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = take_array(args, 0, "compact")?;
    let out = Items::new(a).filter(|x| !matches!(x, Value::Null | Value::Bool(false))).collect();
    Ok(Value::array(out))
}

/// `[[a0, b0], …]`, as long as the shorter input.
fn zip(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = args::array(&args[0], "zip")?;
    let b = args::array(&args[1], "zip")?;
    let out = a.iter().zip(b.iter()).map(|(x, y)| Value::array(vec![x.clone(), y.clone()])).collect();
    Ok(Value::array(out))
}

/// `[{ "index": 0, "value": a0 }, …]`.
fn enumerate(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = take_array(args, 0, "enumerate")?;
    let out = Items::new(a)
        .enumerate()
        .map(|(i, x)| {
            let mut fields = Map::with_capacity_and_hasher(2, FxBuildHasher);
            fields.insert(arcstr::literal!("index"), Value::Int(i as i64));
            fields.insert(arcstr::literal!("value"), x);
            Value::object(fields)
        })
        .collect();
    Ok(Value::array(out))
}

/// Consecutive pieces of `n` elements (the last one may be shorter).
fn chunk(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = args::array(&args[0], "chunk")?;
    let n = args::int(&args[1], "chunk", "a positive size")?;
    let n = usize::try_from(n).ok().filter(|&n| n > 0).ok_or_else(|| requires("chunk", "a positive size"))?;
    Ok(Value::array(a.chunks(n).map(|c| Value::array(c.to_vec())).collect()))
}

// ---------------------------------------------------------------------------
// Aggregates

/// `0` for `[]`; a Float if any element is a Float; Int overflow raises.
fn sum(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = args::array(&args[0], "sum")?;
    let not_number = || requires("sum", "an array of numbers");
    if a.iter().any(|x| matches!(x, Value::Float(_))) {
        let mut total = 0.0;
        for x in a.iter() {
            total += match x {
                Value::Int(n) => *n as f64,
                Value::Float(f) => *f,
                _ => return Err(not_number()),
            };
        }
        return Ok(Value::Float(total));
    }
    let mut total: i64 = 0;
    for x in a.iter() {
        let Value::Int(n) = x else { return Err(not_number()) };
        total = total.checked_add(*n).ok_or_else(msg::overflow)?;
    }
    Ok(Value::Int(total))
}

fn min_of(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    extreme(&args[0], "min_of", Ordering::Less)
}

fn max_of(_: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    extreme(&args[0], "max_of", Ordering::Greater)
}

/// The first element ordered `want` against all others (by `<`).
fn extreme(v: &Value, name: &str, want: Ordering) -> EvalResult {
    let a = args::array(v, name)?;
    let (first, rest) = a.split_first().ok_or_else(|| requires(name, "a non-empty array"))?;
    let mut best = first;
    for x in rest {
        if compare(x, best)? == Some(want) {
            best = x;
        }
    }
    Ok(best.clone())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

    use super::*;
    use crate::builtins::testing::{call, callback, show, TestCx};

    fn ints(ns: &[i64]) -> Value {
        Value::array(ns.iter().map(|&n| Value::Int(n)).collect())
    }

    fn strs(ss: &[&str]) -> Value {
        Value::array(ss.iter().map(|&s| Value::from(s)).collect())
    }

    fn run(name: &str, args: Vec<Value>) -> String {
        show(call(name, args))
    }

    fn int(v: &Value) -> i64 {
        match v {
            Value::Int(n) => *n,
            other => panic!("not an Int: {other:?}"),
        }
    }

    fn num(v: &Value) -> f64 {
        match v {
            Value::Int(n) => *n as f64,
            Value::Float(f) => *f,
            other => panic!("not a number: {other:?}"),
        }
    }

    fn square(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
        Ok(Value::Int(int(&a[0]) * int(&a[0])))
    }
    fn is_even(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
        Ok(Value::Bool(int(&a[0]) % 2 == 0))
    }
    fn add(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
        Ok(Value::Int(int(&a[0]) + int(&a[1])))
    }
    fn twice(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
        Ok(Value::array(vec![a[0].clone(), Value::Int(int(&a[0]) * 10)]))
    }
    fn fail(_: &mut dyn NativeCx, _: &mut [Value]) -> EvalResult {
        Err(Ctrl::runtime("boom"))
    }
    fn float_diff(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
        Ok(Value::Float(num(&a[0]) - num(&a[1])))
    }
    fn int_desc(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
        Ok(Value::Int(int(&a[1]) - int(&a[0])))
    }
    /// Compares `[key, tag]` pairs by key only.
    fn by_key(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
        let key = |v: &Value| match v {
            Value::Array(p) => int(&p[0]),
            _ => panic!("not a pair"),
        };
        Ok(Value::Int(key(&a[0]) - key(&a[1])))
    }
    fn pair_key(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
        match &a[0] {
            Value::Array(p) => Ok(p[0].clone()),
            _ => panic!("not a pair"),
        }
    }
    fn bool_cmp(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
        Ok(Value::Bool(int(&a[0]) < int(&a[1])))
    }
    /// An inconsistent comparator: a pseudo-random sign each call.
    fn random_cmp(_: &mut dyn NativeCx, _: &mut [Value]) -> EvalResult {
        static STATE: AtomicU64 = AtomicU64::new(0x2545_F491_4F6C_DD1D);
        let mut x = STATE.load(AtomicOrdering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        STATE.store(x, AtomicOrdering::Relaxed);
        Ok(Value::Int((x % 3) as i64 - 1))
    }
    fn first_char(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
        Ok(Value::from(a[0].as_str().unwrap_or_default().chars().take(1).collect::<String>()))
    }
    fn parity(_: &mut dyn NativeCx, a: &mut [Value]) -> EvalResult {
        Ok(Value::Bool(int(&a[0]) % 2 == 0))
    }

    /// Calls a built-in and hands back the arguments as it left them.
    fn call_keep(name: &str, args: &mut [Value]) -> EvalResult {
        let native = crate::builtins::registry().native(name).expect("built-in");
        native.call(&mut TestCx::default(), args)
    }

    #[test]
    fn push_appends_in_place_and_returns_the_array() {
        let mut args = vec![ints(&[1, 2]), Value::Int(3)];
        let before = match &args[0] {
            Value::Array(a) => Arc::as_ptr(a),
            _ => unreachable!(),
        };
        let r = call_keep("push", &mut args).unwrap();
        assert_eq!(show(Ok(r)), "[1, 2, 3]");
        assert_eq!(show(Ok(args[0].clone())), "[1, 2, 3]");
        let Value::Array(after) = &args[0] else { unreachable!() };
        assert_eq!(Arc::as_ptr(after), before, "an unshared array is not copied");
    }

    #[test]
    fn push_on_a_shared_array_leaves_the_other_owner_alone() {
        let original = ints(&[1]);
        let mut args = vec![original.clone(), strs(&["x"])];
        call_keep("push", &mut args).unwrap();
        assert_eq!(show(Ok(original)), "[1]");
        assert_eq!(show(Ok(args[0].clone())), r#"[1, ["x"]]"#);
        assert_eq!(run("push", vec![Value::Int(1), Value::Int(2)]), "error: push() requires an array");
        assert_eq!(run("push", vec![ints(&[])]), "error: push() expected 2 arguments but got 1");
    }

    #[test]
    fn pop_returns_the_last_element_and_shortens_in_place() {
        let mut args = vec![ints(&[1, 2, 3])];
        assert_eq!(show(call_keep("pop", &mut args)), "3");
        assert_eq!(show(Ok(args[0].clone())), "[1, 2]");
        let mut empty = vec![ints(&[])];
        assert_eq!(show(call_keep("pop", &mut empty)), "null");
        assert_eq!(show(Ok(empty[0].clone())), "[]");
        assert_eq!(run("pop", vec!["s".into()]), "error: pop() requires an array");
    }

    #[test]
    fn range_forms() {
        assert_eq!(run("range", vec![Value::Int(4)]), "[0, 1, 2, 3]");
        assert_eq!(run("range", vec![Value::Int(3), Value::Int(6)]), "[3, 4, 5]");
        assert_eq!(run("range", vec![Value::Int(5), Value::Int(5)]), "[]");
        assert_eq!(run("range", vec![Value::Int(-2)]), "[]");
        assert_eq!(run("range", vec![Value::Int(1), Value::Int(10), Value::Int(2)]), "[1, 3, 5, 7, 9]");
        assert_eq!(run("range", vec![Value::Int(10), Value::Int(0), Value::Int(-3)]), "[10, 7, 4, 1]");
        assert_eq!(run("range", vec![Value::Int(5), Value::Int(0), Value::Int(-1)]), "[5, 4, 3, 2, 1]");
        assert_eq!(run("range", vec![Value::Int(0), Value::Int(5), Value::Int(-1)]), "[]");
        let top = vec![Value::Int(i64::MAX - 2), Value::Int(i64::MAX), Value::Int(i64::MAX)];
        assert_eq!(run("range", top), format!("[{}]", i64::MAX - 2));
    }

    #[test]
    fn range_errors() {
        assert_eq!(run("range", vec![Value::Float(1.0)]), "error: range() requires integer arguments");
        assert_eq!(run("range", vec![Value::Int(0), "5".into()]), "error: range() requires integer arguments");
        assert_eq!(
            run("range", vec![Value::Int(0), Value::Int(5), Value::Int(0)]),
            "error: range() step must not be zero"
        );
        assert_eq!(run("range", vec![Value::Int(i64::MIN), Value::Int(i64::MAX)]), "error: range() too large");
        assert_eq!(run("range", vec![Value::Int(1_000_000_000)]), "error: range() too large");
    }

    #[test]
    fn callback_family() {
        let nums = ints(&[1, 2, 3, 4, 5]);
        assert_eq!(run("map", vec![nums.clone(), callback(square)]), "[1, 4, 9, 16, 25]");
        assert_eq!(run("filter", vec![nums.clone(), callback(is_even)]), "[2, 4]");
        assert_eq!(run("reduce", vec![nums.clone(), Value::Int(0), callback(add)]), "15");
        assert_eq!(run("reduce", vec![ints(&[]), Value::Int(42), callback(add)]), "42");
        assert_eq!(run("find", vec![nums.clone(), callback(is_even)]), "2");
        assert_eq!(run("find", vec![ints(&[1, 3]), callback(is_even)]), "null");
        assert_eq!(run("any", vec![nums.clone(), callback(is_even)]), "true");
        assert_eq!(run("any", vec![ints(&[]), callback(is_even)]), "false");
        assert_eq!(run("all", vec![nums.clone(), callback(is_even)]), "false");
        assert_eq!(run("all", vec![ints(&[]), callback(fail)]), "true");
        assert_eq!(run("flat_map", vec![ints(&[1, 2]), callback(twice)]), "[1, 10, 2, 20]");
        assert_eq!(run("flat_map", vec![ints(&[1, 2]), callback(square)]), "[1, 4]");
        assert_eq!(run("for_each", vec![nums.clone(), callback(square)]), "null");
        assert_eq!(run("partition", vec![nums.clone(), callback(is_even)]), "[[2, 4], [1, 3, 5]]");
        assert_eq!(show(Ok(nums)), "[1, 2, 3, 4, 5]");
    }

    #[test]
    fn callback_errors_propagate_and_arguments_are_checked() {
        assert_eq!(run("map", vec![ints(&[1]), callback(fail)]), "error: boom");
        assert_eq!(run("sort", vec![ints(&[2, 1]), callback(fail)]), "error: boom");
        assert_eq!(run("map", vec![Value::Int(1), callback(square)]), "error: map() requires an array");
        assert_eq!(run("filter", vec![ints(&[]), Value::Int(1)]), "error: filter() requires a function");
        assert_eq!(run("reduce", vec![ints(&[]), Value::Int(0), Value::Null]), "error: reduce() requires a function");
    }

    #[test]
    fn sort_numbers_and_strings() {
        assert_eq!(run("sort", vec![ints(&[3, 1, 4, 1, 5, 9, 2, 6])]), "[1, 1, 2, 3, 4, 5, 6, 9]");
        let mixed = Value::array(vec![Value::Float(2.5), Value::Int(-1), Value::Float(0.5), Value::Int(2)]);
        assert_eq!(run("sort", vec![mixed]), "[-1, 0.5, 2, 2.5]");
        assert_eq!(
            run("sort", vec![strs(&["banana", "apple", "cherry", "Apple"])]),
            r#"["Apple", "apple", "banana", "cherry"]"#
        );
        assert_eq!(run("sort", vec![ints(&[])]), "[]");
        let nan = Value::array(vec![Value::Float(f64::NAN), Value::Int(1), Value::Float(-1.0)]);
        assert_eq!(run("sort", vec![nan]), "[-1.0, 1, NaN]");
    }

    #[test]
    fn sort_rejects_mixed_kinds() {
        let mixed = Value::array(vec![Value::Int(1), "a".into()]);
        assert_eq!(run("sort", vec![mixed]), "error: cannot compare Int and String");
        let bools = Value::array(vec![Value::Bool(true), Value::Bool(false)]);
        assert_eq!(run("sort", vec![bools]), "error: cannot compare Bool and Bool");
        assert_eq!(run("sort", vec!["abc".into()]), "error: sort() requires an array");
    }

    #[test]
    fn sort_with_comparators() {
        let prices = Value::array(vec![2.25.into(), 0.5.into(), 10.75.into(), 1.5.into()]);
        assert_eq!(run("sort", vec![prices, callback(float_diff)]), "[0.5, 1.5, 2.25, 10.75]");
        assert_eq!(run("sort", vec![ints(&[3, 1, 2]), callback(int_desc)]), "[3, 2, 1]");
        assert_eq!(
            run("sort", vec![ints(&[2, 1]), callback(bool_cmp)]),
            "error: sort() comparator must return a number"
        );
        assert_eq!(run("sort", vec![ints(&[1]), Value::Int(3)]), "error: sort() requires a function");
    }

    #[test]
    fn sort_with_comparator_is_stable_on_large_inputs() {
        let pairs: Vec<Value> = (0..2000).map(|i| ints(&[(i * 7919) % 13, i])).collect();
        let sorted = call("sort", vec![Value::array(pairs), callback(by_key)]).unwrap();
        let Value::Array(v) = sorted else { panic!() };
        let keys: Vec<(i64, i64)> = v
            .iter()
            .map(|p| match p {
                Value::Array(p) => (int(&p[0]), int(&p[1])),
                _ => panic!(),
            })
            .collect();
        let mut expected = keys.clone();
        expected.sort();
        assert_eq!(keys, expected, "ordered by key, ties in input order");
    }

    #[test]
    fn inconsistent_comparator_never_panics() {
        let input: Vec<i64> = (0..500).collect();
        let out = call("sort", vec![ints(&input), callback(random_cmp)]).unwrap();
        let Value::Array(v) = out else { panic!() };
        let mut got: Vec<i64> = v.iter().map(int).collect();
        got.sort();
        assert_eq!(got, input, "a permutation of the input");
    }

    #[test]
    fn sort_by_is_stable() {
        let pairs = Value::array(vec![ints(&[2, 0]), ints(&[1, 1]), ints(&[2, 2]), ints(&[1, 3])]);
        assert_eq!(run("sort_by", vec![pairs, callback(pair_key)]), "[[1, 1], [1, 3], [2, 0], [2, 2]]");
        assert_eq!(run("sort_by", vec![ints(&[1, 2]), callback(parity)]), "error: cannot compare Bool and Bool");
    }

    #[test]
    fn group_by_and_frequencies_key_by_display_form() {
        let words = strs(&["apple", "avocado", "banana", "blueberry", "cherry"]);
        assert_eq!(
            run("group_by", vec![words, callback(first_char)]),
            r#"{ "a": ["apple", "avocado"], "b": ["banana", "blueberry"], "c": ["cherry"] }"#
        );
        assert_eq!(run("group_by", vec![ints(&[1, 2, 3]), callback(parity)]), r#"{ "false": [1, 3], "true": [2] }"#);
        let items = Value::array(vec!["a".into(), Value::Int(1), "a".into(), strs(&["x"]), Value::Null]);
        assert_eq!(run("frequencies", vec![items]), r#"{ "a": 2, "1": 1, "[\"x\"]": 1, "null": 1 }"#);
    }

    #[test]
    fn reverse_contains_index_of_on_arrays_and_strings() {
        assert_eq!(run("reverse", vec![ints(&[1, 2, 3])]), "[3, 2, 1]");
        assert_eq!(run("reverse", vec!["héllo".into()]), "olléh");
        assert_eq!(run("reverse", vec![Value::Int(1)]), "error: reverse() requires an array or string");
        let mixed = Value::array(vec![Value::Int(1), "two".into(), Value::Null, ints(&[5])]);
        assert_eq!(run("contains", vec![mixed.clone(), Value::Null]), "true");
        assert_eq!(run("contains", vec![mixed.clone(), ints(&[5])]), "true");
        assert_eq!(run("contains", vec![mixed.clone(), Value::Float(1.0)]), "true");
        assert_eq!(run("contains", vec![mixed.clone(), "2".into()]), "false");
        assert_eq!(run("contains", vec!["naïve café".into(), "café".into()]), "true");
        assert_eq!(run("contains", vec!["abc".into(), "".into()]), "true");
        assert_eq!(run("index_of", vec![mixed.clone(), "two".into()]), "1");
        assert_eq!(run("index_of", vec![mixed, "three".into()]), "-1");
        assert_eq!(run("index_of", vec!["héllo wörld".into(), "w".into()]), "6");
        assert_eq!(run("last_index_of", vec!["the cat the".into(), "the".into()]), "8");
        assert_eq!(run("last_index_of", vec![ints(&[1, 2, 1]), Value::Int(1)]), "2");
        assert_eq!(run("index_of", vec![Value::Null, Value::Null]), "error: index_of() requires an array or string");
    }

    #[test]
    fn slice_arrays_and_strings() {
        let a = ints(&[1, 2, 3, 4, 5]);
        assert_eq!(run("slice", vec![a.clone(), Value::Int(1), Value::Int(3)]), "[2, 3]");
        assert_eq!(run("slice", vec![a.clone(), Value::Int(2)]), "[3, 4, 5]");
        assert_eq!(run("slice", vec![a.clone(), Value::Int(-2)]), "[4, 5]");
        assert_eq!(run("slice", vec![a.clone(), Value::Int(0), Value::Int(-1)]), "[1, 2, 3, 4]");
        assert_eq!(run("slice", vec![a.clone(), Value::Int(4), Value::Int(2)]), "[]");
        assert_eq!(run("slice", vec![a.clone(), Value::Int(-99), Value::Int(99)]), "[1, 2, 3, 4, 5]");
        assert_eq!(run("slice", vec![a, Value::Int(i64::MIN), Value::Int(i64::MAX)]), "[1, 2, 3, 4, 5]");
        assert_eq!(run("slice", vec!["日本語テキスト".into(), Value::Int(2), Value::Int(4)]), "語テ");
        assert_eq!(run("slice", vec!["hello".into(), Value::Int(-3)]), "llo");
        assert_eq!(run("slice", vec!["hello".into(), "1".into()]), "error: slice() requires integer positions");
    }

    #[test]
    fn join_uses_top_level_display_forms() {
        let parts = Value::array(vec!["a".into(), Value::array(vec![Value::Int(1), "b".into()]), Value::Float(2.0)]);
        assert_eq!(run("join", vec![parts, "-".into()]), r#"a-[1, "b"]-2.0"#);
        assert_eq!(run("join", vec![strs(&["x", "y", "z"])]), "xyz");
        assert_eq!(run("join", vec![ints(&[]), "-".into()]), "");
        assert_eq!(run("join", vec![ints(&[1, 2, 3]), "+".into()]), "1+2+3");
        assert_eq!(run("join", vec![ints(&[1]), Value::Int(1)]), "error: join() requires a string");
    }

    #[test]
    fn small_helpers() {
        let a = ints(&[1, 2, 3]);
        assert_eq!(run("first", vec![a.clone()]), "1");
        assert_eq!(run("last", vec![a.clone()]), "3");
        assert_eq!(run("first", vec![ints(&[])]), "null");
        assert_eq!(run("take_n", vec![a.clone(), Value::Int(2)]), "[1, 2]");
        assert_eq!(run("take_n", vec![a.clone(), Value::Int(9)]), "[1, 2, 3]");
        assert_eq!(run("skip", vec![a.clone(), Value::Int(1)]), "[2, 3]");
        assert_eq!(run("skip", vec![a.clone(), Value::Int(-1)]), "[1, 2, 3]");
        let sparse = Value::array(vec![Value::Null, Value::Int(0), Value::Bool(false), "".into(), Value::None]);
        assert_eq!(run("compact", vec![sparse]), r#"[0, "", None]"#);
        assert_eq!(run("zip", vec![a.clone(), strs(&["x"])]), r#"[[1, "x"]]"#);
        let nested = Value::array(vec![Value::array(vec![Value::Int(1), ints(&[2])]), ints(&[]), Value::Int(3)]);
        assert_eq!(run("flatten", vec![nested]), "[1, [2], 3]");
        assert_eq!(run("chunk", vec![ints(&[1, 2, 3, 4, 5]), Value::Int(2)]), "[[1, 2], [3, 4], [5]]");
        assert_eq!(run("chunk", vec![a.clone(), Value::Int(0)]), "error: chunk() requires a positive size");
        assert_eq!(
            run("enumerate", vec![strs(&["x", "y"])]),
            r#"[{ "index": 0, "value": "x" }, { "index": 1, "value": "y" }]"#
        );
        assert_eq!(show(Ok(a)), "[1, 2, 3]");
    }

    #[test]
    fn unique_uses_equality() {
        assert_eq!(run("unique", vec![ints(&[1, 2, 2, 3, 1])]), "[1, 2, 3]");
        assert_eq!(run("unique", vec![strs(&["b", "a", "b"])]), r#"["b", "a"]"#);
        let nums = Value::array(vec![Value::Int(1), Value::Float(1.0), Value::Float(1.5), "1".into()]);
        assert_eq!(run("unique", vec![nums]), r#"[1, 1.5, "1"]"#);
        let mut m1 = Map::default();
        m1.insert("a".into(), Value::Int(1));
        m1.insert("b".into(), ints(&[2]));
        let mut m2 = Map::default();
        m2.insert("b".into(), Value::array(vec![Value::Float(2.0)]));
        m2.insert("a".into(), Value::Int(1));
        let objs = Value::array(vec![Value::object(m1), Value::object(m2), ints(&[1]), ints(&[1])]);
        assert_eq!(run("unique", vec![objs]), r#"[{ "a": 1, "b": [2] }, [1]]"#);
        let nans = Value::array(vec![Value::Float(f64::NAN), Value::Float(f64::NAN)]);
        assert_eq!(run("unique", vec![nans]), "[NaN, NaN]");
    }

    #[test]
    fn aggregates() {
        assert_eq!(run("sum", vec![ints(&[1, 2, 3, 4])]), "10");
        assert_eq!(run("sum", vec![Value::array(vec![1.5.into(), 2.25.into()])]), "3.75");
        assert_eq!(run("sum", vec![Value::array(vec![Value::Int(1), 2.0.into()])]), "3.0");
        assert_eq!(run("sum", vec![ints(&[])]), "0");
        assert_eq!(run("sum", vec![ints(&[i64::MAX, 1])]), "error: integer overflow");
        assert_eq!(run("sum", vec![strs(&["a"])]), "error: sum() requires an array of numbers");
        assert_eq!(run("min_of", vec![ints(&[3, 1, 4, 1, 5])]), "1");
        assert_eq!(run("max_of", vec![ints(&[3, 1, 4, 1, 5])]), "5");
        let mixed = Value::array(vec![Value::Float(-2.5), Value::Int(7), Value::Int(0)]);
        assert_eq!(run("min_of", vec![mixed.clone()]), "-2.5");
        assert_eq!(run("max_of", vec![mixed]), "7");
        assert_eq!(run("min_of", vec![ints(&[])]), "error: min_of() requires a non-empty array");
        assert_eq!(run("max_of", vec![ints(&[])]), "error: max_of() requires a non-empty array");
        let bad = Value::array(vec![Value::Int(1), "x".into()]);
        assert_eq!(run("max_of", vec![bad]), "error: cannot compare String and Int");
    }

    #[test]
    fn large_arrays_stay_fast() {
        let n = 200_000;
        let big = Value::array((0..n).map(|i| Value::Int((i * 7919) % 10007)).collect());
        let sorted = call("sort", vec![big.clone()]).unwrap();
        let Value::Array(v) = &sorted else { panic!() };
        assert!(v.windows(2).all(|w| int(&w[0]) <= int(&w[1])));
        let words = Value::array((0..n).map(|i| Value::from(format!("w{}", i % 5000))).collect());
        let Value::Array(u) = call("unique", vec![words.clone()]).unwrap() else { panic!() };
        assert_eq!(u.len(), 5000);
        let Value::Array(s) = call("sort", vec![words]).unwrap() else { panic!() };
        assert_eq!(s.len(), n as usize);
        let mapped = call("map", vec![big, callback(square)]).unwrap();
        let Value::Array(m) = mapped else { panic!() };
        assert_eq!(m.len(), n as usize);
    }
}
