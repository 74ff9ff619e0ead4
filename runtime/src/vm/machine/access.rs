//! Reading and writing fields and elements, iteration, and struct
//! construction, with the interpreter's semantics and messages.

use arcstr::ArcStr;

use super::ops::ChildKey;
use super::Machine;
use crate::builtins::registry;
use crate::error::{msg, Ctrl};
use crate::vm::gc::heap::{FieldMap, HeapObj, ObjectObj};
use crate::vm::value::{ObjRef, Val};

/// Normalises an index into `len` elements (negative counts from the end).
fn normalize(i: i64, len: usize) -> Option<usize> {
    let k = if i < 0 { i.checked_add(len as i64)? } else { i };
    (k >= 0 && (k as usize) < len).then_some(k as usize)
}

impl Machine {
    /// `base.name`.
    pub(crate) fn get_field(&mut self, base: Val, name: &ArcStr) -> Result<Val, Ctrl> {
        let Val::Obj(r) = base else {
            return Err(Ctrl::runtime(format!("cannot access field '{name}' on {}", self.type_name(base))));
        };
        match self.heap.get(r) {
            HeapObj::Object(o) => {
                if let Some(&v) = o.fields.get(name.as_str()) {
                    return Ok(v);
                }
                if let Some(tag) = o.tag.clone() {
                    if name.as_str() == "__type__" {
                        return self.alloc_str(tag);
                    }
                    if let Some(v) = self.embedded_field(r, &tag, name) {
                        return Ok(v);
                    }
                }
                Err(Ctrl::runtime(format!("no field '{name}' on object")))
            }
            HeapObj::Enum(e) => match name.as_str() {
                "__type__" => {
                    let n = e.enum_name.clone();
                    self.alloc_str(n)
                }
                "__variant__" => {
                    let n = e.variant.clone();
                    self.alloc_str(n)
                }
                _ => name
                    .strip_prefix('_')
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|i| e.payload.get(i).copied())
                    .ok_or_else(|| Ctrl::runtime(format!("no field '{name}' on {}", e.variant))),
            },
            HeapObj::Str(_) | HeapObj::Array(_) if matches!(name.as_str(), "len" | "upper" | "lower" | "trim") => {
                let n = registry().method(name).ok_or_else(|| self.no_method(base, name))?;
                // The receiver goes through a scratch register above the frame.
                let top = self.scratch(1);
                self.regs[top] = base;
                self.call_native(n, top, 1)
            }
            HeapObj::Type(t) => {
                let t = t.name.clone();
                self.types.method(&t, name).ok_or_else(|| Ctrl::runtime(format!("no method '{name}' on {t}")))
            }
            _ => Err(Ctrl::runtime(format!("cannot access field '{name}' on {}", self.type_name(base)))),
        }
    }

    /// A field found through `has` embeddings of struct `tag`.
    fn embedded_field(&self, r: ObjRef, tag: &str, name: &str) -> Option<Val> {
        let info = self.types.structs.get(tag)?;
        let HeapObj::Object(o) = self.heap.get(r) else { return None };
        info.fields.iter().filter(|f| f.embedded).find_map(|f| match *o.fields.get(&f.name)? {
            Val::Obj(inner) => match self.heap.get(inner) {
                HeapObj::Object(io) => io.fields.get(name).copied().or_else(|| {
                    let t = io.tag.clone()?;
                    self.embedded_field(inner, &t, name)
                }),
                _ => None,
            },
            _ => None,
        })
    }

    /// A register above the running frame, for values natives need.
    pub(crate) fn scratch(&mut self, n: usize) -> usize {
        let top = self.frames.last().map_or(0, |f| f.base + f.proto.nregs as usize + 1);
        if self.regs.len() < top + n {
            self.regs.resize(top + n, Val::Null);
        }
        top
    }

    /// `base[index]`.
    pub(crate) fn get_index(&mut self, base: Val, index: Val) -> Result<Val, Ctrl> {
        if let Val::Obj(r) = base {
            match (self.heap.get(r), index) {
                (HeapObj::Array(a), Val::Int(i)) => {
                    return normalize(i, a.items.len())
                        .map(|k| a.items[k])
                        .ok_or_else(|| msg::index_out_of_bounds(i, "array", a.items.len()));
                }
                (HeapObj::Str(s), Val::Int(i)) => {
                    let len = s.chars().count();
                    let Some(k) = normalize(i, len) else { return Err(msg::index_out_of_bounds(i, "string", len)) };
                    let c: String = s.chars().nth(k).map(String::from).unwrap_or_default();
                    return self.alloc_str(c);
                }
                (HeapObj::Object(o), Val::Obj(k)) => {
                    if let HeapObj::Str(key) = self.heap.get(k) {
                        return o
                            .fields
                            .get(key.as_str())
                            .copied()
                            .ok_or_else(|| Ctrl::runtime(format!("key '{key}' not found")));
                    }
                }
                _ => {}
            }
        }
        Err(msg::invalid_index())
    }

    /// The child of an unshared container, made unshared itself and written
    /// back, so a write below it changes only this path.
    pub(crate) fn child_for_write(&mut self, base: Val, key: ChildKey<'_>) -> Result<Val, Ctrl> {
        let child = match &key {
            ChildKey::Field(name) => match base {
                Val::Obj(r) => match self.heap.get(r) {
                    HeapObj::Object(o) => *o
                        .fields
                        .get(name.as_str())
                        .ok_or_else(|| Ctrl::runtime(format!("no field '{name}' on object")))?,
                    _ => {
                        return Err(Ctrl::runtime(format!("cannot access field '{name}' on {}", self.type_name(base))))
                    }
                },
                Val::Null => return Err(Ctrl::runtime(format!("cannot access field '{name}' on Null"))),
                other => {
                    return Err(Ctrl::runtime(format!("cannot access field '{name}' on {}", self.type_name(other))))
                }
            },
            ChildKey::Index(i) => self.get_index(base, *i)?,
        };
        let Val::Obj(c) = child else { return Ok(child) };
        let unique = self.make_unique(c)?;
        if unique != c {
            match key {
                ChildKey::Field(name) => self.set_field(base, name.clone(), Val::Obj(unique))?,
                ChildKey::Index(i) => self.set_index(base, i, Val::Obj(unique))?,
            }
        }
        Ok(Val::Obj(unique))
    }

    /// `obj.name = v` on an unshared object.
    pub(crate) fn set_field(&mut self, obj: Val, name: ArcStr, v: Val) -> Result<(), Ctrl> {
        match obj {
            Val::Obj(r) => match self.heap.get_mut(r) {
                HeapObj::Object(o) => {
                    o.fields.insert(name, v);
                    Ok(())
                }
                HeapObj::Str(_) => Err(msg::invalid_index()),
                _ => Err(Ctrl::runtime(format!("cannot access field '{name}' on {}", self.type_name(obj)))),
            },
            Val::Null => Err(Ctrl::runtime(format!("cannot access field '{name}' on Null"))),
            other => Err(Ctrl::runtime(format!("cannot access field '{name}' on {}", self.type_name(other)))),
        }
    }

    /// `container[index] = v` on an unshared container.
    pub(crate) fn set_index(&mut self, container: Val, index: Val, v: Val) -> Result<(), Ctrl> {
        let key = match (container, index) {
            (Val::Obj(_), Val::Obj(k)) => match self.heap.get(k) {
                HeapObj::Str(s) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        };
        let Val::Obj(r) = container else { return Err(msg::invalid_index()) };
        match (self.heap.get_mut(r), index) {
            (HeapObj::Array(a), Val::Int(i)) => {
                let len = a.items.len();
                let k = normalize(i, len).ok_or_else(|| msg::index_out_of_bounds(i, "array", len))?;
                a.items[k] = v;
                Ok(())
            }
            (HeapObj::Object(o), _) if key.is_some() => {
                o.fields.insert(key.expect("checked"), v);
                Ok(())
            }
            _ => Err(msg::invalid_index()),
        }
    }

    /// `IterInit`: what a `for` (or `repeat`) iterates, at `R[a]`.
    pub(crate) fn iter_init(&mut self, a: usize, src: Val, repeat: bool) -> Result<(), Ctrl> {
        if repeat {
            let n = match src {
                Val::Int(n) => n,
                Val::Float(f) if f.is_finite() => f as i64,
                other => {
                    return Err(Ctrl::runtime(format!("repeat needs a number of times, got {}", self.type_name(other))))
                }
            };
            self.regs[a] = Val::Int(n.max(0));
            self.regs[a + 1] = Val::Int(0);
            return Ok(());
        }
        let ok = match src {
            Val::Obj(r) => matches!(self.heap.get(r), HeapObj::Array(_) | HeapObj::Object(_) | HeapObj::Channel(_)),
            _ => false,
        };
        if !ok {
            return Err(Ctrl::runtime("can only iterate over arrays, objects, or channels"));
        }
        // The loop holds the collection: changing the variable must not
        // change what is iterated.
        self.share(src);
        self.regs[a] = src;
        self.regs[a + 1] = Val::Int(0);
        Ok(())
    }

    /// `IterNext`: `true` with the next item in place, `false` at the end.
    pub(crate) fn iter_next(&mut self, a: usize, two: bool) -> Result<bool, Ctrl> {
        let Val::Int(pos) = self.regs[a + 1] else { return Ok(false) };
        let pos = pos as usize;
        let src = self.regs[a];
        if let Val::Int(count) = src {
            if (pos as i64) < count {
                self.regs[a + 1] = Val::Int(pos as i64 + 1);
                return Ok(true);
            }
            return Ok(false);
        }
        let Val::Obj(r) = src else { return Ok(false) };
        match self.heap.get(r) {
            HeapObj::Array(arr) => {
                let Some(&item) = arr.items.get(pos) else { return Ok(false) };
                self.share(item);
                if two {
                    self.regs[a + 3] = Val::Int(pos as i64);
                    self.regs[a + 2] = item;
                } else {
                    self.regs[a + 2] = item;
                }
            }
            HeapObj::Object(o) => {
                let Some((k, &v)) = o.fields.get_index(pos) else { return Ok(false) };
                let k = k.clone();
                self.share(v);
                let key = self.alloc_str(k)?;
                if two {
                    self.regs[a + 3] = key;
                    self.regs[a + 2] = v;
                } else {
                    self.regs[a + 2] = key;
                }
            }
            HeapObj::Channel(ch) => {
                let ch = ch.clone();
                match crate::builtins::concurrency::receive(self, &ch)? {
                    Some(v) => {
                        let v = self.import(&v)?;
                        self.regs[a + 2] = v;
                    }
                    None => return Ok(false),
                }
            }
            _ => return Ok(false),
        }
        self.regs[a + 1] = Val::Int(pos as i64 + 1);
        Ok(true)
    }

    /// `MakeStruct`: the fresh object in `R[a]` becomes an instance of
    /// struct `name`: declared fields in order (given, else default), then
    /// undeclared given fields in the order written (FORGE.md §6).
    pub(crate) fn make_struct(&mut self, a: usize, name: ArcStr) -> Result<(), Ctrl> {
        let Val::Obj(r) = self.regs[a] else { return Ok(()) };
        let HeapObj::Object(given) = self.heap.get_mut(r) else { return Ok(()) };
        let mut given = std::mem::take(&mut given.fields);
        let mut fields = FieldMap::default();
        if let Some(info) = self.types.structs.get(&name) {
            let mut defaults = Vec::new();
            for f in &info.fields {
                if let Some(v) = given.shift_remove(&f.name) {
                    fields.insert(f.name.clone(), v);
                } else if let Some(d) = f.default {
                    defaults.push(d);
                    fields.insert(f.name.clone(), d);
                }
            }
            defaults.into_iter().for_each(|d| self.share(d));
        }
        fields.extend(given.drain(..));
        *self.heap.get_mut(r) = HeapObj::Object(Box::new(ObjectObj { tag: Some(name), fields, shared: false }));
        Ok(())
    }
}
