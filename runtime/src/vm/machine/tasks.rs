//! Tasks on the VM: spawning (with a snapshot of the parent's globals and
//! types copied into the child's own heap — only the globals some task can
//! reach, see `compiler::task_globals`), awaiting, squads, and the
//! scheduler task that resumes a `Machine`.
//!
//! A spawn can fail in the spawning task: `out of memory` when the new task
//! or a new snapshot does not fit under the spawner's heap limit (both are
//! charged to it while they live, see `gc/heap.rs`), or `cannot start a
//! task` at the live-task limit.

use std::sync::Arc;

use arcstr::ArcStr;
use scheduler::join::JoinPoll;
use scheduler::{JoinCell, RunResult, Task, TaskRef, WaitKind, WaitReason};

use super::cell_map::CellMap;
use super::convert::PlainClosure;
use super::types::{VmField, VmStruct};
use super::{Exit, Machine, TaskLink, VmRun};
use crate::concurrency::{spawn_refused, TaskHandle, TaskOutcome};
use crate::error::{Ctrl, ErrorKind, ForgeError, Unwind};
use crate::value::Value;
use crate::vm::gc::heap::{ArrayObj, HeapCharge, HeapObj, TaskCharge};
use crate::vm::value::{ObjRef, Val};

/// A struct's fields as a snapshot carries them: name, default, embedded.
type SnapshotFields = Vec<(ArcStr, Option<Value>, bool)>;

/// A parent's globals and types, copied out of its heap once per change and
/// shared by the children spawned until the next change.
pub struct Snapshot {
    globals: Vec<Option<Value>>,
    structs: Vec<(ArcStr, SnapshotFields)>,
    methods: Vec<(ArcStr, ArcStr, Value)>,
    interfaces: Vec<(ArcStr, Vec<ArcStr>)>,
    /// The copy's size, charged to the parent's heap limit while any child
    /// (or the parent's cache) holds the snapshot.
    _charge: HeapCharge,
}

/// What a VM task runs.
pub enum VmEntry {
    Main,
    Call {
        f: Value,
        args: Box<[Value]>,
        snapshot: Arc<Snapshot>,
    },
    /// A `spawn` block (a closure over plain values, no arguments).
    Block {
        block: PlainClosure,
        snapshot: Arc<Snapshot>,
    },
}

impl Machine {
    fn snapshot(&mut self) -> Result<Arc<Snapshot>, Ctrl> {
        if let Some((version, s)) = &self.rare.snapshot {
            if *version == self.globals_version {
                return Ok(s.clone());
            }
        }
        // Only the globals a task can touch are passed on (see
        // `compiler::task_globals`); the others are undefined in the child.
        let passed = |slot: usize| self.run.vm.task_globals.get(slot).copied().unwrap_or(true);
        let n = self.run.vm.program.globals.len();
        // Export every value with one exporter so shared cells stay shared.
        let mut vals: Vec<Val> = (0..n).filter(|slot| passed(*slot)).filter_map(|slot| self.global(slot)).collect();
        let n_globals = vals.len();
        // Globals this task inherited and never read are passed on as they came.
        let inherited: Vec<Option<Value>> = (0..n)
            .map(|slot| match self.global(slot) {
                None if passed(slot) => self.inherited_value(slot),
                _ => None,
            })
            .collect();
        for s in self.types.structs.values() {
            vals.extend(s.fields.iter().filter_map(|f| f.default));
        }
        for m in self.types.methods.values() {
            vals.extend(m.values().copied());
        }
        let exported = self.export_messages(&vals)?;
        let charge = self.heap.charge(exported.bytes)?;
        let mut it = exported.values.into_iter();
        let globals = (0..n)
            .zip(inherited)
            .map(|(slot, inherited)| match self.global(slot) {
                Some(_) if passed(slot) => Some(it.next().unwrap_or_default()),
                Some(_) => None,
                None => inherited,
            })
            .collect();
        debug_assert!(n_globals <= vals.len());
        let structs = self
            .types
            .structs
            .iter()
            .map(|(name, s)| {
                let fields = s
                    .fields
                    .iter()
                    .map(|f| (f.name.clone(), f.default.map(|_| it.next().unwrap_or_default()), f.embedded))
                    .collect();
                (name.clone(), fields)
            })
            .collect();
        let mut methods = Vec::new();
        for (t, m) in &self.types.methods {
            for name in m.keys() {
                methods.push((t.clone(), name.clone(), it.next().unwrap_or_default()));
            }
        }
        let interfaces = self.types.interfaces.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let snap = Arc::new(Snapshot { globals, structs, methods, interfaces, _charge: charge });
        self.rare.snapshot = Some((self.globals_version, snap.clone()));
        Ok(snap)
    }

