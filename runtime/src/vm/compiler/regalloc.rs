//! Register layout of a frame: locals, then cells, then temporaries
//! allocated and released in stack order.
//!
//! A function with more locals than fit keeps the first ones in registers
//! and the rest ("spilled") in an array held by one register, read and
//! written with `GetSpill`/`SetSpill`.

use super::Reg;

/// The highest register a frame may use (leaves room for call windows).
const LIMIT: u32 = 250;
/// Locals and cells beyond this spill (temporaries need the rest).
const KEEP: u32 = 180;
/// Most locals that can spill (an 8-bit index into the spill array).
pub(crate) const MAX_SPILLED: u32 = 256;

pub(crate) struct Regs {
    /// Locals held in registers.
    kept: u32,
    /// Locals in the spill array (whose register is `kept`).
    spilled: u32,
    /// The register of the first cell.
    first_cell: u32,
    first_temp: u32,
    next: u32,
    max: u32,
    overflow: bool,
}

impl Regs {
    pub(crate) fn new(locals: u32, cells: u32) -> Regs {
        let (kept, spilled, first_cell) = if locals + cells <= KEEP {
            (locals, 0, locals)
        } else {
            let kept = KEEP.saturating_sub(cells + 1).min(locals);
            (kept, locals - kept, kept + 1)
        };
        let first_temp = first_cell + cells;
        let overflow = first_temp > LIMIT || spilled > MAX_SPILLED;
        Regs { kept, spilled, first_cell, first_temp, next: first_temp, max: first_temp, overflow }
    }

    /// The register of a resolver `Local(i)` slot; `None` when it spilled.
    pub(crate) fn local_reg(&self, i: u32) -> Option<Reg> {
        (i < self.kept).then_some(i as Reg)
    }

    /// The register of a resolver `Local(i)` slot that is known to be kept
    /// in a register (parameters, loop counters).
    pub(crate) fn local(&self, i: u32) -> Reg {
        i.min(LIMIT) as Reg
    }

    /// For a spilled `Local(i)`: the spill array's register and the index.
    pub(crate) fn spill_slot(&self, i: u32) -> Option<(Reg, u8)> {
        (i >= self.kept && self.spilled > 0).then(|| (self.kept as Reg, (i - self.kept).min(255) as u8))
    }

    /// The spill array's register and length, when the function has one.
    pub(crate) fn spill_array(&self) -> Option<(Reg, u32)> {
        (self.spilled > 0).then_some((self.kept as Reg, self.spilled))
    }

    /// Locals kept in registers (parameters must be among them).
    pub(crate) fn kept(&self) -> u32 {
        self.kept
    }

    /// The register holding the cell of a resolver `Cell(c)` slot.
    pub(crate) fn cell(&self, c: u32) -> Reg {
        (self.first_cell + c).min(LIMIT) as Reg
    }

    /// A fresh temporary.
    pub(crate) fn temp(&mut self) -> Reg {
        self.temps(1)
    }

    /// `n` consecutive temporaries; returns the first.
    pub(crate) fn temps(&mut self, n: u32) -> Reg {
        let first = self.next;
        self.next += n;
        if self.next > LIMIT {
            self.overflow = true;
            self.next = first;
            return LIMIT as Reg;
        }
        self.max = self.max.max(self.next);
        first as Reg
    }

    /// Whether `r` is the most recently allocated temporary (a call window
    /// may then start at it).
    pub(crate) fn is_top_temp(&self, r: super::Reg) -> bool {
        r as u32 >= self.first_temp && r as u32 + 1 == self.next
    }

    /// The current allocation point, to release everything above it later.
    pub(crate) fn mark(&self) -> u32 {
        self.next
    }

    pub(crate) fn release(&mut self, mark: u32) {
        self.next = mark.max(self.first_temp);
    }

    pub(crate) fn max_used(&self) -> u32 {
        self.max + 1
    }

    pub(crate) fn overflowed(&self) -> bool {
        self.overflow
    }
}
