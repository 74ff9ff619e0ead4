//! The task's registry of user types: struct definitions (field order,
//! defaults, embeddings), methods by type name, and interfaces.
//!
//! It is filled as `struct`, `impl`/`give` and `interface` statements run
//! (FORGE.md §4.2: these take effect when executed) and is copied on write:
//! a spawned task starts from its parent's registry.

use std::collections::HashMap;
use std::sync::Arc;

use arcstr::ArcStr;

use crate::value::{Map, Value};

#[derive(Clone, Debug)]
pub struct FieldInfo {
    pub name: ArcStr,
    /// The default, evaluated when the `struct` statement ran.
    pub default: Option<Value>,
    pub embedded: bool,
}

#[derive(Debug)]
pub struct StructInfo {
    pub name: ArcStr,
    pub fields: Vec<FieldInfo>,
}

impl StructInfo {
    /// Names of `has` fields, in declaration order.
    pub fn embedded(&self) -> impl Iterator<Item = &ArcStr> {
        self.fields.iter().filter(|f| f.embedded).map(|f| &f.name)
    }
}

#[derive(Clone, Debug, Default)]
pub struct TypeRegistry {
    pub structs: HashMap<ArcStr, Arc<StructInfo>>,
    pub methods: HashMap<ArcStr, Map>,
    pub interfaces: HashMap<ArcStr, Vec<ArcStr>>,
}

impl TypeRegistry {
    pub fn method(&self, type_name: &str, name: &str) -> Option<&Value> {
        self.methods.get(type_name)?.get(name)
    }

    pub fn add_method(&mut self, type_name: ArcStr, name: ArcStr, f: Value) {
        self.methods.entry(type_name).or_default().insert(name, f);
    }
}
