//! `spawn`, `await` and `squad` (FORGE.md §8).
//!
//! A spawned task gets detached copies of everything it can reach: the
//! spawned function with its captured cells, the arguments, and — when the
//! parent may hold closure cells in its globals or type registry — its
//! globals and registry. Otherwise the parent's copy-on-write globals are
//! shared as they are, an O(1) snapshot.
//!
//! A spawn fails in the spawning task, at the `spawn`, when the live-task
//! limit is reached or no stack can be mapped for the new task (the
//! kernel's limit on memory mappings allows about 32 000 task stacks).

use std::sync::Arc;

use scheduler::join::JoinPoll;
use scheduler::{JoinCell, WaitKind, WaitReason};

use super::coroutine::{Entry, InterpTask, Options};
use super::types::{FieldInfo, StructInfo, TypeRegistry};
use super::{Interp, TaskState};
use crate::builtins::registry;
use crate::concurrency::{spawn_refused, TaskHandle, TaskOutcome};
use crate::error::{Ctrl, EvalResult, ForgeError};
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use crate::value::detach::Detacher;
use crate::value::Value;

impl Interp<'_> {
    #[inline(never)]
    pub(crate) fn eval_spawn(&mut self, kind: &'static SpawnKind, in_squad: bool, span: Span) -> EvalResult {
        let (f, args) = match kind {
            SpawnKind::Block(def) => {
                let had_cells = self.state.has_cells;
                let f = self.make_closure(def);
                // The block's cells go to the child, not to this task's state.
                self.state.has_cells = had_cells;
                (f, Vec::new())
            }
            SpawnKind::Call(call) => self.prepare_spawn_call(call)?,
        };
        let handle = self.spawn_task(f, args, span)?;
        if in_squad {
            if let Some(members) = self.squads.last_mut() {
                members.push(handle.clone());
            }
        }
        Ok(Value::Task(handle))
    }

    /// Evaluates the callee and arguments of `spawn f(x)` / `spawn o.m(x)`
    /// in the spawning task.
    fn prepare_spawn_call(&mut self, call: &'static Expr) -> Result<(Value, Vec<Value>), Ctrl> {
        match &call.kind {
            ExprKind::Call { callee, args } => {
                let f = self.eval(callee)?;
                let args = args.iter().map(|a| self.eval(a)).collect::<Result<Vec<_>, _>>()?;
                Ok((f, args))
            }
            ExprKind::MethodCall { recv, name, args, place } => {
                let r = match place {
                    Some(p) => self.eval_place_value(p)?,
                    None => self.eval(recv)?,
                };
                let mut argv = args.iter().map(|a| self.eval(a)).collect::<Result<Vec<_>, _>>()?;
                if let Some((f, receiver)) = self.find_method(&r, name) {
                    if let Some(rv) = receiver {
                        argv.insert(0, rv);
                    }
                    return Ok((f, argv));
                }
                match registry().method(name) {
                    Some(native) => {
                        argv.insert(0, r);
                        Ok((Value::Builtin(native), argv))
                    }
                    None => Err(super::call::no_method(&r, name).at(call.span)),
                }
            }
            _ => Err(Ctrl::runtime("spawn needs a block or a call").at(call.span)),
        }
    }

    fn eval_place_value(&mut self, p: &'static Place) -> EvalResult {
        let mut v = self.read_var(&p.root)?;
        for seg in &p.path {
            v = match seg {
                PathSeg::Field(n) => self.field(&v, n)?,
                PathSeg::Index(e) => {
                    let i = self.eval(e)?;
                    self.index(&v, &i)?
                }
            };
        }
        Ok(v)
    }

    /// Starts `f(args)` as a new task with a detached snapshot of this task.
    pub(crate) fn spawn_task(&mut self, f: Value, args: Vec<Value>, span: Span) -> Result<Arc<TaskHandle>, Ctrl> {
        let mut d = Detacher::new();
        let f = d.detach(&f);
        let args: Vec<Value> = args.iter().map(|a| d.detach(a)).collect();
        let state = if self.state.has_cells {
            TaskState {
                globals: Arc::new(self.state.globals.iter().map(|g| g.as_ref().map(|v| d.detach(v))).collect()),
                types: Arc::new(detach_types(&self.state.types, &mut d)),
                has_cells: true,
            }
        } else {
            TaskState {
                globals: self.state.globals.clone(),
                types: self.state.types.clone(),
                has_cells: d.created_cells(),
            }
        };
        let result: JoinCell<TaskOutcome> = JoinCell::new();
        let runtime = self.host.runtime().clone();
        // Refuse before mapping a stack for a task that cannot start.
        if let Some(limit) = runtime.at_task_limit() {
            return Err(spawn_refused(limit).at(span));
        }
        let options = Options::from_limits(self.limits);
        let body = InterpTask::new(
            self.program,
            state,
            Entry::Call { f, args, span },
            result.clone(),
            options,
            runtime.clone(),
            false,
        )
        .map_err(|e| {
            // Most often the kernel's limit on memory mappings (each task's
            // stack is one, with a guard page): say how many tasks are live.
            Ctrl::runtime(format!("cannot start a task ({} tasks live): {e}", runtime.live_tasks())).at(span)
        })?;
        let task = runtime.spawn(None, Box::new(body)).map_err(|limit| spawn_refused(limit).at(span))?;
        Ok(Arc::new(TaskHandle { task, result }))
    }

    fn wait_reason(&self, kind: WaitKind, span: Span) -> WaitReason {
        WaitReason { kind, at: Some(self.program.sources.site(span)) }
    }

    /// Parks until woken; cancellation surfaces here.
    pub(crate) fn park(&mut self, kind: WaitKind, span: Span) -> Result<(), Ctrl> {
        let reason = self.wait_reason(kind, span);
        self.host.suspend(Some(reason));
        if self.host.task().is_cancelled() {
            return Err(Ctrl::cancelled());
        }
        Ok(())
    }

    /// `await v`: a task's result; any other value passes through.
    #[inline(never)]
    pub(crate) fn await_value(&mut self, v: Value, span: Span) -> EvalResult {
        let Value::Task(h) = v else { return Ok(v) };
        let waker = self.host.task().waker();
        loop {
            match h.result.poll(&waker) {
                JoinPoll::Ready(outcome) => return self.outcome_value(h.id(), &outcome).map_err(|c| c.at(span)),
                JoinPoll::Pending(_) => self.park(WaitKind::Join, span)?,
            }
        }
    }

    /// The value of task `id`'s outcome, or `task failed: …` if it failed.
    pub(crate) fn outcome_value(&mut self, id: scheduler::TaskId, outcome: &TaskOutcome) -> EvalResult {
        match outcome {
            Ok(m) => {
                self.state.has_cells |= m.has_cells();
                Ok(m.share())
            }
            Err(e) => Err(Ctrl::from_error(ForgeError::task_failed(id, e))),
        }
    }

    /// `squad { … }`: waits for every member; the first failure cancels the
    /// others and fails the squad.
    #[inline(never)]
    pub(crate) fn eval_squad(&mut self, b: &'static Block, span: Span) -> EvalResult {
        self.squads.push(Vec::new());
        let r = self.exec_block(b);
        let members = self.squads.pop().unwrap_or_default();
        if let Err(e) = r {
            members.iter().for_each(|m| m.task.cancel());
            return Err(e);
        }
        let waker = self.host.task().waker();
        let mut registered = vec![false; members.len()];
        loop {
            let mut pending = false;
            for (i, m) in members.iter().enumerate() {
                let outcome = if registered[i] {
                    m.result.try_get()
                } else {
                    match m.result.poll(&waker) {
                        JoinPoll::Ready(o) => Some(o),
                        JoinPoll::Pending(_) => {
                            registered[i] = true;
                            None
                        }
                    }
                };
                match outcome {
                    Some(Err(e)) => {
                        members.iter().for_each(|m| m.task.cancel());
                        return Err(Ctrl::from_error(ForgeError::task_failed(m.id(), &e)).at(span));
                    }
                    Some(Ok(_)) => {}
                    None => pending = true,
                }
            }
            if !pending {
                break;
            }
            if let Err(e) = self.park(WaitKind::Squad, span) {
                members.iter().for_each(|m| m.task.cancel());
                return Err(e);
            }
        }
        let mut results = Vec::with_capacity(members.len());
        for m in &members {
            let outcome = m.result.try_get().expect("every member finished");
            results.push(self.outcome_value(m.id(), &outcome)?);
        }
        Ok(Value::array(results))
    }
}

impl Options {
    /// The options a spawned task inherits from its parent's limits.
    pub(crate) fn from_limits(limits: super::Limits) -> Options {
        let mut o = Options::from_env();
        o.max_depth = limits.max_depth;
        o.budget = limits.budget;
        o
    }
}

/// A copy of the registry whose methods and defaults share no cells.
fn detach_types(types: &TypeRegistry, d: &mut Detacher) -> TypeRegistry {
    let mut out = types.clone();
    for methods in out.methods.values_mut() {
        for (_, f) in methods.iter_mut() {
            *f = d.detach(f);
        }
    }
    for info in out.structs.values_mut() {
        let fields = info
            .fields
            .iter()
            .map(|f| FieldInfo {
                name: f.name.clone(),
                default: f.default.as_ref().map(|v| d.detach(v)),
                embedded: f.embedded,
            })
            .collect();
        *info = Arc::new(StructInfo { name: info.name.clone(), fields });
    }
    out
}
