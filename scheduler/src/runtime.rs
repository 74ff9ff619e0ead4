//! Workers, run queues, parking and deadlock detection; the entry points to
//! timers and the blocking pool, which live on the scheduler's tokio runtime
//! (`io.rs`, started on the first timer or blocking job).
//!
//! Each worker is an OS thread with a FIFO `crossbeam_deque::Worker`; a
//! global `Injector` takes tasks pushed from outside any worker (timers, the
//! thread that builds the runtime). An idle worker takes from its own queue,
//! then the injector, then steals from the others, then parks on a condvar.
//! The thread that calls [`Runtime::run`] is worker 0; the other workers are
//! started lazily by the first spawns, so a program that never spawns pays
//! for no threads.
//!
//! Deadlock: when every started worker is parked, no queue holds a task, no
//! timer is pending and no blocking operation is in flight, no task can ever
//! run again. The worker that sees this calls the configured handler with the
//! list of live tasks and what each waits on.
//!
//! Live-task limit: at most `RuntimeConfig::max_tasks` tasks are live at
//! once (`FORGE_MAX_TASKS`, default [`DEFAULT_MAX_TASKS`]); a spawn beyond it
//! fails with [`TaskLimit`] and the spawning task reports the error. Like
//! BEAM's process limit (`+P`, default 2^20), it turns a runaway spawn loop
//! into an error in the task that spawns, instead of a process the OS kills
//! once memory runs out. A task counts as live until its worker retires it,
//! a moment after its result becomes available to `await`.

use std::cell::RefCell;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use observability::names;
use parking_lot::{Condvar, Mutex};

use crate::blocking::BlockingJob;
use crate::io::IoRuntime;
use crate::registry::{Registry, TaskInfo, TaskLimit};
use crate::task::{RunResult, Task, TaskCell, TaskId, TaskRef};
use crate::timer::TimerKey;

/// Everything known about a deadlock.
#[derive(Clone, Debug)]
pub struct DeadlockReport {
    /// Every live task (all of them blocked), ordered by id.
    pub tasks: Vec<TaskInfo>,
}

pub type DeadlockHandler = Arc<dyn Fn(&DeadlockReport) + Send + Sync>;

#[derive(Clone)]
pub struct RuntimeConfig {
    /// Number of OS workers (at least 1).
    pub workers: usize,
    /// Called once when a deadlock is detected. If it returns (instead of
    /// exiting the process), `Runtime::run` returns `Err(report)`.
    pub on_deadlock: Option<DeadlockHandler>,
    /// Most tasks live at once, the main task included (at least 1).
    pub max_tasks: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig { workers: default_workers(), on_deadlock: None, max_tasks: default_max_tasks() }
    }
}

/// The live-task limit when `FORGE_MAX_TASKS` is not set. A parked VM task
/// costs about 1 KB, so a runaway spawn loop stops at about 1 GB; programs
/// that need more live tasks raise the limit.
pub const DEFAULT_MAX_TASKS: usize = 1_000_000;

