//! The program's stdout: one buffered writer shared by every task, so each
//! `print` call is written atomically. Flushed at exit, before reading
//! stdin, and after every call when stdout is a terminal.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use parking_lot::Mutex;

struct Out {
    buf: Vec<u8>,
    tty: bool,
    failed: bool,
}

fn out() -> &'static Mutex<Out> {
    static OUT: OnceLock<Mutex<Out>> = OnceLock::new();
    OUT.get_or_init(|| {
        Mutex::new(Out { buf: Vec::with_capacity(8192), tty: std::io::stdout().is_terminal(), failed: false })
    })
}

/// Writes `text` to stdout as one unit.
pub fn write(text: &str) {
    let mut o = out().lock();
    o.buf.extend_from_slice(text.as_bytes());
    if o.tty || o.buf.len() >= 64 * 1024 {
        flush_locked(&mut o);
    }
}

fn flush_locked(o: &mut Out) {
    if o.buf.is_empty() || o.failed {
        o.buf.clear();
        return;
    }
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`forge run x | head`) is not an error worth a crash.
    if stdout.write_all(&o.buf).and_then(|_| stdout.flush()).is_err() {
        o.failed = true;
    }
    o.buf.clear();
}

/// Writes everything buffered so far.
pub fn flush() {
    flush_locked(&mut out().lock());
}
