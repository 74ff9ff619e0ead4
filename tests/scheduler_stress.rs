//! Scheduler stress: `tests/programs/message_storm.fg` passes messages among
//! 1 000 tasks over shared channels and checks count, sum and sum of squares,
//! so a lost or duplicated message fails the test. Ten million messages on
//! the VM; one million on the interpreter and on eight workers.

use std::process::Command;

fn storm(tier: &str, workers: Option<&str>, messages: u64) {
    let program = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/programs/message_storm.fg");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_forge"));
    cmd.args(["run", tier, program, &messages.to_string()]);
    if let Some(w) = workers {
        cmd.env("FORGE_WORKERS", w);
    }
    let out = cmd.output().expect("run forge");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{tier} {workers:?}: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("true\ntrue\ntrue\n{messages}\n"), "{tier} {workers:?}");
}

#[test]
fn ten_million_messages_on_the_vm() {
    storm("--vm", None, 10_000_000);
}

#[test]
fn a_million_messages_on_eight_workers() {
    storm("--vm", Some("8"), 1_000_000);
}

#[test]
fn a_million_messages_on_one_worker() {
    storm("--vm", Some("1"), 1_000_000);
}

#[test]
fn a_million_messages_on_the_interpreter() {
    storm("--interp", None, 1_000_000);
}