    /// Starts `f(args)` as a new VM task.
    pub(crate) fn spawn(&mut self, f: Val, args: &[Val]) -> Result<Arc<TaskHandle>, Ctrl> {
        let snapshot = self.snapshot()?;
        let block = if args.is_empty() { self.export_spawn_block(f) } else { None };
        let entry = match block {
            Some(block) => VmEntry::Block { block, snapshot },
            None => {
                let (f, vals) = self.export_call(f, args)?;
                VmEntry::Call { f, args: vals.into_boxed_slice(), snapshot }
            }
        };
        let result: JoinCell<TaskOutcome> = JoinCell::new();
        let runtime = self.scheduler().ok_or_else(|| Ctrl::runtime("internal error: spawn outside a task"))?;
        let charge = self.heap.charge_task()?;
        let mut body = VmTask::new(self.run, entry, result.clone());
        body.charge = charge;
        let task = runtime.spawn(None, Box::new(body)).map_err(spawn_refused)?;
        Ok(Arc::new(TaskHandle { task, result }))
    }

    /// Takes over a parent's snapshot. Types are imported now; globals only
    /// when first read (`inherited_global`), so a task costs memory and time
    /// for the globals it uses, not for every global of the program.
    fn inherit(&mut self, s: Arc<Snapshot>) -> Result<(), Ctrl> {
        let mut values = Vec::new();
        for (_, fields) in &s.structs {
            values.extend(fields.iter().filter_map(|(_, d, _)| d.clone()));
        }
        values.extend(s.methods.iter().map(|(_, _, f)| f.clone()));
        let mut cells = self.take_inherited_cells();
        let imported: Result<Vec<Val>, Ctrl> = values.iter().map(|v| self.import_with(v, &mut cells)).collect();
        self.keep_inherited_cells(cells);
        let mut it = imported?.into_iter();
        for (name, fields) in &s.structs {
            let fields = fields
                .iter()
                .map(|(n, d, e)| VmField { name: n.clone(), default: d.as_ref().and_then(|_| it.next()), embedded: *e })
                .collect();
            self.types.structs.insert(name.clone(), VmStruct { fields });
        }
        for (t, name, _) in &s.methods {
            if let Some(f) = it.next() {
                self.types.methods.entry(t.clone()).or_default().insert(name.clone(), f);
            }
        }
        for (name, ms) in &s.interfaces {
            self.types.interfaces.insert(name.clone(), ms.clone());
        }
        self.inherited = Some(s);
        Ok(())
    }

    /// The parent's value of global `slot`, if this task inherited one and
    /// has not defined or read the global itself.
    fn inherited_value(&self, slot: usize) -> Option<Value> {
        if self.rare.disinherited.get(slot).copied().unwrap_or(false) {
            return None;
        }
        self.inherited.as_ref()?.globals.get(slot)?.clone()
    }

    /// Whether global `slot` is defined in the parent this task came from.
    pub(crate) fn is_inherited(&self, slot: usize) -> bool {
        !self.rare.disinherited.get(slot).copied().unwrap_or(false)
            && self.inherited.as_ref().is_some_and(|s| s.globals.get(slot).is_some_and(Option::is_some))
    }

    /// Reads an inherited global into this heap (first read of a global the
    /// task has not set). `Ok(None)`: the global is not defined.
    pub(crate) fn inherited_global(&mut self, slot: usize) -> Result<Option<Val>, Ctrl> {
        let Some(value) = self.inherited_value(slot) else { return Ok(None) };
        if let Some(v) = self.import_simple(&value)? {
            self.set_global(slot, Some(v));
            return Ok(Some(v));
        }
        let mut cells = self.take_inherited_cells();
        let v = self.import_container(&value, &mut cells);
        self.keep_inherited_cells(cells);
        let v = v?;
        self.set_global(slot, Some(v));
        Ok(Some(v))
    }

    fn take_inherited_cells(&mut self) -> CellMap<usize, ObjRef> {
        self.rare.written().map_or_else(CellMap::default, |r| std::mem::take(&mut r.inherited_cells))
    }

    /// Keeps the cells imported so far (only when there are any: most
    /// tasks inherit no closure with cells).
    fn keep_inherited_cells(&mut self, cells: CellMap<usize, ObjRef>) {
        if !cells.is_empty() {
            self.rare.inherited_cells = cells;
        }
    }

    /// A global reset by a module's `import`: undefined until the module
    /// defines it again, whatever the parent had.
    pub(crate) fn disinherit(&mut self, slot: usize) {
        if self.inherited.is_some() {
            let len = self.run.vm.program.globals.len().max(slot + 1);
            let disinherited = &mut self.rare.disinherited;
            if disinherited.len() <= slot {
                disinherited.resize(len, false);
            }
            disinherited[slot] = true;
        }
    }

