//! Unit tests of the parts on the scheduler's tokio runtime: timers (order,
//! cancellation, the deadlock detector) and the blocking pool.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Poll, Wake, Waker};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::{BlockingJob, JobError, RunResult, Runtime, RuntimeConfig, Task, TaskRef, TimerKey, WaitKind, WaitReason};

fn runtime(workers: usize) -> Runtime {
    Runtime::new(RuntimeConfig { workers, ..RuntimeConfig::default() })
}

/// Waits (up to 5 s) until `f` holds.
fn eventually(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(5), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A waker that appends its id to a log.
struct Recorder {
    id: u32,
    log: Arc<Mutex<Vec<u32>>>,
}

impl Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.log.lock().push(self.id);
    }
}

fn recorder(id: u32, log: &Arc<Mutex<Vec<u32>>>) -> Waker {
    Waker::from(Arc::new(Recorder { id, log: log.clone() }))
}

#[test]
fn timers_fire_in_deadline_order() {
    let rt = runtime(1);
    let log = Arc::new(Mutex::new(Vec::new()));
    let now = Instant::now();
    for (id, ms) in [(3, 60), (1, 20), (4, 80), (2, 40)] {
        rt.timer(now + Duration::from_millis(ms), recorder(id, &log)).unwrap();
    }
    assert_eq!(rt.pending_timers(), 4);
    eventually("four timers", || log.lock().len() == 4);
    assert!(now.elapsed() >= Duration::from_millis(80), "a timer fired before its deadline");
    assert_eq!(*log.lock(), vec![1, 2, 3, 4]);
    eventually("no pending timer", || rt.pending_timers() == 0);
}

#[test]
fn a_cancelled_timer_never_fires_and_stops_counting() {
    let rt = runtime(1);
    let log = Arc::new(Mutex::new(Vec::new()));
    let now = Instant::now();
    let first = rt.timer(now + Duration::from_millis(20), recorder(1, &log)).unwrap();
    rt.timer(now + Duration::from_millis(40), recorder(2, &log)).unwrap();
    let far = rt.timer(now + Duration::from_secs(3600), recorder(3, &log)).unwrap();
    rt.cancel_timer(first);
    rt.cancel_timer(far);
    eventually("the one timer left", || log.lock().len() == 1);
    std::thread::sleep(Duration::from_millis(40));
    assert_eq!(*log.lock(), vec![2]);
    // The hour-long timer is really gone, not merely ignored.
    eventually("no pending timer", || rt.pending_timers() == 0);
}

/// Sleeps once for `ms`, optionally cancelling its timer first (then
/// nothing can wake it).
struct Sleeper {
    rt: Runtime,
    ms: u64,
    cancel: bool,
    deadline: Option<Instant>,
    key: Option<TimerKey>,
}

impl Task for Sleeper {
    fn run(&mut self, me: &TaskRef) -> RunResult {
        match self.deadline {
            None => {
                let d = Instant::now() + Duration::from_millis(self.ms);
                self.deadline = Some(d);
                let key = self.rt.timer(d, me.waker()).unwrap();
                if self.cancel {
                    self.rt.cancel_timer(key);
                } else {
                    self.key = Some(key);
                }
                RunResult::Blocked(WaitReason::new(WaitKind::Sleep))
            }
            Some(d) if Instant::now() < d => RunResult::Blocked(WaitReason::new(WaitKind::Sleep)),
            Some(_) => {
                assert!(self.key.as_ref().is_some_and(TimerKey::is_done));
                RunResult::Finished
            }
        }
    }
}

#[test]
fn a_pending_timer_is_not_a_deadlock() {
    for workers in [1, 3] {
        let rt = runtime(workers);
        let main = Sleeper { rt: rt.clone(), ms: 50, cancel: false, deadline: None, key: None };
        rt.run("main", Box::new(main)).expect("a sleeping task is not deadlocked");
    }
}

#[test]
fn a_cancelled_timer_leaves_a_deadlock_to_report() {
    for workers in [1, 3] {
        let rt = runtime(workers);
        let main = Sleeper { rt: rt.clone(), ms: 3_600_000, cancel: true, deadline: None, key: None };
        let report = rt.run("main", Box::new(main)).expect_err("nothing can wake main");
        assert_eq!(report.tasks[0].waiting_on.as_ref().map(|w| w.kind), Some(WaitKind::Sleep));
    }
}

/// Runs one blocking job and records what polling it gave.
struct Offloader {
    rt: Runtime,
    job: Option<BlockingJob<u64>>,
    input: u64,
    results: Arc<Mutex<Vec<Result<u64, JobError>>>>,
    panic: bool,
}

