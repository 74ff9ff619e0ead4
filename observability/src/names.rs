//! Stable telemetry names. Every `tracing` target, event name and field name
//! used by Forge is written here once, so dashboards and filters
//! (`FORGE_LOG=forge::sched=debug`) keep working when code moves.
//!
//! Field names are dotted, the way tokio names them (`task.id`).

/// Scheduler events: spawn, park, wake, steal, budget yield, deadlock.
pub const SCHED: &str = "forge::sched";
/// Garbage-collector events (one per collection, from the VM tier).
pub const GC: &str = "forge::gc";
/// JIT events: compiled, rejected (with reason).
pub const JIT: &str = "forge::jit";
/// `forge serve` events: requests, shutdown.
pub const SERVE: &str = "forge::serve";
/// Runtime events that belong to no other target (task failures, imports).
pub const RUNTIME: &str = "forge::runtime";

/// Event names, carried in the `event` field so JSON consumers can match on them.
pub mod event {
    pub const SPAWN: &str = "task.spawn";
    pub const PARK: &str = "task.park";
    pub const WAKE: &str = "task.wake";
    pub const FINISH: &str = "task.finish";
    pub const BUDGET_YIELD: &str = "task.budget_yield";
    pub const STEAL: &str = "task.steal";
    pub const DEADLOCK: &str = "sched.deadlock";
    pub const WORKER_START: &str = "worker.start";
    pub const TASK_FAILED: &str = "task.failed";
    pub const GC_COLLECT: &str = "gc.collect";
}

/// Field names.
pub mod field {
    pub const TASK_ID: &str = "task.id";
    pub const WAIT_REASON: &str = "task.wait";
    pub const WORKER: &str = "worker.index";
}