/// `FORGE_MAX_TASKS` if set to a positive number, else [`DEFAULT_MAX_TASKS`].
pub fn default_max_tasks() -> usize {
    std::env::var("FORGE_MAX_TASKS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_MAX_TASKS)
}

/// `FORGE_WORKERS` if set to a positive number, else the number of cores.
pub fn default_workers() -> usize {
    std::env::var("FORGE_WORKERS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// Counters for `--stats`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SchedStats {
    pub spawned: u64,
    pub steals: u64,
    pub parks: u64,
    pub workers_started: usize,
    pub peak_live_tasks: usize,
    /// Tasks that used up their budget and went back to a queue.
    pub budget_yields: u64,
}

impl SchedStats {
    /// The report `forge run --stats` prints.
    pub fn render(&self) -> String {
        let rows = [
            ("tasks spawned", self.spawned.to_string()),
            ("max live tasks", self.peak_live_tasks.to_string()),
            ("workers", self.workers_started.to_string()),
            ("steals", self.steals.to_string()),
            ("worker parks", self.parks.to_string()),
            ("budget yields", self.budget_yields.to_string()),
        ];
        let mut out = String::from("forge stats (scheduler):\n");
        for (name, value) in rows {
            out.push_str(&format!("  {:<22} {value}\n", format!("{name}:")));
        }
        out
    }
}

pub(crate) struct Shared {
    injector: Injector<TaskRef>,
    /// One slot per possible worker, filled when the worker starts.
    stealers: Box<[OnceLock<Stealer<TaskRef>>]>,
    /// Per worker: the task its running task woke last. It runs next on
    /// that worker (a message's receiver runs where the message is, hot in
    /// cache, and a ping-pong pair stays on one worker); other workers take
    /// it only when they have nothing else, and an idle worker does not
    /// stay awake for it: its owner runs it next.
    lifo: Box<[Mutex<Option<TaskRef>>]>,
    /// Workers whose stealer is in `stealers`.
    registered: AtomicUsize,
    /// Workers looking for work before they park; a push needs to wake a
    /// parked worker only when none is spinning.
    spinning: AtomicUsize,
    sleep: Mutex<()>,
    wakeup: Condvar,
    sleepers: AtomicUsize,
    started: AtomicUsize,
    max_workers: usize,
    max_tasks: usize,
    pub(crate) registry: Registry,
    next_id: AtomicU64,
    main_done: AtomicBool,
    deadlocked: Mutex<Option<DeadlockReport>>,
    /// Blocking operations in flight (jobs on the blocking pool, guards).
    blocking: AtomicUsize,
    /// Armed timers (see `timer.rs`).
    pub(crate) timers_pending: AtomicUsize,
    /// The tokio runtime behind timers and the blocking pool, once started.
    io: OnceLock<IoRuntime>,
    io_start: Mutex<()>,
    on_deadlock: Option<DeadlockHandler>,
    spawned: AtomicU64,
    steals: AtomicU64,
    parks: AtomicU64,
    yields: AtomicU64,
}

/// A handle to the scheduler; cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    shared: Arc<Shared>,
}

thread_local! {
    /// The run queue of the worker running on this thread, if any.
    static LOCAL: RefCell<Option<LocalQueue>> = const { RefCell::new(None) };
}

struct LocalQueue {
    /// The runtime this worker belongs to (held, so a waker that finds it
    /// here needs no `Weak::upgrade`).
    shared: Arc<Shared>,
    queue: Worker<TaskRef>,
    index: usize,
    /// Tasks taken so far, for the periodic look at the injector.
    ticks: std::cell::Cell<u32>,
    /// Tasks taken from the LIFO slot in a row.
    lifo_streak: std::cell::Cell<u32>,
}

/// After this many tasks in a row from the LIFO slot, the next one goes to
/// the back of the queue when the queue holds others: two tasks waking each
/// other must not starve the rest of the queue.
const MAX_LIFO_STREAK: u32 = 3;

/// Every this many tasks a worker takes from the shared injector first, so
/// tasks woken from outside the workers (timers, I/O, the main thread) are
/// not starved by tasks that keep yielding back to the local queue.
const INJECTOR_INTERVAL: u32 = 61;

/// Puts a woken task in this thread's worker LIFO slot if the worker
/// belongs to the runtime at `owner`; the task it displaces goes to the
/// worker's queue, where others may steal it, so a parked worker is woken.
/// The address is compared, not upgraded: a waker on a worker of its own
/// runtime (the common case) touches no reference count.
#[inline(never)]
pub(crate) fn try_push_lifo(owner: *const Shared, task: TaskRef) -> Result<(), TaskRef> {
    LOCAL.with(|l| match &*l.borrow() {
        Some(local) if std::ptr::eq(Arc::as_ptr(&local.shared), owner) => {
            let shared = &local.shared;
            let displaced = shared.lifo[local.index].lock().replace(task);
            if let Some(t) = displaced {
                local.queue.push(t);
                shared.wake_one_if_idle();
            }
            Ok(())
        }
        _ => Err(task),
    })
}

/// Out of line: `tracing` reads thread-locals (see lib.rs, rule 3).
#[inline(never)]
fn trace_steal(task: u64, from: usize) {
    tracing::trace!(target: names::SCHED, event = names::event::STEAL, task.id = task, worker.index = from);
}

/// Pushes onto this thread's worker queue if it belongs to `shared`.
#[inline(never)]
fn try_push_local(shared: &Shared, task: TaskRef) -> Result<(), TaskRef> {
    LOCAL.with(|l| match &*l.borrow() {
        Some(local) if std::ptr::eq(Arc::as_ptr(&local.shared), shared) => {
            local.queue.push(task);
            Ok(())
        }
        _ => Err(task),
    })
}

impl Runtime {
    pub fn new(config: RuntimeConfig) -> Runtime {
        let shared = Arc::new(Shared {
            injector: Injector::new(),
            stealers: (0..config.workers.max(1)).map(|_| OnceLock::new()).collect(),
            lifo: (0..config.workers.max(1)).map(|_| Mutex::new(None)).collect(),
            registered: AtomicUsize::new(0),
            spinning: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            wakeup: Condvar::new(),
            sleepers: AtomicUsize::new(0),
            started: AtomicUsize::new(1),
            max_workers: config.workers.max(1),
            max_tasks: config.max_tasks.max(1),
            registry: Registry::default(),
            next_id: AtomicU64::new(1),
            main_done: AtomicBool::new(false),
            deadlocked: Mutex::new(None),
            blocking: AtomicUsize::new(0),
            timers_pending: AtomicUsize::new(0),
            io: OnceLock::new(),
            io_start: Mutex::new(()),
            on_deadlock: config.on_deadlock,
            spawned: AtomicU64::new(0),
            steals: AtomicU64::new(0),
            parks: AtomicU64::new(0),
            yields: AtomicU64::new(0),
        });
        Runtime { shared }
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Runtime {
        Runtime { shared }
    }

    /// Runs `main` as task 1 on the calling thread (worker 0), with other
    /// tasks spread over the workers, until `main` finishes. Tasks still alive
    /// then are abandoned. `Err` when a deadlock was detected and the handler
    /// returned.
    pub fn run(&self, name: &str, main: Box<dyn Task>) -> Result<(), DeadlockReport> {
        let shared = &self.shared;
        // The main task always starts, whatever the limit.
        let cell = shared.new_task(Some(Arc::from(name)), true, main, usize::MAX).expect("no limit");
        shared.injector.push(cell);
        shared.worker_loop(0, true);
        match shared.deadlocked.lock().take() {
            Some(report) => Err(report),
            None => Ok(()),
        }
    }

    /// Starts a new task. It may run on any worker, before or after the
    /// spawner continues. `Err` (and `task` is dropped unrun) when
    /// `max_tasks` tasks are live already.
    pub fn spawn(&self, name: Option<Arc<str>>, task: Box<dyn Task>) -> Result<TaskRef, TaskLimit> {
        let shared = &self.shared;
        let cell = shared.new_task(name, false, task, shared.max_tasks)?;
        shared.maybe_start_worker();
        shared.push(cell.clone());
        tracing::trace!(target: names::SCHED, event = names::event::SPAWN, task.id = cell.id.0);
        Ok(cell)
    }

    /// Whether a spawn now would be refused by the live-task limit (a tier
    /// checks this before it builds an expensive task body).
    pub fn at_task_limit(&self) -> Option<TaskLimit> {
        let limit = self.shared.max_tasks;
        (self.shared.registry.live() >= limit).then_some(TaskLimit { limit })
    }

    /// Arms a timer that wakes `waker` at `deadline` (not before). Starts
    /// the scheduler's tokio runtime on first use; `Err` when its thread
    /// cannot be started. Out of line: tokio reads thread-locals (crate
    /// rule 3), and so do `cancel_timer` and `spawn_blocking`.
    #[inline(never)]
    pub fn timer(&self, deadline: Instant, waker: std::task::Waker) -> std::io::Result<TimerKey> {
        let io = self.shared.io()?;
        Ok(crate::timer::arm(&self.shared, io, deadline, waker))
    }

    /// Disarms a timer: it will not wake its waker (unless it already did).
    #[inline(never)]
    pub fn cancel_timer(&self, key: TimerKey) {
        crate::timer::cancel(key)
    }

    /// Runs `job` on the blocking pool, never on a worker; `waker` is woken
    /// when it has ended (see [`BlockingJob::poll`]). Until then the job
    /// counts as a blocking operation for the deadlock detector. `Err` when
    /// no thread can be started for it.
    #[inline(never)]
    pub fn spawn_blocking<T, F>(&self, job: F, waker: std::task::Waker) -> std::io::Result<BlockingJob<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let io = self.shared.io()?;
        let (handle, completer) = crate::blocking::pair(waker, self.enter_blocking());
        // Tokio panics when the OS refuses a thread and the pool has none.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drop(io.handle.spawn_blocking(move || completer.finish(job())));
        }))
        .map_err(|_| std::io::Error::other("cannot start a thread for blocking work"))?;
        Ok(handle)
    }

    /// Marks a blocking operation in flight (it will wake a task later from
    /// outside the workers), so an idle runtime is not taken for deadlocked.
    pub fn enter_blocking(&self) -> BlockingGuard {
        self.shared.blocking.fetch_add(1, Ordering::SeqCst);
        BlockingGuard { shared: Arc::downgrade(&self.shared) }
    }

    /// Timers armed and not yet fired or dropped.
    pub fn pending_timers(&self) -> usize {
        self.shared.timers_pending.load(Ordering::SeqCst)
    }

    /// Blocking operations in flight.
    pub fn blocking_in_flight(&self) -> usize {
        self.shared.blocking.load(Ordering::SeqCst)
    }

    /// Whether the tokio runtime behind timers and the blocking pool runs.
    pub fn io_started(&self) -> bool {
        self.shared.io.get().is_some()
    }

    /// Every live task, its state and what it waits on, ordered by id.
    /// Safe to call from any thread at any time (a signal watcher, an admin
    /// endpoint) while the tasks run.
    pub fn dump(&self) -> Vec<TaskInfo> {
        self.shared.registry.snapshot()
    }

    /// Workers started so far, and the most that may start.
    pub fn workers(&self) -> (usize, usize) {
        let s = &self.shared;
        (s.registered.load(Ordering::Acquire).max(1), s.max_workers)
    }

    pub fn stats(&self) -> SchedStats {
        let s = &self.shared;
        SchedStats {
            spawned: s.spawned.load(Ordering::Relaxed),
            steals: s.steals.load(Ordering::Relaxed),
            parks: s.parks.load(Ordering::Relaxed),
            workers_started: s.registered.load(Ordering::Relaxed).max(1),
            peak_live_tasks: s.registry.peak(),
            budget_yields: s.yields.load(Ordering::Relaxed),
        }
    }

    pub fn live_tasks(&self) -> usize {
        self.shared.registry.live()
    }
}

