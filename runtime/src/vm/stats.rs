//! Totals over every VM task of a run, for `forge run --stats`. Each task
//! adds its figures once, when it finishes; nothing here is read while
//! tasks run, so relaxed atomics are enough.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::gc::HeapStats;

#[derive(Default, Debug)]
pub struct VmStats {
    tasks: AtomicU64,
    instructions: AtomicU64,
    collections: AtomicU64,
    total_pause_ns: AtomicU64,
    max_pause_ns: AtomicU64,
    /// The largest peak heap of any one task (each task has its own heap).
    peak_heap: AtomicU64,
    allocations: AtomicU64,
}

impl VmStats {
    /// Adds one finished task's figures.
    pub fn record(&self, heap: &HeapStats, instructions: u64) {
        self.tasks.fetch_add(1, Relaxed);
        self.instructions.fetch_add(instructions, Relaxed);
        self.collections.fetch_add(heap.collections, Relaxed);
        self.total_pause_ns.fetch_add(heap.total_pause_ns, Relaxed);
        self.max_pause_ns.fetch_max(heap.max_pause_ns, Relaxed);
        self.peak_heap.fetch_max(heap.peak_bytes as u64, Relaxed);
        self.allocations.fetch_add(heap.allocations, Relaxed);
    }

    pub fn instructions(&self) -> u64 {
        self.instructions.load(Relaxed)
    }

    pub fn collections(&self) -> u64 {
        self.collections.load(Relaxed)
    }

    pub fn max_pause(&self) -> Duration {
        Duration::from_nanos(self.max_pause_ns.load(Relaxed))
    }

    pub fn peak_heap(&self) -> u64 {
        self.peak_heap.load(Relaxed)
    }

    /// The report `--stats` prints on stderr.
    pub fn render(&self) -> String {
        let ms = |ns: u64| ns as f64 / 1e6;
        let mut out = String::from("forge stats (vm):\n");
        let rows: [(&str, String); 7] = [
            ("tasks finished", self.tasks.load(Relaxed).to_string()),
            ("instructions executed", self.instructions().to_string()),
            ("objects allocated", self.allocations.load(Relaxed).to_string()),
            ("gc collections", self.collections().to_string()),
            ("gc pause total", format!("{:.3} ms", ms(self.total_pause_ns.load(Relaxed)))),
            ("gc pause max", format!("{:.3} ms", ms(self.max_pause_ns.load(Relaxed)))),
            ("peak heap", format!("{} (largest task)", human_bytes(self.peak_heap()))),
        ];
        for (name, value) in rows {
            let _ = writeln!(out, "  {:<22} {value}", format!("{name}:"));
        }
        out
    }
}

fn human_bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_and_maxima_take_the_largest() {
        let s = VmStats::default();
        let mut h = HeapStats { collections: 2, peak_bytes: 3 << 20, allocations: 10, ..Default::default() };
        h.total_pause_ns = 300_000;
        h.max_pause_ns = 200_000;
        s.record(&h, 1000);
        h.max_pause_ns = 50_000;
        h.peak_bytes = 1 << 20;
        s.record(&h, 500);
        assert_eq!(s.instructions(), 1500);
        assert_eq!(s.collections(), 4);
        assert_eq!(s.max_pause(), Duration::from_micros(200));
        assert_eq!(s.peak_heap(), 3 << 20);
        let text = s.render();
        assert!(text.contains("gc pause total:        0.600 ms"), "{text}");
        assert!(text.contains("3.0 MiB (largest task)"), "{text}");
    }
}
