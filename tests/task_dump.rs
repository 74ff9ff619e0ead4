//! Task dumps: SIGQUIT and `FORGE_DUMP_TASKS` print every live task, its
//! state and what it waits on (with `file:line:col`) on stderr, and the
//! program then goes on to its normal end — on both tiers, on one worker
//! and on several.
//!
//! The programs wait for a file the test creates, so the test decides when
//! they may finish; until then they are blocked (or spinning) for as long
//! as the test needs, whatever the machine's load.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const TIERS: [&str; 2] = ["--interp", "--vm"];

/// Parked in `receive`, in `await`, in `send` on a full channel, spinning,
/// and (main) sleeping until the file named by its argument exists.
const BLOCKED: &str = r#"let go = io.args()[0]
let ch = channel()
let full = channel(1)
send(full, 0)
let receiver = spawn {
    return receive(ch)
}
let awaiter = spawn { return await receiver }
let sender = spawn { send(full, 1) }
let spinner = spawn {
    let mut n = 0
    while !fs.exists(go) { n += 1 }
    return "spun"
}
log.info("ready")
while !fs.exists(go) { time.sleep(0.01) }
send(ch, 42)
say await awaiter
say receive(full)
say receive(full)
say await spinner
"#;

const BLOCKED_OUT: &str = "42\n0\n1\nspun\n";

