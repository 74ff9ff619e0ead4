//! The tokio runtime the scheduler owns, behind timers (`timer.rs`) and the
//! blocking pool (`blocking.rs`).
//!
//! It is started on first use — the first timer or blocking job — so a
//! program that never sleeps and never touches a file starts no thread for
//! it. It is a current-thread tokio runtime driven by one thread, `forge-io`,
//! which runs the timer wheel (each timer is a tokio task sleeping until its
//! deadline); its blocking pool (threads `forge-blocking`, started on demand,
//! idle ones leave after a few seconds) runs blocking jobs. Forge tasks never
//! run here: this runtime only wakes them.
//!
//! Dropping the scheduler stops the driver thread, and the tokio runtime is
//! shut down in the background: a blocking job still running (a read of
//! stdin nobody answers) never holds anything up.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use parking_lot::Mutex;

/// Most threads the blocking pool starts; jobs beyond wait in its queue.
const MAX_BLOCKING_THREADS: usize = 64;

/// How long an idle blocking thread waits for a job before it exits.
const BLOCKING_KEEP_ALIVE: Duration = Duration::from_secs(5);

/// Stack of a blocking-pool thread: jobs are file system calls and copies,
/// never deep recursion.
const BLOCKING_STACK: usize = 256 * 1024;

pub(crate) struct IoRuntime {
    pub(crate) handle: tokio::runtime::Handle,
    stop: Arc<Stop>,
}

impl IoRuntime {
    /// Builds the runtime and starts its driver thread.
    pub(crate) fn start() -> std::io::Result<IoRuntime> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .thread_name("forge-blocking")
            .thread_stack_size(BLOCKING_STACK)
            .max_blocking_threads(MAX_BLOCKING_THREADS)
            .thread_keep_alive(BLOCKING_KEEP_ALIVE)
            .build()?;
        let handle = rt.handle().clone();
        let stop = Arc::new(Stop::default());
        let signal = stop.clone();
        std::thread::Builder::new().name("forge-io".into()).stack_size(BLOCKING_STACK).spawn(move || {
            rt.block_on(StopFuture(signal));
            rt.shutdown_background();
        })?;
        Ok(IoRuntime { handle, stop })
    }
}

impl Drop for IoRuntime {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.stop.state.lock();
            st.0 = true;
            st.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Set when the scheduler is dropped; the driver thread's `block_on` waits
/// for it.
#[derive(Default)]
struct Stop {
    /// (stopped, the driver's waker)
    state: Mutex<(bool, Option<Waker>)>,
}

struct StopFuture(Arc<Stop>);

impl Future for StopFuture {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.0.state.lock();
        if st.0 {
            return Poll::Ready(());
        }
        st.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn dropping_it_shuts_the_runtime_down() {
        let io = IoRuntime::start().unwrap();
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = SetOnDrop(dropped.clone());
        io.handle.spawn(async move {
            let _guard = guard;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        drop(io);
        let start = std::time::Instant::now();
        while !dropped.load(Ordering::SeqCst) {
            assert!(start.elapsed() < Duration::from_secs(5), "the runtime kept its tasks");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
