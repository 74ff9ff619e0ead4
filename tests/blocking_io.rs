//! Blocking natives run on the scheduler's blocking pool, never on a worker:
//! on one worker (`FORGE_WORKERS=1`), a task stuck in a file operation or a
//! read of stdin leaves the worker to the other tasks, and is not taken for
//! deadlocked. Run on the interpreter, the VM and the VM under GC stress.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

#[path = "support.rs"]
mod support;

const TIERS: [(&str, bool); 3] = [("interp", false), ("vm", false), ("vm", true)];

fn forge(tier: &str, stress: bool, program: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_forge"));
    cmd.args(["run", &format!("--{tier}")]).arg(program).env("FORGE_WORKERS", "1");
    if stress {
        cmd.env("FORGE_GC_STRESS", "1");
    }
    cmd
}

/// A fresh directory for one test.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("forge-blocking-io-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Opening a FIFO blocks until the other end is opened. The reader task and
/// the writing main task meet only if neither holds the one worker while it
/// waits in `open`.
#[test]
fn a_task_blocked_in_a_file_operation_leaves_the_worker_to_others() {
    let dir = scratch("fifo");
    let fifo = dir.join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available: skipped");
        return;
    }
    let program = dir.join("fifo.fg");
    let path = fifo.to_string_lossy();
    std::fs::write(
        &program,
        format!(
            "let h = spawn {{ return fs.read(\"{path}\") }}\n\
             let mut n = 0\n\
             repeat 1000 times {{ n += 1 }}\n\
             say \"main runs: \" + str(n)\n\
             fs.write(\"{path}\", \"through the pipe\")\n\
             say await h\n"
        ),
    )
    .expect("program");
    for (tier, stress) in TIERS {
        let child = forge(tier, stress, &program).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("forge");
        let out = support::wait_or_kill(child, Duration::from_secs(30), &format!("{tier} (a worker is blocked?)"));
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{tier} (stress {stress})");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "main runs: 1000\nthrough the pipe\n", "{tier}");
        assert!(out.status.success(), "{tier}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A task waiting for a line of stdin keeps the program alive: the main
/// task, blocked on a channel meanwhile, is not reported as deadlocked.
#[test]
fn a_task_waiting_for_stdin_is_not_a_deadlock() {
    let dir = scratch("stdin");
    let program = dir.join("stdin.fg");
    std::fs::write(
        &program,
        "let ch = channel()\n\
         spawn { send(ch, input(\"name? \")) }\n\
         say \"hello \" + receive(ch)\n",
    )
    .expect("program");
    for (tier, stress) in TIERS {
        let mut child = forge(tier, stress, &program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("forge");
        std::thread::sleep(Duration::from_millis(300));
        assert!(child.try_wait().expect("try_wait").is_none(), "{tier}: ended while its input was still to come");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"forge\n").expect("write stdin");
        drop(stdin);
        let out = support::wait_or_kill(child, Duration::from_secs(30), &format!("{tier} (a worker is blocked?)"));
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{tier} (stress {stress})");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "name? hello forge\n", "{tier}");
        assert!(out.status.success(), "{tier}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
