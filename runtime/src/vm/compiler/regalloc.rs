//! Register layout of a frame: locals, then cells, then temporaries
//! allocated and released in stack order.

use super::Reg;

/// The highest register a frame may use (leaves room for call windows).
const LIMIT: u32 = 250;

pub(crate) struct Regs {
    locals: u32,
    first_temp: u32,
    next: u32,
    max: u32,
    overflow: bool,
}

impl Regs {
    pub(crate) fn new(locals: u32, cells: u32) -> Regs {
        let first_temp = locals + cells;
        Regs { locals, first_temp, next: first_temp, max: first_temp, overflow: first_temp > LIMIT }
    }

    /// The register of a resolver `Local(i)` slot.
    pub(crate) fn local(&self, i: u32) -> Reg {
        i.min(LIMIT) as Reg
    }

    /// The register holding the cell of a resolver `Cell(c)` slot.
    pub(crate) fn cell(&self, c: u32) -> Reg {
        (self.locals + c).min(LIMIT) as Reg
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