    fn block(&mut self, kind: WaitKind) -> Ctrl {
        Ctrl::new(Unwind::Blocked(WaitReason { kind, at: Some(self.run.vm.program.sources.site(self.span)) }))
    }

    /// The value of task `id`'s outcome, or `task failed: …` if it failed.
    fn outcome(&mut self, id: scheduler::TaskId, o: &TaskOutcome) -> Result<Val, Ctrl> {
        match o {
            Ok(m) => self.import(&m.share()),
            Err(e) => Err(Ctrl::from_error(ForgeError::task_failed(id, e))),
        }
    }

    /// `await v`.
    pub(crate) fn await_value(&mut self, v: Val) -> Result<Val, Ctrl> {
        let h = match v {
            Val::Obj(r) => match self.heap.get(r) {
                HeapObj::Task(h) => h.clone(),
                _ => return Ok(v),
            },
            _ => return Ok(v),
        };
        let waker = self.link.as_ref().map(|l| l.task.waker()).ok_or_else(|| Ctrl::runtime("await outside a task"))?;
        match h.result.poll(&waker) {
            JoinPoll::Ready(o) => self.outcome(h.id(), &o),
            JoinPoll::Pending(_) => {
                if let Some(l) = &self.link {
                    if l.task.is_cancelled() {
                        return Err(Ctrl::cancelled());
                    }
                }
                Err(self.block(WaitKind::Join))
            }
        }
    }

    /// `SquadEnd`: waits for every member; the first failure cancels the
    /// others and fails the squad (FORGE.md §8).
    pub(crate) fn squad_end(&mut self) -> Result<Val, Ctrl> {
        let members = match self.rare.squads.last() {
            Some(s) => s.members.clone(),
            None => Vec::new(),
        };
        let waker = self.link.as_ref().map(|l| l.task.waker()).ok_or_else(|| Ctrl::runtime("squad outside a task"))?;
        let mut pending = false;
        for m in &members {
            match m.result.try_get() {
                Some(Err(e)) => {
                    members.iter().for_each(|m| m.task.cancel());
                    self.rare.squads.pop();
                    return Err(Ctrl::from_error(ForgeError::task_failed(m.id(), &e)));
                }
                Some(Ok(_)) => {}
                None => {
                    pending = true;
                    if let JoinPoll::Ready(_) = m.result.poll(&waker) {
                        pending = false;
                    }
                }
            }
        }
        if pending || members.iter().any(|m| !m.result.is_done()) {
            if let Some(l) = &self.link {
                if l.task.is_cancelled() {
                    members.iter().for_each(|m| m.task.cancel());
                    return Err(Ctrl::cancelled());
                }
            }
            return Err(self.block(WaitKind::Squad));
        }
        self.rare.squads.pop();
        let mut items = Vec::with_capacity(members.len());
        for m in &members {
            let o = m.result.try_get().expect("every member finished");
            items.push(self.outcome(m.id(), &o)?);
        }
        Ok(Val::Obj(self.heap.alloc(HeapObj::Array(ArrayObj { items, shared: false }))?))
    }
}

/// A scheduler task running a `Machine`.
pub struct VmTask {
    run: &'static VmRun,
    stage: Stage,
    result: JoinCell<TaskOutcome>,
    /// This task's charge against its spawner's heap limit, given back
    /// when it finishes (`gc/heap.rs`).
    charge: TaskCharge,
}

/// Where a task is in its life. A task spawned but not yet run holds
/// only what it will run: its machine is built on the first run.
enum Stage {
    Waiting(VmEntry),
    Running(Box<Machine>),
    Finished,
}

/// How the first run of a task went.
enum Start {
    /// Finished already (a native called by `spawn f(x)`).
    Done(TaskOutcome),
    /// Blocked in a native called by `spawn f(x)`.
    Blocked(WaitReason),
    /// Frames to run.
    Running,
}

impl VmTask {
    pub fn new(run: &'static VmRun, entry: VmEntry, result: JoinCell<TaskOutcome>) -> VmTask {
        VmTask { run, stage: Stage::Waiting(entry), result, charge: TaskCharge::default() }
    }