/// A scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("forge-task-dump-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `NAME:LINE:COL` of the first `needle` in `src` (columns count from 1).
fn site(name: &str, src: &str, needle: &str) -> String {
    let at = src.find(needle).unwrap_or_else(|| panic!("{needle:?} in the program"));
    let line = src[..at].matches('\n').count() + 1;
    let col = at - src[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{name}:{line}:{col}")
}

/// A started `forge`, killed if the test fails while it runs: a failed
/// assertion must not leave a spinning program behind.
struct Running(Option<Child>);

impl Running {
    fn child(&self) -> &Child {
        self.0.as_ref().expect("still running")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `forge run TIER prog.fg ARGS` with stderr read line by line.
fn start(tier: &str, dir: &Path, src: &str, args: &[&Path], env: &[(&str, &str)]) -> (Running, Receiver<String>) {
    std::fs::write(dir.join("prog.fg"), src).expect("write program");
    let mut child = Command::new(env!("CARGO_BIN_EXE_forge"))
        .args(["run", tier, "prog.fg"])
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start forge");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (Running(Some(child)), rx)
}

/// The next stderr line, or a failure after `limit`.
fn next_line(rx: &Receiver<String>, limit: Instant, seen: &[String]) -> String {
    let left = limit.saturating_duration_since(Instant::now());
    match rx.recv_timeout(left) {
        Ok(line) => line,
        Err(RecvTimeoutError::Timeout) => panic!("timed out; stderr so far:\n{}", seen.join("\n")),
        Err(RecvTimeoutError::Disconnected) => panic!("stderr closed; stderr so far:\n{}", seen.join("\n")),
    }
}

/// Reads stderr up to the next dump whose header names `trigger`, and
/// returns the dump (header first, then one line per live task).
fn read_dump(rx: &Receiver<String>, trigger: &str, limit: Instant, seen: &mut Vec<String>) -> Vec<String> {
    let header_start = format!("forge task dump ({trigger}) at ");
    let header = loop {
        let line = next_line(rx, limit, seen);
        seen.push(line.clone());
        if line.starts_with(&header_start) {
            break line;
        }
    };
    let count: usize = header
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("task count in {header:?}"));
    let mut dump = vec![header];
    for _ in 0..count {
        let line = next_line(rx, limit, seen);
        seen.push(line.clone());
        dump.push(line);
    }
    dump
}

/// Waits for the program's end (killing it after `limit`).
fn finish(mut running: Running, rx: &Receiver<String>, limit: Instant, seen: &mut Vec<String>) -> Output {
    let child = running.0.as_mut().expect("still running");
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > limit {
            let _ = child.kill();
            panic!("the program did not finish; stderr:\n{}", seen.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = running.0.take().expect("still running").wait_with_output().expect("output");
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        seen.push(line);
    }
    out
}

fn sigquit(running: &Running) {
    let status = Command::new("kill").args(["-QUIT", &running.child().id().to_string()]).status().expect("kill");
    assert!(status.success(), "kill -QUIT failed");
}

/// The line of task `id` in a dump.
fn task_line(dump: &[String], id: u64) -> &str {
    let prefix = format!("  task {id}");
    dump.iter()
        .find(|l| l.starts_with(&format!("{prefix}:")) || l.starts_with(&format!("{prefix} (")))
        .unwrap_or_else(|| panic!("task {id} in dump:\n{}", dump.join("\n")))
}

/// Sends SIGQUIT until a dump shows every task where the program leaves it
/// (tasks park at their own pace after `ready`), checks that dump, then lets
/// the program finish and checks its normal output.
fn dump_on_sigquit(tier: &str, workers: &str) {
    let dir = scratch(&format!("sigquit{tier}{workers}"));
    let go = dir.join("go");
    let (child, rx) = start(tier, &dir, BLOCKED, &[&go], &[("FORGE_WORKERS", workers)]);
    let limit = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while !next_line(&rx, limit, &seen).contains("ready") {}
    let want = [
        (2, format!("receive at {}", site("prog.fg", BLOCKED, "receive(ch)"))),
        (3, format!("await at {}", site("prog.fg", BLOCKED, "await receiver"))),
        (4, format!("send at {}", site("prog.fg", BLOCKED, "send(full, 1)"))),
    ];
    let dump = loop {
        sigquit(&child);
        let dump = read_dump(&rx, "SIGQUIT", limit, &mut seen);
        if want.iter().all(|(id, what)| task_line(&dump, *id).ends_with(&format!(": {what}"))) {
            break dump;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = dump.join("\n");
    assert!(dump[0].contains(": 5 live tasks, "), "{text}");
    assert!(dump[0].contains(&format!(" of {workers} workers started")), "{text}");
    let main = task_line(&dump, 1);
    let sleeping = format!("  task 1 (main): sleep at {}", site("prog.fg", BLOCKED, "time.sleep"));
    // Main polls `fs.exists` (on the blocking pool) between sleeps.
    let polling_main = format!("  task 1 (main): file I/O at {}", site("prog.fg", BLOCKED, "fs.exists(go) { time"));
    assert!(
        main == sleeping
            || main == polling_main
            || main == "  task 1 (main): running"
            || main == "  task 1 (main): runnable",
        "{text}"
    );
    // The spinner polls `fs.exists`, which runs on the blocking pool: it is
    // running, queued, or waiting for that file call.
    let spinner = task_line(&dump, 5);
    let polling = format!("  task 5: file I/O at {}", site("prog.fg", BLOCKED, "fs.exists(go) { n"));
    assert!(spinner == "  task 5: running" || spinner == "  task 5: runnable" || spinner == polling, "{text}");

    std::fs::write(&go, "").expect("create go file");
    let out = finish(child, &rx, limit, &mut seen);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", seen.join("\n"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), BLOCKED_OUT);
    assert!(!seen.iter().any(|l| l.contains("panicked") || l.starts_with("error")), "{}", seen.join("\n"));
}

#[test]
fn sigquit_dumps_tasks_and_the_program_goes_on() {
    for tier in TIERS {
        dump_on_sigquit(tier, "2");
    }
}

#[test]
fn sigquit_dumps_tasks_on_one_worker() {
    for tier in TIERS {
        dump_on_sigquit(tier, "1");
    }
}

#[test]
fn repeated_sigquits_each_dump() {
    for tier in TIERS {
        let dir = scratch(&format!("repeat{tier}"));
        let go = dir.join("go");
        let (child, rx) = start(tier, &dir, BLOCKED, &[&go], &[]);
        let limit = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        while !next_line(&rx, limit, &seen).contains("ready") {}
        for _ in 0..3 {
            sigquit(&child);
            let dump = read_dump(&rx, "SIGQUIT", limit, &mut seen);
            assert!(dump[0].contains(": 5 live tasks, "), "{}", dump.join("\n"));
        }
        std::fs::write(&go, "").expect("create go file");
        let out = finish(child, &rx, limit, &mut seen);
        assert_eq!(out.status.code(), Some(0), "stderr:\n{}", seen.join("\n"));
        assert_eq!(String::from_utf8_lossy(&out.stdout), BLOCKED_OUT);
    }
}

/// Main ends while two tasks are parked: they are abandoned (FORGE.md §8),
/// and `FORGE_DUMP_TASKS=exit` says which and where.
const ABANDONS: &str = r#"let ch = channel()
spawn { receive(ch) }
spawn { time.sleep(3600) }
time.sleep(0.3)
say "done"
"#;

#[test]
fn dump_at_exit_lists_abandoned_tasks() {
    for tier in TIERS {
        let dir = scratch(&format!("exit{tier}"));
        let (child, rx) = start(tier, &dir, ABANDONS, &[], &[("FORGE_DUMP_TASKS", "exit")]);
        let limit = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        let dump = read_dump(&rx, "at exit", limit, &mut seen);
        let out = finish(child, &rx, limit, &mut seen);
        let text = dump.join("\n");
        assert_eq!(out.status.code(), Some(0), "stderr:\n{}", seen.join("\n"));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
        assert!(dump[0].contains(": 2 live tasks, "), "{text}");
        // Parked long before main's 0.3 s sleep ends, unless the machine
        // is too busy to have run them at all.
        let receiving = format!("  task 2: receive at {}", site("prog.fg", ABANDONS, "receive(ch)"));
        let sleeping = format!("  task 3: sleep at {}", site("prog.fg", ABANDONS, "time.sleep(3600)"));
        assert!(task_line(&dump, 2) == receiving || task_line(&dump, 2) == "  task 2: runnable", "{text}");
        assert!(task_line(&dump, 3) == sleeping || task_line(&dump, 3) == "  task 3: runnable", "{text}");
    }
}

#[test]
fn dump_at_exit_also_follows_exit_and_errors() {
    for tier in TIERS {
        let dir = scratch(&format!("exit-call{tier}"));
        let (child, rx) = start(tier, &dir, "say \"bye\"\nexit(3)\n", &[], &[("FORGE_DUMP_TASKS", "exit")]);
        let limit = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        let dump = read_dump(&rx, "at exit", limit, &mut seen);
        let out = finish(child, &rx, limit, &mut seen);
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "bye\n");
        assert_eq!(dump[1], "  task 1 (main): running", "{}", dump.join("\n"));

        let (child, rx) = start(tier, &dir, "say 1\nsay 1 / 0\n", &[], &[("FORGE_DUMP_TASKS", "exit")]);
        let mut seen = Vec::new();
        let dump = read_dump(&rx, "at exit", limit, &mut seen);
        let out = finish(child, &rx, limit, &mut seen);
        assert_eq!(out.status.code(), Some(1));
        assert!(seen.iter().any(|l| l == "error: division by zero"), "{}", seen.join("\n"));
        assert!(dump[0].contains(": 0 live tasks, "), "{}", dump.join("\n"));
    }
}

#[test]
fn periodic_dumps_while_the_program_runs() {
    for tier in TIERS {
        let dir = scratch(&format!("periodic{tier}"));
        let go = dir.join("go");
        let (child, rx) = start(tier, &dir, BLOCKED, &[&go], &[("FORGE_DUMP_TASKS", "50")]);
        let limit = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        for _ in 0..2 {
            let dump = read_dump(&rx, "every 50 ms", limit, &mut seen);
            assert!(dump.len() > 1 && dump[1].starts_with("  task 1 (main): "), "{}", dump.join("\n"));
        }
        std::fs::write(&go, "").expect("create go file");
        let out = finish(child, &rx, limit, &mut seen);
        assert_eq!(out.status.code(), Some(0), "stderr:\n{}", seen.join("\n"));
        assert_eq!(String::from_utf8_lossy(&out.stdout), BLOCKED_OUT);
    }
}

#[test]
fn unreadable_setting_is_reported_and_ignored() {
    for tier in TIERS {
        let dir = scratch(&format!("bad-setting{tier}"));
        let (child, rx) = start(tier, &dir, "say 1 + 1\n", &[], &[("FORGE_DUMP_TASKS", "sometimes")]);
        let limit = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        let out = finish(child, &rx, limit, &mut seen);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "2\n");
        assert!(seen.iter().any(|l| l.contains("ignoring FORGE_DUMP_TASKS=\"sometimes\"")), "{}", seen.join("\n"));
        assert!(!seen.iter().any(|l| l.starts_with("forge task dump")), "{}", seen.join("\n"));
    }
}
