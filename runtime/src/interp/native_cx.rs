//! The interpreter's side of the native-function interface. A native runs
//! on the task's coroutine, so waiting parks the coroutine in the middle of
//! the native, which resumes where it stopped: blocking jobs are waited for
//! in place, and a timer armed by a native is disarmed when the native
//! returns (`in_native`).

use std::task::Waker;

use super::Interp;
use crate::builtins::{Job, JobOutput, NativeCx};
use crate::error::{Ctrl, EvalResult};
use crate::message::Message;
use crate::syntax::span::Span;
use crate::value::Value;

impl Interp<'_> {
    /// Runs `f` as one native call at `span`: wait reasons and messages
    /// point at `span`, and a timer the call armed is disarmed when it
    /// returns. Nested calls (a callback's natives) have their own timers.
    pub(crate) fn in_native<R>(&mut self, span: Span, f: impl FnOnce(&mut Self) -> R) -> R {
        let saved_span = std::mem::replace(&mut self.native_span, span);
        let saved_timer = self.call_timer.take();
        let r = f(self);
        if let Some(t) = std::mem::replace(&mut self.call_timer, saved_timer) {
            self.host.runtime().cancel_timer(t);
        }
        self.native_span = saved_span;
        r
    }
}

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

    fn runtime(&self) -> scheduler::Runtime {
        self.host.runtime().clone()
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

    fn call_timer(&mut self) -> &mut Option<scheduler::TimerKey> {
        &mut self.call_timer
    }

    fn offload(
        &mut self,
        what: &'static scheduler::BlockingWork,
        submit: &mut dyn FnMut() -> Result<Job, Ctrl>,
    ) -> Result<JobOutput, Ctrl> {
        crate::builtins::offload::in_place(self, what, submit)
    }
}
