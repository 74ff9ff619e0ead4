//! A value on its way to another task (DESIGN.md §4): a channel message, a
//! task result, or the variables a `spawn` captures.
//!
//! `Message::new` detaches the value (closures get fresh cells, see
//! `value/detach.rs`) and remembers whether it holds any cell at all, so the
//! receiving task knows whether it can still take O(1) snapshots of its
//! globals when it spawns (`TaskState::has_cells`).

use crate::value::detach::Detacher;
use crate::value::Value;

#[derive(Clone, Debug)]
pub struct Message {
    value: Value,
    has_cells: bool,
}

impl Message {
    /// Copies `v` for another task.
    pub fn new(v: &Value) -> Message {
        let mut d = Detacher::new();
        let value = d.detach(v);
        Message { value, has_cells: d.created_cells() }
    }

    /// A value already detached by its sender (the VM copies values out of
    /// its heap itself); `has_cells` says whether closures with cells are in it.
    pub fn detached(value: Value, has_cells: bool) -> Message {
        Message { value, has_cells }
    }

    /// A message known to hold no closure cells (plain data).
    pub fn plain(value: Value) -> Message {
        Message { value, has_cells: false }
    }

    pub fn has_cells(&self) -> bool {
        self.has_cells
    }

    /// The value for a receiver that takes this message once (a channel).
    pub fn into_value(self) -> Value {
        self.value
    }

    /// The value for one of possibly many receivers (an awaited result):
    /// each gets its own cells.
    pub fn share(&self) -> Value {
        if self.has_cells {
            Detacher::new().detach(&self.value)
        } else {
            self.value.clone()
        }
    }
}
