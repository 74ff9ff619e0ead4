//! Bad input in concurrency (issue 5, "Bad input"): sending on a closed
//! channel, awaiting a failed task, receiving from a channel nobody can
//! send to, and spawning until memory runs out each end in a clear Forge
//! error with a source location in the offending task — or a deadlock
//! report, or the heap-limit / task-limit error — never a Rust panic or a
//! hang. Every program runs on both tiers with the default number of
//! workers, one worker and eight.

use std::process::{Command, Output};
use std::time::Duration;

#[path = "support.rs"]
mod support;

/// Tier flag and `FORGE_WORKERS` (`None`: the default, one per core).
const CONFIGS: [(&str, Option<&str>); 6] = [
    ("--interp", None),
    ("--interp", Some("1")),
    ("--interp", Some("8")),
    ("--vm", None),
    ("--vm", Some("1")),
    ("--vm", Some("8")),
];

/// Longest any of these programs may take; a hang fails the test.
const LIMIT: Duration = Duration::from_secs(120);

/// Runs `source` as `NAME` on one configuration with extra environment
/// variables, killing it after `LIMIT`.
fn run(tier: &str, workers: Option<&str>, name: &str, source: &str, env: &[(&str, &str)]) -> Output {
    let dir = std::env::temp_dir().join(format!(
        "forge-bad-concurrency-{}-{}{}",
        std::process::id(),
        tier.trim_start_matches('-'),
        workers.unwrap_or("")
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join(name), source).expect("write program");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_forge"));
    cmd.args(["run", tier, name]).current_dir(&dir).envs(env.iter().copied());
    match workers {
        Some(n) => cmd.env("FORGE_WORKERS", n),
        None => cmd.env_remove("FORGE_WORKERS"),
    };
    let child =
        cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("run forge");
    support::wait_or_kill(child, LIMIT, &format!("{name} on {tier} {workers:?}"))
}

/// What one run must show: exit status, stdout, and lines stderr must have.
struct Expect<'a> {
    code: i32,
    stdout: &'a str,
    stderr: &'a [&'a str],
}

