//! A `NativeCx` for unit tests of built-ins: calls built-in callbacks, has
//! no scheduler tasks, and never waits (blocking jobs run in place).

use std::task::Waker;

use super::{NativeCx, NativeFn, NativeImpl};
use crate::error::{Ctrl, EvalResult};
use crate::value::Value;

pub struct TestCx {
    runtime: scheduler::Runtime,
    /// Stays empty: `arm_timer` is overridden (nothing here waits).
    timer: Option<scheduler::TimerKey>,
}

impl Default for TestCx {
    fn default() -> Self {
        TestCx {
            runtime: scheduler::Runtime::new(scheduler::RuntimeConfig { workers: 1, ..Default::default() }),
            timer: None,
        }
    }
}

impl NativeCx for TestCx {
    fn call(&mut self, f: &Value, mut args: Vec<Value>) -> EvalResult {
        match f {
            Value::Builtin(n) => n.call(self, &mut args),
            other => Err(Ctrl::runtime(format!("TestCx cannot call {}", other.type_name()))),
        }
    }
    fn wait(&mut self, _reason: scheduler::WaitReason) -> Result<(), Ctrl> {
        Err(Ctrl::runtime("TestCx cannot wait"))
    }
    fn waker(&self) -> Waker {
        Waker::noop().clone()
    }
    fn runtime(&self) -> scheduler::Runtime {
        self.runtime.clone()
    }
    fn location(&self) -> Option<scheduler::Site> {
        None
    }
    fn has_method(&self, _value: &Value, _name: &str) -> bool {
        false
    }
    fn program_args(&self) -> Vec<String> {
        Vec::new()
    }
    fn check_cancelled(&self) -> Result<(), Ctrl> {
        Ok(())
    }
    fn adopt(&mut self, m: crate::message::Message) -> Value {
        m.into_value()
    }
    fn adopt_shared(&mut self, m: &crate::message::Message) -> Value {
        m.share()
    }
    fn arm_timer(&mut self, _deadline: std::time::Instant) -> Result<(), Ctrl> {
        // Nothing here waits, so a timer would wake nothing.
        Ok(())
    }
    fn call_timer(&mut self) -> &mut Option<scheduler::TimerKey> {
        &mut self.timer
    }
    fn offload(
        &mut self,
        _what: &'static scheduler::BlockingWork,
        submit: &mut dyn FnMut() -> Result<super::Job, Ctrl>,
    ) -> Result<super::JobOutput, Ctrl> {
        Ok(submit()?())
    }
}

/// A callback value made from a plain function, for `map`/`filter` tests.
pub fn callback(f: NativeImpl) -> Value {
    Value::Builtin(Box::leak(Box::new(NativeFn { name: "callback", min_args: 0, max_args: usize::MAX, func: f })))
}

/// Calls the global built-in `name` with `args`.
pub fn call(name: &str, args: Vec<Value>) -> EvalResult {
    let native = super::registry().native(name).unwrap_or_else(|| panic!("no built-in {name}"));
    let mut args = args;
    native.call(&mut TestCx::default(), &mut args)
}

/// Calls the member `name` of module `module` (`math`, `sqrt`).
pub fn call_module(module: &str, name: &str, args: Vec<Value>) -> EvalResult {
    let reg = super::registry();
    let Some(Value::Object(m)) = reg.lookup(module).map(|i| reg.value(i).clone()) else { panic!("no module {module}") };
    let Some(Value::Builtin(native)) = m.fields.get(name) else { panic!("no {module}.{name}") };
    let mut args = args;
    native.call(&mut TestCx::default(), &mut args)
}

/// The display form of a result, or `error: MESSAGE`.
pub fn show(r: EvalResult) -> String {
    match r {
        Ok(v) => crate::value::display::display(&v),
        Err(c) => match c.as_error() {
            Some(e) => format!("error: {}", e.message),
            None => format!("{c:?}"),
        },
    }
}
