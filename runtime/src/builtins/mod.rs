//! Built-in functions and the one native-function interface every tier
//! uses (FORGE.md §9, §10).
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | `NativeFn`, `NativeCx`, the table of built-in names |
//! | `args.rs` | argument checks with the messages of FORGE.md §7.2 |
//! | `core.rs` | output, conversions, `len`, `typeof`, assertions, `exit` |
//! | `results.rs` | `Ok`/`Err`/`Some`/`None` and their helpers |
//! | `array.rs` | array functions |
//! | `string.rs` | string functions |
//! | `object.rs` | object functions |
//! | `concurrency.rs` | channels, `select`, `await_all`, `await_timeout`, `wait` |
//! | `offload.rs` | running a native's blocking work (files, stdin) on the blocking pool |
//!
//! A native is `fn(&mut dyn NativeCx, &mut [Value]) -> EvalResult`. It may
//! take ownership of its arguments (`std::mem::take`), so `push` on a place
//! appends in place when the array is not shared. A native never blocks the
//! worker: to wait it registers `cx.waker()` with what it waits on and calls
//! `cx.wait(reason)`, then re-checks (the interpreter parks its coroutine;
//! the VM answers `Unwind::Blocked` and re-runs the native later, so natives
//! must be safe to restart up to their wait). A native that waits for a
//! deadline arms a timer with `cx.arm_timer`, and one that must block the
//! thread (file system calls, reading stdin) hands that work to the
//! scheduler's blocking pool with `offload::run`; the tier keeps the timer
//! or the job across restarts and drops it when the call ends.

pub mod args;
pub mod array;
pub mod concurrency;
pub mod core;
pub mod object;
pub mod offload;
pub mod results;
pub mod string;
#[cfg(test)]
pub mod testing;

use std::any::Any;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::task::Waker;

use arcstr::ArcStr;

use crate::error::{Ctrl, EvalResult};
use crate::value::{Map, Value};

/// The signature of every built-in.
pub type NativeImpl = fn(&mut dyn NativeCx, &mut [Value]) -> EvalResult;

/// What a blocking job gives back: plain data made on a pool thread (never
/// a `Value`), turned into values by the native on its task.
pub type JobOutput = Box<dyn Any + Send>;

/// A blocking job, run on the scheduler's blocking pool.
pub type Job = Box<dyn FnOnce() -> JobOutput + Send>;

/// A built-in function: its name (as shown in messages: `len`,
/// `math.sqrt`), its arity and its code.
pub struct NativeFn {
    pub name: &'static str,
    pub min_args: usize,
    /// `usize::MAX` for variadic functions (`print`).
    pub max_args: usize,
    pub func: NativeImpl,
}

impl std::fmt::Debug for NativeFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<builtin {}>", self.name)
    }
}

impl NativeFn {
    /// Checks the argument count, then runs the function.
    pub fn call(&self, cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
        if args.len() < self.min_args || args.len() > self.max_args {
            return Err(crate::error::msg::arity(self.name, self.min_args, self.max_args, args.len()));
        }
        (self.func)(cx, args)
    }
}

/// What a native may ask of the tier running it.
pub trait NativeCx {
    /// Calls a Forge function value (callbacks of `map`, `sort`, …).
    fn call(&mut self, f: &Value, args: Vec<Value>) -> EvalResult;
    /// Parks the task until its waker is woken (see module docs).
    fn wait(&mut self, reason: scheduler::WaitReason) -> Result<(), Ctrl>;
    /// The current task's waker.
    fn waker(&self) -> Waker;
    /// The scheduler (timers, blocking jobs). Owned: a VM task keeps no
    /// reference of its own, it reaches the runtime through its task.
    fn runtime(&self) -> scheduler::Runtime;
    /// `file:line:col` of the call being run, for wait reasons.
    fn location(&self) -> Option<scheduler::Site>;
    /// Whether `value` answers method `name` (for `satisfies`).
    fn has_method(&self, value: &Value, name: &str) -> bool;
    /// The program's command-line arguments (`io.args()`).
    fn program_args(&self) -> Vec<String>;
    /// Errors with `Ctrl::Cancelled` once the task was cancelled.
    fn check_cancelled(&self) -> Result<(), Ctrl>;
    /// The value of a message received once (a channel message).
    fn adopt(&mut self, m: crate::message::Message) -> Value;
    /// The value of a message several receivers read (a task's result).
    fn adopt_shared(&mut self, m: &crate::message::Message) -> Value;
    /// Keeps a channel registration in place while the task is suspended
    /// (a tier that restarts natives after a wait must withdraw it on the
    /// restart, see `forget_waiters`).
    fn remember_waiter(&mut self, _ch: &crate::concurrency::ChannelRef, _id: scheduler::channel::WaiterId) {}
    /// Withdraws the registrations remembered by the previous attempt of the
    /// blocking call in progress; returns the channels whose registration had
    /// already fired (a wake-up this task consumed).
    fn forget_waiters(&mut self) -> Vec<crate::concurrency::ChannelRef> {
        Vec::new()
    }
    /// The deadline `d` from now for the blocking call in progress. A tier
    /// that restarts natives after a wait (the VM) returns the same deadline
    /// on every restart of the same call.
    fn deadline(&mut self, d: std::time::Duration) -> std::time::Instant {
        std::time::Instant::now() + d
    }
    /// Arms a timer that wakes this task at `deadline`, for the blocking
    /// call in progress; while it is armed, arming again (the same call
    /// after a wake-up, or its restart on the VM) keeps it. The tier
    /// disarms it when the call returns or fails — not when it blocks.
    fn arm_timer(&mut self, deadline: std::time::Instant) -> Result<(), Ctrl> {
        if self.call_timer().is_none() {
            let key = self.runtime().timer(deadline, self.waker()).map_err(concurrency::timer_error)?;
            *self.call_timer() = Some(key);
        }
        Ok(())
    }
    /// Where the tier keeps the timer of the blocking call in progress.
    fn call_timer(&mut self) -> &mut Option<scheduler::TimerKey>;
    /// Runs blocking work off the worker: `submit` makes the job (it is
    /// called once per call, not again when the VM restarts the native), the
    /// task waits on `what` (shown in deadlock reports and task dumps) until
    /// the job has ended, and its output is returned, once. One job per
    /// native call. Natives use the typed [`offload::run`].
    fn offload(
        &mut self,
        what: &'static scheduler::BlockingWork,
        submit: &mut dyn FnMut() -> Result<Job, Ctrl>,
    ) -> Result<JobOutput, Ctrl>;
}

