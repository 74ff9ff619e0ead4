//! Freeing nested values without recursion.
//!
//! Rust's drop glue frees a nested structure recursively, one native stack
//! frame per level: a program that builds a list a million levels deep
//! (`a = [a]` in a loop, an ADT `Cons` list) would overflow the task's stack
//! when the list is freed. The containers below therefore move their
//! children onto a work list and free them in a loop.

use std::sync::Arc;

use super::{Array, EnumValue, Object, Value};

/// Frees `work` and everything only it holds, iteratively.
fn drop_all(mut work: Vec<Value>) {
    while let Some(v) = work.pop() {
        match v {
            Value::Array(a) => {
                if let Ok(mut arr) = Arc::try_unwrap(a) {
                    work.append(&mut arr);
                }
            }
            Value::Object(o) => {
                if let Ok(mut obj) = Arc::try_unwrap(o) {
                    work.extend(obj.fields.drain(..).map(|(_, v)| v));
                }
            }
            Value::Enum(e) => {
                if let Ok(mut ev) = Arc::try_unwrap(e) {
                    work.extend(std::mem::take(&mut ev.payload).into_vec());
                }
            }
            Value::Ok(x) | Value::Err(x) | Value::Some(x) => {
                if let Ok(inner) = Arc::try_unwrap(x) {
                    work.push(inner);
                }
            }
            other => drop(other),
        }
    }
}

impl Drop for Array {
    fn drop(&mut self) {
        if self.iter().any(Value::has_children) {
            drop_all(std::mem::take(&mut **self));
        }
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        if self.fields.values().any(Value::has_children) {
            drop_all(self.fields.drain(..).map(|(_, v)| v).collect());
        }
    }
}

impl Drop for EnumValue {
    fn drop(&mut self) {
        if self.payload.iter().any(Value::has_children) {
            drop_all(std::mem::take(&mut self.payload).into_vec());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_levels_free_without_overflow() {
        // Run on a small thread stack: recursion would overflow it.
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let mut v = Value::array(Vec::new());
                for _ in 0..1_000_000 {
                    v = Value::array(vec![v]);
                }
                let mut o = Value::Null;
                for i in 0..1_000_000 {
                    let mut m = crate::value::Map::default();
                    m.insert("next".into(), o);
                    m.insert("i".into(), Value::Int(i));
                    o = Value::object(m);
                }
                drop(v);
                drop(o);
            })
            .expect("thread")
            .join()
            .expect("no overflow");
    }
}