/// Ends a blocking operation started with [`Runtime::enter_blocking`].
pub struct BlockingGuard {
    shared: Weak<Shared>,
}

impl Drop for BlockingGuard {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            let _g = shared.sleep.lock();
            shared.blocking.fetch_sub(1, Ordering::SeqCst);
            shared.wakeup.notify_one();
        }
    }
}

impl Shared {
    fn new_task(
        self: &Arc<Self>,
        name: Option<Arc<str>>,
        is_main: bool,
        body: Box<dyn Task>,
        limit: usize,
    ) -> Result<TaskRef, TaskLimit> {
        self.registry.try_reserve(limit)?;
        let id = TaskId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let cell = Arc::new(TaskCell::new(id, name, is_main, body, Arc::downgrade(self)));
        self.registry.insert(&cell);
        self.spawned.fetch_add(1, Ordering::Relaxed);
        Ok(cell)
    }

    /// The tokio runtime behind timers and the blocking pool, started on
    /// first use.
    fn io(&self) -> std::io::Result<&IoRuntime> {
        if let Some(io) = self.io.get() {
            return Ok(io);
        }
        let _g = self.io_start.lock();
        if self.io.get().is_none() {
            let _ = self.io.set(IoRuntime::start()?);
        }
        self.io.get().ok_or_else(|| std::io::Error::other("the I/O runtime did not start"))
    }

