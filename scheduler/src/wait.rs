//! What a blocked task waits on (`WaitKind`, `WaitReason`) and where it
//! waits (`Site`). Shown in deadlock reports and task dumps.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitKind {
    /// `receive` on an empty channel.
    ChannelRecv,
    /// `send` on a full channel.
    ChannelSend,
    /// `select` over several channels.
    Select,
    /// `await` of an unfinished task.
    Join,
    /// A `squad` waiting for its members.
    Squad,
    /// `wait` / `time.sleep`.
    Sleep,
    /// A job on the blocking pool, and what it does.
    Blocking(&'static BlockingWork),
}

/// What a job on the blocking pool does (`file I/O`), named once in a
/// constant so that a wait reason holds one pointer to it: every task's
/// scheduler cell keeps a wait reason, and a parked task's size is counted
/// in words.
#[derive(Debug, PartialEq, Eq)]
pub struct BlockingWork(pub &'static str);

impl fmt::Display for BlockingWork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl WaitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WaitKind::ChannelRecv => "receive",
            WaitKind::ChannelSend => "send",
            WaitKind::Select => "select",
            WaitKind::Join => "await",
            WaitKind::Squad => "squad",
            WaitKind::Sleep => "sleep",
            WaitKind::Blocking(what) => what.0,
        }
    }
}

/// Turns a compact source position into text. Tasks block far more often
/// than anyone reads a report, so a wait records a `Site` (two words, no
/// allocation) and the text is made only for deadlock reports and dumps.
pub trait SiteNames: Send + Sync {
    fn describe(&self, pos: u64) -> String;
}

/// Where a task blocked: a position that `names` can describe.
#[derive(Clone, Copy)]
pub struct Site {
    names: &'static dyn SiteNames,
    pos: u64,
}

impl Site {
    pub fn new(names: &'static dyn SiteNames, pos: u64) -> Site {
        Site { names, pos }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names.describe(self.pos))
    }
}

impl fmt::Debug for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Site({self})")
    }
}

impl PartialEq for Site {
    fn eq(&self, other: &Site) -> bool {
        self.pos == other.pos && std::ptr::addr_eq(self.names, other.names)
    }
}

impl Eq for Site {}

/// A wait kind and, when known, the source location of the blocking call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitReason {
    pub kind: WaitKind,
    pub at: Option<Site>,
}

impl WaitReason {
    pub fn new(kind: WaitKind) -> WaitReason {
        WaitReason { kind, at: None }
    }
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.as_str())?;
        if let Some(at) = &self.at {
            write!(f, " at {at}")?;
        }
        Ok(())
    }
}