/// Runs `source` on every configuration and checks each run.
fn check_all(name: &str, source: &str, env: &[(&str, &str)], want: Expect<'_>) {
    for (tier, workers) in CONFIGS {
        let out = run(tier, workers, name, source, env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let what = format!("{name} on {tier}, FORGE_WORKERS={workers:?}; stderr:\n{stderr}");
        assert_eq!(out.status.code(), Some(want.code), "{what}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), want.stdout, "{what}");
        for needle in want.stderr {
            assert!(stderr.contains(needle), "wanted {needle:?} in {what}");
        }
        assert!(!stderr.contains("panicked") && !stderr.contains("internal error"), "{what}");
    }
}

#[test]
fn send_on_a_closed_channel() {
    // In the main task: the error at the send.
    check_all(
        "closed_main.fg",
        "let ch = channel()\nclose(ch)\nsay \"before\"\nsend(ch, 1)\nsay \"after\"\n",
        &[],
        Expect { code: 1, stdout: "before\n", stderr: &["error: send on closed channel", "--> closed_main.fg:4:1"] },
    );
    // A sender parked on a full channel that is then closed fails in its
    // own task; the awaiting task says where.
    let src = "let ch = channel(1)\nlet h = spawn {\n    send(ch, 1)\n    send(ch, 2)\n    return \"unreached\"\n}\nwait(0.05)\nclose(ch)\nsay receive(ch)\nawait h\n";
    check_all(
        "closed_parked.fg",
        src,
        &[],
        Expect {
            code: 1,
            stdout: "1\n",
            stderr: &[
                "error: task failed: send on closed channel",
                "--> closed_parked.fg:10:1",
                "task 2 failed at closed_parked.fg:4:5",
            ],
        },
    );
    // Caught in the offending task, which goes on.
    let src = "let ch = channel()\nclose(ch)\nlet h = spawn {\n    try { send(ch, 1) } catch e { return \"caught: {e.message}\" }\n}\nsay await h\nsay try_send(ch, 1)\n";
    check_all(
        "closed_caught.fg",
        src,
        &[],
        Expect { code: 0, stdout: "caught: send on closed channel\nfalse\n", stderr: &[] },
    );
}

#[test]
fn awaiting_a_failed_task() {
    let src = "fn ratio(a, b) {\n    return a / b\n}\nlet h = spawn ratio(1, 0)\ntry { await h } catch e { say \"{e.type}: {e.message}\" }\nsay \"again\"\nawait h\n";
    check_all(
        "await_failed.fg",
        src,
        &[],
        Expect {
            code: 1,
            stdout: "RuntimeError: task failed: division by zero\nagain\n",
            stderr: &[
                "error: task failed: division by zero",
                "--> await_failed.fg:7:1",
                "task 2 failed at await_failed.fg:2:12",
            ],
        },
    );
    // A chain of awaits names every task down to the failing expression.
    let src = "let outer = spawn {\n    let inner = spawn { return [1][5] }\n    return await inner\n}\nawait outer\n";
    check_all(
        "await_chain.fg",
        src,
        &[],
        Expect {
            code: 1,
            stdout: "",
            stderr: &[
                "error: task failed: task failed: index out of bounds: index 5 on array of length 1",
                "--> await_chain.fg:5:1",
                "task 2 failed at await_chain.fg:3:12",
                "task 3 failed at await_chain.fg:2:32",
            ],
        },
    );
    // await_all and squad fail the same way.
    let src = "let good = spawn { return 1 }\nlet bad = spawn { return 1 % 0 }\ntry { await_all([good, bad]) } catch e { say e.message }\nlet r = squad {\n    spawn { return 1 }\n    spawn { return null.x }\n}\n";
    check_all(
        "await_all_squad.fg",
        src,
        &[],
        Expect {
            code: 1,
            stdout: "task failed: division by zero\n",
            stderr: &[
                "error: task failed: cannot access field 'x' on Null",
                "--> await_all_squad.fg:4:9",
                "failed at await_all_squad.fg:6:",
            ],
        },
    );
}

#[test]
fn receiving_from_a_channel_nobody_can_send_to() {
    // Every other task done: a deadlock report naming the wait site.
    check_all(
        "nobody.fg",
        "let ch = channel()\nsay \"waiting\"\nsay receive(ch)\n",
        &[],
        Expect {
            code: 1,
            stdout: "waiting\n",
            stderr: &["error: deadlock: all tasks are blocked", "task 1 (main): receive at nobody.fg:3:5"],
        },
    );
    // Other tasks still busy (computing, sleeping) when main blocks: the
    // report comes once they have finished, and their output is kept.
    let src = "let ch = channel()\nlet done = channel(4)\nspawn {\n    let mut n = 0\n    while n < 300000 { n += 1 }\n    say \"busy done\"\n}\nspawn {\n    time.sleep(0.2)\n    say \"sleeper done\"\n}\nspawn { return receive(done) }\nsay receive(ch)\n";
    for (tier, workers) in CONFIGS {
        let out = run(tier, workers, "nobody_busy.fg", src, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let what = format!("{tier} {workers:?}; stdout:\n{stdout}stderr:\n{stderr}");
        assert_eq!(out.status.code(), Some(1), "{what}");
        let mut lines: Vec<&str> = stdout.lines().collect();
        lines.sort();
        assert_eq!(lines, ["busy done", "sleeper done"], "{what}");
        assert!(stderr.starts_with("error: deadlock: all tasks are blocked\n"), "{what}");
        assert!(stderr.contains("  task 1 (main): receive at nobody_busy.fg:13:5\n"), "{what}");
        assert!(stderr.contains("  task 4: receive at nobody_busy.fg:12:16\n"), "{what}");
        assert_eq!(stderr.lines().count(), 3, "only the blocked tasks are listed: {what}");
    }
}

/// Spawns tasks that block forever, in an endless loop; the loop runs in a
/// spawned task whose failure main reports.
const SPAWN_FOREVER: &str = "fn flood(ch) {\n    while true {\n        spawn { receive(ch) }\n    }\n}\nlet ch = channel()\nlet h = spawn flood(ch)\ntry { await h } catch e { say e.message }\nsay \"main goes on\"\n";

#[test]
fn spawning_until_the_task_limit() {
    check_all(
        "flood_tasks.fg",
        SPAWN_FOREVER,
        &[("FORGE_MAX_TASKS", "3000")],
        Expect {
            code: 0,
            stdout: "task failed: cannot start a task: live task limit reached (3000 tasks; set FORGE_MAX_TASKS to raise it)\nmain goes on\n",
            stderr: &[],
        },
    );
    // Uncaught in the main task: the error is at the spawn.
    check_all(
        "flood_main.fg",
        "let ch = channel()\nlet mut n = 0\nwhile true {\n    spawn { receive(ch) }\n    n += 1\n}\n",
        &[("FORGE_MAX_TASKS", "2000")],
        Expect {
            code: 1,
            stdout: "",
            stderr: &["error: cannot start a task: live task limit reached (2000 tasks", "--> flood_main.fg:4:5"],
        },
    );
}

#[test]
fn spawning_until_the_heap_limit_on_the_vm() {
    // Handles dropped at once: the live tasks themselves count toward the
    // spawner's heap limit.
    for workers in [None, Some("1"), Some("8")] {
        let out = run("--vm", workers, "flood_heap.fg", SPAWN_FOREVER, &[("FORGE_MAX_HEAP", "2M")]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let what = format!("{workers:?}; stderr: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{what}");
        assert!(stdout.starts_with("task failed: out of memory (heap limit reached; "), "{stdout} {what}");
        assert!(stdout.contains(" KB of it held by live tasks this task spawned)\nmain goes on\n"), "{stdout} {what}");
    }
    // Handles kept in an array, in the main task: the error at the spawn.
    let src = "let ch = channel()\nlet mut hs = []\nwhile true {\n    hs.push(spawn { receive(ch) })\n}\n";
    for workers in [None, Some("1"), Some("8")] {
        let out = run("--vm", workers, "flood_keep.fg", src, &[("FORGE_MAX_HEAP", "4M")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.starts_with("error: out of memory (heap limit reached"), "{stderr}");
        assert!(stderr.contains("--> flood_keep.fg:4:"), "{stderr}");
    }
    // Tasks that finish give their share back: far more tasks than fit at
    // once run under the same limit.
    let src = "let mut total = 0\nrepeat 5000 times {\n    spawn { return 1 }\n    total += await spawn { return 2 }\n}\nsay total\n";
    for workers in [None, Some("1"), Some("8")] {
        let out = run("--vm", workers, "churn.fg", src, &[("FORGE_MAX_HEAP", "1M")]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "10000\n");
    }
}

#[test]
fn a_growing_top_level_array_of_handles_is_not_copied_into_every_task() {
    // The handles live in a top-level global that no task can read, so a
    // spawn does not copy it: 20 000 parked tasks fit in 64 MB (each copy
    // would be charged to the heap limit, and the copies alone would need
    // gigabytes).
    let src = "let ch = channel()\nlet mut hs = []\nrepeat 20000 times {\n    hs.push(spawn { return receive(ch) })\n}\nclose(ch)\nlet mut nulls = 0\nfor h in hs {\n    if await h == null { nulls += 1 }\n}\nsay nulls\n";
    for (tier, workers) in CONFIGS {
        let out = run(tier, workers, "handles.fg", src, &[("FORGE_MAX_HEAP", "64M")]);
        let what = format!("{tier} {workers:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{what}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "20000\n", "{what}");
    }
}
