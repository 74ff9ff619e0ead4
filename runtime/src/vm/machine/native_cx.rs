//! The VM's side of the native-function interface. Waiting is stackless:
//! `wait` answers `Unwind::Blocked` with why the task waits; the native
//! returns that error, the machine suspends the task with the call's `pc`
//! saved, and the native runs again when the task is woken.
//!
//! What a blocking call needs across those restarts is kept on the machine:
//! its deadline, its timer and its job on the blocking pool until the call
//! ends (`end_blocking_call`), its channel registrations until the restarted
//! call withdraws them (`forget_waiters`). A native running inside a
//! callback (`map`, `sort`, …) cannot suspend: its blocking job runs in
//! place, on the worker.

use std::task::Waker;
use std::time::{Duration, Instant};

use super::Machine;
use crate::builtins::{offload, Job, JobOutput, NativeCx};
use crate::error::{Ctrl, EvalResult, Unwind};
use crate::message::Message;
use crate::value::Value;

impl NativeCx for Machine {
    fn call(&mut self, f: &Value, args: Vec<Value>) -> EvalResult {
        let fv = self.import(f)?;
        let argv = self.import_all(&args)?;
        let out = self.callback(fv, &argv)?;
        self.export(out)
    }

    fn wait(&mut self, reason: scheduler::WaitReason) -> Result<(), Ctrl> {
        self.check_cancelled()?;
        Err(Ctrl::new(Unwind::Blocked(reason)))
    }

    fn waker(&self) -> Waker {
        match &self.link {
            Some(l) => l.waker.clone(),
            None => Waker::noop().clone(),
        }
    }

    fn runtime(&self) -> scheduler::Runtime {
        self.scheduler().expect("natives run inside a task")
    }

    fn location(&self) -> Option<scheduler::Site> {
        Some(self.run.vm.program.sources.site(self.span))
    }

    fn has_method(&self, value: &Value, name: &str) -> bool {
        match value {
            Value::Object(o) => {
                if o.fields.get(name).is_some_and(Value::is_callable) {
                    return true;
                }
                let Some(tag) = &o.tag else { return false };
                if self.types.method(tag, name).is_some() {
                    return true;
                }
                let Some(info) = self.types.structs.get(tag) else { return false };
                info.fields
                    .iter()
                    .filter(|f| f.embedded)
                    .any(|f| o.fields.get(&f.name).is_some_and(|inner| self.has_method(inner, name)))
            }
            Value::Enum(e) => self.types.method(&e.enum_name, name).is_some(),
            Value::Type(t) => self.types.method(&t.name, name).is_some(),
            _ => false,
        }
    }

    fn program_args(&self) -> Vec<String> {
        self.run.vm.program.args.clone()
    }

    fn check_cancelled(&self) -> Result<(), Ctrl> {
        match &self.link {
            Some(l) if l.task.is_cancelled() => Err(Ctrl::cancelled()),
            _ => Ok(()),
        }
    }

    fn adopt(&mut self, m: Message) -> Value {
        m.into_value()
    }

    fn adopt_shared(&mut self, m: &Message) -> Value {
        m.share()
    }

    fn remember_waiter(&mut self, ch: &crate::concurrency::ChannelRef, id: scheduler::channel::WaiterId) {
        self.rare.pending_waiters.push((ch.clone(), id));
    }

    fn forget_waiters(&mut self) -> Vec<crate::concurrency::ChannelRef> {
        let mut consumed = Vec::new();
        let natives = self.rare.written().map(|r| std::mem::take(&mut r.pending_waiters)).unwrap_or_default();
        for (ch, id) in self.chan_wait.take().into_iter().chain(natives) {
            if !ch.unregister(id) {
                consumed.push(ch);
            }
        }
        consumed
    }

    fn deadline(&mut self, d: Duration) -> Instant {
        *self.rare.pending_deadline.get_or_insert_with(|| Instant::now() + d)
    }

    fn call_timer(&mut self) -> &mut Option<scheduler::TimerKey> {
        &mut self.rare.pending_timer
    }

    fn offload(
        &mut self,
        what: &'static scheduler::BlockingWork,
        submit: &mut dyn FnMut() -> Result<Job, Ctrl>,
    ) -> Result<JobOutput, Ctrl> {
        if self.callbacks > 0 || self.link.is_none() {
            // No way to suspend here: run the job on this thread.
            return Ok(submit()?());
        }
        let job = match self.rare.written().and_then(|r| r.pending_job.take()) {
            Some(job) => job,
            None => {
                let job = submit()?;
                offload::submit_job(self, job)?
            }
        };
        match offload::poll(self, what, &job) {
            Ok(Some(out)) => Ok(out),
            Ok(None) => Err(Ctrl::runtime("internal error: the VM resumed a native in place")),
            Err(e) => {
                // Suspended: the restarted native finds its job here.
                self.rare.pending_job = Some(job);
                Err(e)
            }
        }
    }
}

impl Machine {
    /// The blocking call in progress has returned or failed: forget its
    /// deadline, disarm its timer, drop its job (a job still running ends
    /// on the pool, its output unread).
    #[inline]
    pub(crate) fn end_blocking_call(&mut self) {
        let pending = |r: &super::on_demand::Rare| {
            r.pending_deadline.is_some() || r.pending_timer.is_some() || r.pending_job.is_some()
        };
        if self.rare.get().is_some_and(pending) {
            self.drop_blocking_state();
        }
    }

    #[inline(never)]
    fn drop_blocking_state(&mut self) {
        let rare = &mut *self.rare;
        rare.pending_deadline = None;
        rare.pending_job = None;
        if let Some(t) = rare.pending_timer.take() {
            self.runtime().cancel_timer(t);
        }
    }
}
