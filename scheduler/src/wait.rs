//! What a blocked task waits on. Shown in deadlock reports and task dumps.

use std::fmt;
use std::sync::Arc;

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
        }
    }
}

/// A wait kind and, when known, the source location of the blocking call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitReason {
    pub kind: WaitKind,
    pub at: Option<Arc<str>>,
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