    /// Builds the machine on the first run and starts the entry.
    fn start(&mut self, me: &TaskRef, entry: VmEntry) -> Start {
        let mut m = Box::new(Machine::new(self.run));
        m.link = Some(TaskLink { task: me.clone(), waker: me.waker() });
        let mut argc = 0;
        let started = match entry {
            VmEntry::Main => {
                m.enter_main();
                Ok(None)
            }
            VmEntry::Call { f, args, snapshot } => (|| {
                m.inherit(snapshot)?;
                // Callee and arguments go straight into the call window
                // (allocation only, no safepoint: nothing to root meanwhile).
                let mut cells = CellMap::default();
                let callee = m.import_with(&f, &mut cells)?;
                m.regs.clear();
                m.regs.push(callee);
                for a in &args {
                    let v = m.import_with(a, &mut cells)?;
                    m.regs.push(v);
                }
                argc = args.len();
                enter_call(&mut m, argc)
            })(),
            VmEntry::Block { block, snapshot } => (|| {
                m.inherit(snapshot)?;
                let callee = m.import_spawn_block(&block)?;
                m.regs.clear();
                m.regs.push(callee);
                enter_call(&mut m, 0)
            })(),
        };
        // Only a native called by `spawn f(x)` can suspend here: a frame
        // pushed for a Forge function has not run yet.
        let in_native = matches!(m.regs.first(), Some(Val::Native(_)));
        let start = match started {
            Ok(None) => Start::Running,
            Ok(Some(v)) => Start::Done(finish(&mut m, Ok(v))),
            Err(e) if in_native => match e.into_wait() {
                Ok(why) => {
                    m.native_call = Some(argc as u32);
                    Start::Blocked(why)
                }
                Err(e) => Start::Done(finish(&mut m, Err(e))),
            },
            Err(e) => Start::Done(finish(&mut m, Err(e))),
        };
        if let Start::Done(_) = start {
            m.record_stats();
        }
        self.stage = Stage::Running(m);
        start
    }
}

/// Calls the callee in register 0 with the `argc` arguments after it, on
/// a task's first run: `Ok(None)` when a frame was pushed, `Ok(Some(v))`
/// when a native answered at once.
fn enter_call(m: &mut Machine, argc: usize) -> Result<Option<Val>, Ctrl> {
    m.regs.push(Val::Null);
    if m.op_call(0, argc, true)? {
        Ok(None)
    } else {
        Ok(Some(m.regs[0]))
    }
}

/// The task's outcome from how its run ended.
fn finish(m: &mut Machine, r: Result<Val, Ctrl>) -> TaskOutcome {
    match r {
        Ok(v) => m.export_message(v).map_err(|c| Arc::new(to_error(c))),
        Err(c) => Err(Arc::new(to_error(c))),
    }
}

fn to_error(c: Ctrl) -> ForgeError {
    match *c.0 {
        Unwind::Error(e) => e,
        Unwind::Cancelled => ForgeError::new(ErrorKind::Runtime, "task cancelled"),
        other => ForgeError::internal(format!("unexpected {other:?}")),
    }
}

impl Task for VmTask {
    fn run(&mut self, me: &TaskRef) -> RunResult {
        if let Stage::Waiting(_) = self.stage {
            let Stage::Waiting(entry) = std::mem::replace(&mut self.stage, Stage::Finished) else {
                unreachable!("just matched")
            };
            match self.start(me, entry) {
                Start::Done(outcome) => {
                    self.charge = TaskCharge::default();
                    self.result.complete(outcome);
                    return RunResult::Finished;
                }
                Start::Blocked(reason) => return RunResult::Blocked(reason),
                Start::Running => {}
            }
        }
        let Stage::Running(m) = &mut self.stage else { return RunResult::Finished };
        let native_call = m.native_call;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match (native_call, m.regs.first()) {
            (Some(argc), Some(&Val::Native(n))) => match m.call_native(n, 1, argc as usize) {
                Ok(v) => Ok(Exit::Returned(v)),
                Err(c) => c.into_wait().map(Exit::Blocked),
            },
            _ => m.run(0),
        }));
        let outcome = match r {
            Ok(Ok(Exit::Yielded)) => return RunResult::Yielded,
            Ok(Ok(Exit::Blocked(reason))) => {
                if native_call.is_none() {
                    m.parked();
                }
                return RunResult::Blocked(reason);
            }
            Ok(Ok(Exit::Returned(v))) => finish(m, Ok(v)),
            Ok(Err(c)) => finish(m, Err(c)),
            Err(panic) => Err(Arc::new(ForgeError::from_panic(&*panic))),
        };
        m.record_stats();
        // Give the spawner its room back before waking its `await`.
        self.charge = TaskCharge::default();
        self.result.complete(outcome);
        self.stage = Stage::Finished;
        RunResult::Finished
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_task_body_and_its_machine_fit_their_allocator_size_classes() {
        // A parked task holds both: mimalloc rounds a body of 65..80 bytes
        // up to 80, and a machine of 321..384 up to 384 (one more field on
        // `Machine` can cost every parked task 64 bytes).
        assert!(std::mem::size_of::<super::VmTask>() <= 64, "{}", std::mem::size_of::<super::VmTask>());
        assert!(std::mem::size_of::<super::Machine>() <= 320, "{}", std::mem::size_of::<super::Machine>());
    }
}