impl Task for Offloader {
    fn run(&mut self, me: &TaskRef) -> RunResult {
        let blocked = RunResult::Blocked(WaitReason::new(WaitKind::Blocking(&crate::BlockingWork("file I/O"))));
        let Some(job) = &self.job else {
            let (input, panic) = (self.input, self.panic);
            let job = move || {
                std::thread::sleep(Duration::from_millis(20));
                assert!(!panic, "the job fails");
                input * 2
            };
            self.job = Some(self.rt.spawn_blocking(job, me.waker()).unwrap());
            return blocked;
        };
        match job.poll(&me.waker()) {
            Poll::Pending => blocked,
            Poll::Ready(r) => {
                self.results.lock().push(r);
                // Asked again, it has nothing more to give.
                assert_eq!(job.poll(&me.waker()), Poll::Ready(Err(JobError::Taken)));
                RunResult::Finished
            }
        }
    }
}

#[test]
fn a_blocking_job_wakes_its_task_and_gives_its_result_once() {
    for workers in [1, 2] {
        let rt = runtime(workers);
        let results = Arc::new(Mutex::new(Vec::new()));
        let main = Offloader { rt: rt.clone(), job: None, input: 21, results: results.clone(), panic: false };
        rt.run("main", Box::new(main)).expect("a task waiting on the blocking pool is not deadlocked");
        assert_eq!(*results.lock(), vec![Ok(42)]);
        eventually("no blocking work in flight", || rt.blocking_in_flight() == 0);
    }
}

#[test]
fn a_panicking_job_is_an_error_not_a_hang() {
    let rt = runtime(1);
    let results = Arc::new(Mutex::new(Vec::new()));
    let main = Offloader { rt: rt.clone(), job: None, input: 1, results: results.clone(), panic: true };
    rt.run("main", Box::new(main)).expect("no deadlock");
    assert_eq!(*results.lock(), vec![Err(JobError::Failed)]);
}

/// Spawns `n` offloaders and waits (yielding) for all of them.
struct Fleet {
    rt: Runtime,
    n: u64,
    children: Vec<TaskRef>,
    results: Arc<Mutex<Vec<Result<u64, JobError>>>>,
}

impl Task for Fleet {
    fn run(&mut self, _me: &TaskRef) -> RunResult {
        if self.children.is_empty() {
            for i in 0..self.n {
                let o =
                    Offloader { rt: self.rt.clone(), job: None, input: i, results: self.results.clone(), panic: false };
                self.children.push(self.rt.spawn(None, Box::new(o)).expect("under the task limit"));
            }
        }
        if self.children.iter().all(|c| c.is_finished()) {
            RunResult::Finished
        } else {
            RunResult::Yielded
        }
    }
}

#[test]
fn many_tasks_share_the_blocking_pool() {
    let rt = runtime(2);
    let results = Arc::new(Mutex::new(Vec::new()));
    let main = Fleet { rt: rt.clone(), n: 200, children: Vec::new(), results: results.clone() };
    rt.run("main", Box::new(main)).expect("no deadlock");
    let mut got: Vec<u64> = results.lock().iter().map(|r| r.expect("a result")).collect();
    got.sort();
    assert_eq!(got, (0..200).map(|i| i * 2).collect::<Vec<_>>());
}

/// Blocks on a job that reads the task dump from the pool thread, so the
/// dump is taken while the task waits.
struct DumpReader {
    rt: Runtime,
    job: Option<BlockingJob<Option<String>>>,
    seen: Arc<Mutex<Option<String>>>,
}

impl Task for DumpReader {
    fn run(&mut self, me: &TaskRef) -> RunResult {
        let blocked = RunResult::Blocked(WaitReason::new(WaitKind::Blocking(&crate::BlockingWork("file I/O"))));
        let Some(job) = &self.job else {
            let rt = self.rt.clone();
            let job = move || {
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs(5) {
                    if let Some(w) = rt.dump().first().and_then(|t| t.waiting_on.clone()) {
                        return Some(w.to_string());
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                None
            };
            self.job = Some(self.rt.spawn_blocking(job, me.waker()).unwrap());
            return blocked;
        };
        match job.poll(&me.waker()) {
            Poll::Pending => blocked,
            Poll::Ready(r) => {
                *self.seen.lock() = r.expect("job ran");
                RunResult::Finished
            }
        }
    }
}

#[test]
fn task_dumps_show_what_a_blocking_job_does() {
    let rt = runtime(1);
    let seen = Arc::new(Mutex::new(None));
    rt.run("main", Box::new(DumpReader { rt: rt.clone(), job: None, seen: seen.clone() })).expect("no deadlock");
    assert_eq!(seen.lock().as_deref(), Some("file I/O"));
}

#[test]
fn the_io_runtime_starts_on_first_use_only() {
    let rt = runtime(2);
    let results = Arc::new(Mutex::new(Vec::new()));
    rt.run("main", Box::new(Fleet { rt: rt.clone(), n: 0, children: Vec::new(), results })).expect("no deadlock");
    assert!(!rt.io_started(), "a run without timers or blocking work started the I/O runtime");
    let fired = Arc::new(AtomicUsize::new(0));
    struct Count(Arc<AtomicUsize>);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    rt.timer(Instant::now(), Waker::from(Arc::new(Count(fired.clone())))).unwrap();
    assert!(rt.io_started());
    eventually("the timer", || fired.load(Ordering::SeqCst) == 1);
}
