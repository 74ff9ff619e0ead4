//! The interpreter's side of the native-function interface.

use std::task::Waker;

use super::Interp;
use crate::builtins::NativeCx;
use crate::error::{Ctrl, EvalResult};
use crate::message::Message;
use crate::value::Value;

impl NativeCx for Interp<'_> {
    fn call(&mut self, f: &Value, args: Vec<Value>) -> EvalResult {
        let span = self.native_span;
        self.call_function(f, args, span)
    }

    fn wait(&mut self, reason: scheduler::WaitReason) -> Result<(), Ctrl> {
        self.host.suspend(Some(reason));
        self.check_cancelled()
    }

    fn waker(&self) -> Waker {
        self.host.task().waker()
    }

    fn runtime(&self) -> &scheduler::Runtime {
        self.host.runtime()
    }

    fn location(&self) -> Option<scheduler::Site> {
        Some(self.program.sources.site(self.native_span))
    }

    fn has_method(&self, value: &Value, name: &str) -> bool {
        self.answers(value, name)
    }

    fn program_args(&self) -> Vec<String> {
        self.program.args.clone()
    }

    fn check_cancelled(&self) -> Result<(), Ctrl> {
        if self.host.task().is_cancelled() {
            Err(Ctrl::cancelled())
        } else {
            Ok(())
        }
    }

    fn adopt(&mut self, m: Message) -> Value {
        self.state.has_cells |= m.has_cells();
        m.into_value()
    }

    fn adopt_shared(&mut self, m: &Message) -> Value {
        self.state.has_cells |= m.has_cells();
        m.share()
    }
}