    /// Queues a runnable task and wakes a parked worker if there is one.
    pub(crate) fn push(&self, task: TaskRef) {
        if let Err(task) = try_push_local(self, task) {
            self.injector.push(task);
        }
        self.wake_one_if_idle();
    }

    /// Queues a task woken off the runtime's workers (a timer, I/O, the
    /// blocking pool, another runtime's task). On a worker, the waker puts
    /// it in the worker's LIFO slot instead (`try_push_lifo`).
    pub(crate) fn push_woken_remote(&self, task: TaskRef) {
        self.injector.push(task);
        self.wake_one_if_idle();
    }

    fn wake_one_if_idle(&self) {
        fence(Ordering::SeqCst);
        if self.spinning.load(Ordering::SeqCst) == 0 && self.sleepers.load(Ordering::SeqCst) > 0 {
            let _g = self.sleep.lock();
            self.wakeup.notify_one();
        }
    }

    /// Wakes one parked worker so it re-checks for work or deadlock.
    pub(crate) fn nudge(&self) {
        let _g = self.sleep.lock();
        self.wakeup.notify_one();
    }

    fn maybe_start_worker(self: &Arc<Self>) {
        let started = self.started.load(Ordering::Relaxed);
        if started >= self.max_workers {
            return;
        }
        if self.started.compare_exchange(started, started + 1, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            return;
        }
        let shared = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("forge-worker-{started}"))
            .spawn(move || shared.worker_loop(started, false));
        if spawned.is_err() {
            self.started.fetch_sub(1, Ordering::AcqRel);
        }
    }

    fn worker_loop(self: &Arc<Self>, index: usize, _is_main_thread: bool) {
        let queue = Worker::new_fifo();
        if self.stealers[index].set(queue.stealer()).is_err() {
            return;
        }
        self.registered.fetch_add(1, Ordering::AcqRel);
        LOCAL.with(|l| {
            *l.borrow_mut() = Some(LocalQueue {
                shared: self.clone(),
                queue,
                index,
                ticks: std::cell::Cell::new(0),
                lifo_streak: std::cell::Cell::new(0),
            })
        });
        tracing::debug!(target: names::SCHED, event = names::event::WORKER_START, worker.index = index);
        loop {
            // Once the main task is done, tasks still alive are abandoned
            // (FORGE.md §8): every worker stops.
            if self.main_done.load(Ordering::Acquire) {
                break;
            }
            match self.find_task() {
                Some(task) => self.run_task(task),
                None => self.park(),
            }
        }
        LOCAL.with(|l| {
            if let Some(local) = l.borrow_mut().take() {
                if let Some(t) = self.take_lifo(local.index) {
                    self.injector.push(t);
                }
                while let Some(t) = local.queue.pop() {
                    self.injector.push(t);
                }
            }
        });
    }

    fn find_task(&self) -> Option<TaskRef> {
        LOCAL.with(|l| {
            let l = l.borrow();
            let local = l.as_ref()?;
            let tick = local.ticks.get().wrapping_add(1);
            local.ticks.set(tick);
            if tick % INJECTOR_INTERVAL == 0 {
                loop {
                    match self.injector.steal() {
                        Steal::Success(t) => return Some(t),
                        Steal::Retry => continue,
                        Steal::Empty => break,
                    }
                }
            }
            let lifo = self.take_lifo(local.index);
            if let Some(t) = lifo {
                let streak = local.lifo_streak.get() + 1;
                if streak <= MAX_LIFO_STREAK || local.queue.is_empty() {
                    local.lifo_streak.set(streak);
                    return Some(t);
                }
                local.queue.push(t);
            }
            local.lifo_streak.set(0);
            if let Some(t) = local.queue.pop() {
                return Some(t);
            }
            loop {
                match self.injector.steal_batch_and_pop(&local.queue) {
                    Steal::Success(t) => return Some(t),
                    Steal::Retry => continue,
                    Steal::Empty => break,
                }
            }
            let stealers = &self.stealers;
            let n = stealers.len();
            if n > 1 {
                let start = (local.index + 1) % n;
                for k in 0..n {
                    let i = (start + k) % n;
                    if i == local.index {
                        continue;
                    }
                    let Some(stealer) = stealers[i].get() else { continue };
                    loop {
                        match stealer.steal_batch_and_pop(&local.queue) {
                            Steal::Success(t) => {
                                self.steals.fetch_add(1, Ordering::Relaxed);
                                trace_steal(t.id.0, i);
                                return Some(t);
                            }
                            Steal::Retry => continue,
                            Steal::Empty => break,
                        }
                    }
                }
                // Last resort: a task waiting in another worker's LIFO slot
                // (that worker is busy with a long task).
                for k in 0..n {
                    let i = (start + k) % n;
                    if i != local.index {
                        if let Some(t) = self.take_lifo(i) {
                            self.steals.fetch_add(1, Ordering::Relaxed);
                            trace_steal(t.id.0, i);
                            return Some(t);
                        }
                    }
                }
            }
            None
        })
    }

    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| s.get().is_some_and(|s| !s.is_empty()))
    }

    /// A task woken by one that then finished waits at the back of this
    /// worker's queue, not in the LIFO slot. A parent collecting results
    /// from the children it spawned would otherwise run after each child,
    /// find the channel empty again and park once per child; behind its
    /// queued children it finds all their results at once. (A pair of tasks
    /// exchanging messages does not finish between messages, and keeps the
    /// slot.)
    #[inline(never)]
    fn lifo_to_queue(&self) {
        LOCAL.with(|l| match &*l.borrow() {
            Some(local) if std::ptr::eq(Arc::as_ptr(&local.shared), self) => {
                if let Some(t) = self.take_lifo(local.index) {
                    local.queue.push(t);
                }
            }
            _ => {}
        });
    }

    fn take_lifo(&self, worker: usize) -> Option<TaskRef> {
        self.lifo[worker].lock().take()
    }

    fn run_task(&self, task: TaskRef) {
        task.state.start();
        let Some(mut body) = task.slot.lock().body.take() else {
            return;
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body.run(&task)));
        match result {
            Ok(RunResult::Finished) | Err(_) => {
                task.state.finish();
                drop(body);
                self.registry.finished();
                tracing::trace!(target: names::SCHED, event = names::event::FINISH, task.id = task.id.0);
                if task.is_main {
                    self.main_done.store(true, Ordering::Release);
                    let _g = self.sleep.lock();
                    self.wakeup.notify_all();
                }
                self.lifo_to_queue();
            }
            Ok(RunResult::Yielded) => {
                self.yields.fetch_add(1, Ordering::Relaxed);
                tracing::trace!(target: names::SCHED, event = names::event::BUDGET_YIELD, task.id = task.id.0);
                task.slot.lock().body = Some(body);
                task.state.yielded();
                self.push(task);
            }
            Ok(RunResult::Blocked(reason)) => {
                tracing::trace!(target: names::SCHED, event = names::event::PARK, task.id = task.id.0, task.wait = %reason);
                {
                    let mut slot = task.slot.lock();
                    slot.wait = Some(reason);
                    slot.body = Some(body);
                }
                if task.state.block() {
                    // Woken while still running (NOTIFIED): run it again.
                    self.push(task);
                }
            }
        }
    }

    /// Looks for work a little before parking, so a burst of spawns or
    /// wake-ups does not cost a futex round trip per task.
    fn spin_for_work(&self) -> bool {
        const SPIN: Duration = Duration::from_micros(50);
        self.spinning.fetch_add(1, Ordering::SeqCst);
        let start = Instant::now();
        let mut found = false;
        while start.elapsed() < SPIN {
            if self.has_work() || self.main_done.load(Ordering::Acquire) {
                found = true;
                break;
            }
            for _ in 0..64 {
                std::hint::spin_loop();
            }
        }
        self.spinning.fetch_sub(1, Ordering::SeqCst);
        found
    }

    fn park(&self) {
        if self.spin_for_work() {
            return;
        }
        let mut guard = self.sleep.lock();
        let sleepers = self.sleepers.fetch_add(1, Ordering::SeqCst) + 1;
        fence(Ordering::SeqCst);
        if self.main_done.load(Ordering::Acquire) {
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        let quiet = self.timers_pending.load(Ordering::SeqCst) == 0 && self.blocking.load(Ordering::SeqCst) == 0;
        if self.has_work() {
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        let started = self.registered.load(Ordering::Acquire);
        if quiet && sleepers >= started && started >= self.started.load(Ordering::Acquire) {
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
            drop(guard);
            self.report_deadlock();
            return;
        }
        self.parks.fetch_add(1, Ordering::Relaxed);
        self.wakeup.wait(&mut guard);
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    fn report_deadlock(&self) {
        let report = DeadlockReport { tasks: self.registry.snapshot() };
        tracing::debug!(target: names::SCHED, event = names::event::DEADLOCK, tasks = report.tasks.len());
        if let Some(handler) = &self.on_deadlock {
            handler(&report);
        }
        *self.deadlocked.lock() = Some(report);
        self.main_done.store(true, Ordering::Release);
        let _g = self.sleep.lock();
        self.wakeup.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::RunState;
    use crate::wait::{WaitKind, WaitReason};
    use std::sync::atomic::AtomicUsize;

    struct Counter {
        hits: Arc<AtomicUsize>,
        rounds: usize,
    }

    impl Task for Counter {
        fn run(&mut self, _me: &TaskRef) -> RunResult {
            self.hits.fetch_add(1, Ordering::SeqCst);
            self.rounds -= 1;
            if self.rounds == 0 {
                RunResult::Finished
            } else {
                RunResult::Yielded
            }
        }
    }

    /// A main task that spawns children and waits (by yielding) until they
    /// have all finished.
    struct Parent {
        rt: Runtime,
        children: Vec<TaskRef>,
        spawned: bool,
        hits: Arc<AtomicUsize>,
    }

    impl Task for Parent {
        fn run(&mut self, _me: &TaskRef) -> RunResult {
            if !self.spawned {
                self.spawned = true;
                for _ in 0..100 {
                    let c = Counter { hits: self.hits.clone(), rounds: 3 };
                    self.children.push(self.rt.spawn(None, Box::new(c)).expect("under the limit"));
                }
            }
            if self.children.iter().all(|c| c.is_finished()) {
                RunResult::Finished
            } else {
                RunResult::Yielded
            }
        }
    }

    fn run_parent(workers: usize) -> usize {
        let rt = Runtime::new(RuntimeConfig { workers, ..Default::default() });
        let hits = Arc::new(AtomicUsize::new(0));
        let parent = Parent { rt: rt.clone(), children: Vec::new(), spawned: false, hits: hits.clone() };
        rt.run("main", Box::new(parent)).expect("no deadlock");
        hits.load(Ordering::SeqCst)
    }

    #[test]
    fn runs_every_task_to_completion_on_one_and_many_workers() {
        assert_eq!(run_parent(1), 300);
        assert_eq!(run_parent(4), 300);
    }

    struct Stuck;
    impl Task for Stuck {
        fn run(&mut self, _me: &TaskRef) -> RunResult {
            RunResult::Blocked(WaitReason::new(WaitKind::ChannelRecv))
        }
    }

    #[test]
    fn blocked_main_is_a_deadlock() {
        for workers in [1, 3] {
            let rt = Runtime::new(RuntimeConfig { workers, ..Default::default() });
            let report = rt.run("main", Box::new(Stuck)).expect_err("deadlock");
            assert_eq!(report.tasks.len(), 1);
            assert_eq!(report.tasks[0].waiting_on.as_ref().map(|w| w.kind), Some(WaitKind::ChannelRecv));
        }
    }

    /// A task that blocks on its first run and never finishes.
    struct Parks;
    impl Task for Parks {
        fn run(&mut self, _me: &TaskRef) -> RunResult {
            RunResult::Blocked(WaitReason::new(WaitKind::Sleep))
        }
    }

    /// Spawns a parking task, yields so it runs, spawns another, then dumps.
    struct Dumper {
        rt: Runtime,
        step: u32,
        seen: Arc<parking_lot::Mutex<Vec<TaskInfo>>>,
    }

    impl Task for Dumper {
        fn run(&mut self, _me: &TaskRef) -> RunResult {
            self.step += 1;
            if self.step == 1 {
                self.rt.spawn(None, Box::new(Parks)).expect("under the limit");
                return RunResult::Yielded;
            }
            self.rt.spawn(Some(Arc::from("later")), Box::new(Parks)).expect("under the limit");
            *self.seen.lock() = self.rt.dump();
            RunResult::Finished
        }
    }

    #[test]
    fn dump_tells_running_runnable_and_parked_apart() {
        // One worker: the parking task runs while the main task is queued
        // behind it, and the last spawn cannot run before the dump.
        let rt = Runtime::new(RuntimeConfig { workers: 1, ..Default::default() });
        let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
        rt.run("main", Box::new(Dumper { rt: rt.clone(), step: 0, seen: seen.clone() })).expect("no deadlock");
        let dump = seen.lock().clone();
        let states: Vec<(u64, RunState)> = dump.iter().map(|t| (t.id.0, t.state)).collect();
        assert_eq!(states, [(1, RunState::Running), (2, RunState::Parked), (3, RunState::Runnable)]);
        assert_eq!(dump[0].name.as_deref(), Some("main"));
        assert_eq!(dump[1].waiting_on.as_ref().map(|w| w.kind), Some(WaitKind::Sleep));
        assert_eq!(dump[2].name.as_deref(), Some("later"));
    }

    /// Yields until released, then finishes.
    struct Gate(Arc<AtomicBool>);
    impl Task for Gate {
        fn run(&mut self, _me: &TaskRef) -> RunResult {
            if self.0.load(Ordering::SeqCst) {
                RunResult::Finished
            } else {
                RunResult::Yielded
            }
        }
    }

    /// Spawns until refused, lets one child finish, spawns again.
    struct Flood {
        rt: Runtime,
        outcome: Arc<parking_lot::Mutex<Option<(usize, TaskLimit, bool)>>>,
        spawned: usize,
        first: Option<TaskRef>,
        release: Arc<AtomicBool>,
        refused: Option<TaskLimit>,
    }

    impl Task for Flood {
        fn run(&mut self, _me: &TaskRef) -> RunResult {
            if self.refused.is_none() {
                let gate = Gate(self.release.clone());
                self.first = Some(self.rt.spawn(None, Box::new(gate)).expect("room for one"));
                self.spawned = 1;
                loop {
                    match self.rt.spawn(None, Box::new(Parks)) {
                        Ok(_) => self.spawned += 1,
                        Err(limit) => {
                            self.refused = Some(limit);
                            self.release.store(true, Ordering::SeqCst);
                            break;
                        }
                    }
                }
            }
            // A finished task leaves the table just after its state says
            // DONE (its worker retires it): wait for the table itself.
            if !self.first.as_ref().is_some_and(|t| t.is_finished()) || self.rt.live_tasks() >= 10 {
                return RunResult::Yielded;
            }
            let again = self.rt.spawn(None, Box::new(Parks)).is_ok();
            *self.outcome.lock() = Some((self.spawned, self.refused.expect("refused"), again));
            RunResult::Finished
        }
    }

    #[test]
    fn spawns_beyond_the_task_limit_are_refused_until_a_task_ends() {
        for workers in [1, 3] {
            let rt = Runtime::new(RuntimeConfig { workers, max_tasks: 10, ..Default::default() });
            let outcome = Arc::new(parking_lot::Mutex::new(None));
            let release = Arc::new(AtomicBool::new(false));
            let flood =
                Flood { rt: rt.clone(), outcome: outcome.clone(), spawned: 0, first: None, release, refused: None };
            rt.run("main", Box::new(flood)).expect("no deadlock");
            let (spawned, limit, again) = outcome.lock().take().expect("main finished");
            // Ten live tasks: the main task and nine children.
            assert_eq!(spawned, 9);
            assert_eq!(limit, TaskLimit { limit: 10 });
            assert!(again, "a finished child frees its place");
            assert!(limit.to_string().contains("FORGE_MAX_TASKS"));
        }
    }
}