/// A built-in name: a function, a module object or a constant.
pub enum Builtin {
    Func(&'static NativeFn),
    Value(Value),
}

/// The table of built-in names, built once per process.
pub struct Registry {
    names: HashMap<&'static str, u32>,
    values: Vec<Value>,
    methods: HashMap<&'static str, &'static NativeFn>,
    module_names: Vec<&'static str>,
}

/// Adds built-ins to the registry under construction.
pub struct Builder {
    reg: Registry,
}

fn leak(name: &'static str, min_args: usize, max_args: usize, func: NativeImpl) -> &'static NativeFn {
    Box::leak(Box::new(NativeFn { name, min_args, max_args, func }))
}

impl Builder {
    /// A global function `name(…)`.
    pub fn func(&mut self, name: &'static str, min: usize, max: usize, f: NativeImpl) -> &'static NativeFn {
        let native = leak(name, min, max, f);
        self.value(name, Value::Builtin(native));
        native
    }

    /// A global function also callable as `first_arg.name(…)` ("m" in §9).
    pub fn method(&mut self, name: &'static str, min: usize, max: usize, f: NativeImpl) {
        let native = self.func(name, min, max, f);
        self.reg.methods.insert(name, native);
    }

    /// Callable only as a method (`s.chars()`).
    pub fn method_only(&mut self, name: &'static str, min: usize, max: usize, f: NativeImpl) {
        self.reg.methods.insert(name, leak(name, min, max, f));
    }

    /// A global constant (`None`).
    pub fn value(&mut self, name: &'static str, v: Value) {
        let idx = self.reg.values.len() as u32;
        self.reg.values.push(v);
        self.reg.names.insert(name, idx);
    }

    /// A module object (`math`, `json`, …); `build` adds its members.
    pub fn module(&mut self, name: &'static str, build: impl FnOnce(&mut ModuleBuilder)) {
        let mut m = ModuleBuilder { prefix: name, fields: Map::default() };
        build(&mut m);
        self.reg.module_names.push(name);
        self.value(name, Value::object(m.fields));
    }
}

/// Adds members to a module object.
pub struct ModuleBuilder {
    prefix: &'static str,
    fields: Map,
}

impl ModuleBuilder {
    /// `module.name(…)`; the native names itself `module.name` in messages.
    pub fn func(&mut self, name: &'static str, min: usize, max: usize, f: NativeImpl) {
        let full: &'static str = Box::leak(format!("{}.{name}", self.prefix).into_boxed_str());
        self.fields.insert(ArcStr::from(name), Value::Builtin(leak(full, min, max, f)));
    }

    /// A constant member (`math.pi`).
    pub fn value(&mut self, name: &'static str, v: Value) {
        self.fields.insert(ArcStr::from(name), v);
    }
}

/// The registry, built on first use.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut b = Builder {
            reg: Registry {
                names: HashMap::new(),
                values: Vec::new(),
                methods: HashMap::new(),
                module_names: Vec::new(),
            },
        };
        core::register(&mut b);
        results::register(&mut b);
        array::register(&mut b);
        string::register(&mut b);
        object::register(&mut b);
        concurrency::register(&mut b);
        crate::stdlib::register(&mut b);
        b.reg
    })
}

impl Registry {
    pub fn lookup(&self, name: &str) -> Option<u32> {
        self.names.get(name).copied()
    }

    pub fn value(&self, index: u32) -> &Value {
        &self.values[index as usize]
    }

    /// A built-in callable as a method (`xs.map(f)`).
    pub fn method(&self, name: &str) -> Option<&'static NativeFn> {
        self.methods.get(name).copied()
    }

    /// The native registered under a global name, if it is a function.
    pub fn native(&self, name: &str) -> Option<&'static NativeFn> {
        match self.lookup(name).map(|i| self.value(i)) {
            Some(Value::Builtin(n)) => Some(n),
            _ => None,
        }
    }

    pub fn is_module(&self, name: &str) -> bool {
        self.module_names.contains(&name)
    }
}

/// For the resolver: a built-in name's index.
pub fn lookup(name: &str) -> Option<u32> {
    registry().lookup(name)
}
