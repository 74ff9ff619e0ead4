//! Telemetry for every Forge crate: the names of targets, events and fields
//! (`names`), and the one place that installs a `tracing` subscriber
//! (`subscriber`).
//!
//! This crate owns names and output format only. It must not depend on any
//! other Forge crate: the scheduler and the runtime both emit through it.
#![forbid(unsafe_code)]

pub mod names;
pub mod subscriber;

pub use subscriber::{init, LogFormat};
