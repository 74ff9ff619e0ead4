//! The task's user types on the VM: struct layouts with their defaults,
//! methods by type name, interfaces. Every `Val` here is a GC root.

use std::sync::Arc;

use arcstr::ArcStr;
use rustc_hash::FxHashMap;

use super::Machine;
use crate::error::Ctrl;
use crate::syntax::ast::StructDef;
use crate::value::{TypeKind, TypeValue};
use crate::vm::bytecode::chunk::ImplDef;
use crate::vm::gc::heap::HeapObj;
use crate::vm::value::Val;

#[derive(Clone, Debug)]
pub(crate) struct VmField {
    pub name: ArcStr,
    pub default: Option<Val>,
    pub embedded: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct VmStruct {
    pub fields: Vec<VmField>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct VmTypes {
    pub structs: FxHashMap<ArcStr, VmStruct>,
    pub methods: FxHashMap<ArcStr, FxHashMap<ArcStr, Val>>,
    pub interfaces: FxHashMap<ArcStr, Vec<ArcStr>>,
}

impl VmTypes {
    pub(crate) fn method(&self, type_name: &str, name: &str) -> Option<Val> {
        self.methods.get(type_name)?.get(name).copied()
    }

    /// Every value held here (GC roots).
    pub(crate) fn values(&self) -> impl Iterator<Item = Val> + '_ {
        let defaults = self.structs.values().flat_map(|s| s.fields.iter().filter_map(|f| f.default));
        let methods = self.methods.values().flat_map(|m| m.values().copied());
        defaults.chain(methods)
    }
}

impl Machine {
    /// `DefStruct`: defaults are in `R[a] ..`, one per field that has one.
    pub(crate) fn def_struct(&mut self, def: &'static StructDef, a: usize) -> Result<(), Ctrl> {
        let mut next = a;
        let mut fields = Vec::with_capacity(def.fields.len());
        for f in &def.fields {
            let default = f.default.as_ref().map(|_| {
                next += 1;
                self.regs[next - 1]
            });
            fields.push(VmField { name: f.name.clone(), default, embedded: f.embedded });
        }
        self.types.structs.insert(def.name.clone(), VmStruct { fields });
        let t = TypeValue { name: def.name.clone(), kind: TypeKind::Struct };
        self.regs[a] = Val::Obj(self.heap.alloc(HeapObj::Type(Arc::new(t)))?);
        self.globals_version += 1;
        Ok(())
    }

    /// `Impl`: the method closures are in `R[a] ..`, in the order of `def`.
    pub(crate) fn impl_methods(&mut self, def: &ImplDef, a: usize) -> Result<(), Ctrl> {
        for (i, name) in def.methods.iter().enumerate() {
            let f = self.regs[a + i];
            self.types.methods.entry(def.type_name.clone()).or_default().insert(name.clone(), f);
        }
        self.globals_version += 1;
        let Some(iface) = &def.interface else { return Ok(()) };
        let required = self.types.interfaces.get(iface).cloned().unwrap_or_default();
        for name in required {
            if self.types.method(&def.type_name, &name).is_none() {
                return Err(Ctrl::runtime(format!(
                    "'{}' does not implement '{name}' required by power '{iface}'",
                    def.type_name
                )));
            }
        }
        Ok(())
    }
}
