//! The conformance suite on every available tier.
//!
//! Every `NAME.fg` under `tests/conformance/` (the public suite) and
//! `tests/cases/` (the project's own) runs with `forge run --TIER`; stdout must
//! equal `NAME.out`, and `NAME.err` (if present) gives the exit status on its
//! first line and substrings stderr must contain on the others. Prints one
//! `TIER: N passed, M failed` line per tier and fails if any case failed.
//!
//! A tier `T@wN` is tier `T` with `FORGE_WORKERS=N`, on the cases under a
//! `concurrency/` folder only.
//! Tier `vm-stress` is the VM with `FORGE_GC_STRESS=1` (a collection at
//! every safepoint after an allocation), which catches values the VM forgot
//! to root. `FORGE_TIERS=interp,vm` picks tiers; `FORGE_CASES=substring`
//! filters cases.
//! Tiers that are not built yet are skipped with a note.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);

fn cases(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "lib") {
                    dirs.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "fg") && p.with_extension("out").exists() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The `forge run` flag and environment of a tier: `BASE[-stress][@wN]`.
fn tier_command(forge: &str, tier: &str) -> Command {
    let mut cmd = Command::new(forge);
    let (tier, workers) = match tier.split_once("@w") {
        Some((t, n)) => (t, Some(n)),
        None => (tier, None),
    };
    match tier.strip_suffix("-stress") {
        Some(base) => cmd.args(["run", &format!("--{base}")]).env("FORGE_GC_STRESS", "1"),
        None => cmd.args(["run", &format!("--{tier}")]),
    };
    if let Some(n) = workers {
        cmd.env("FORGE_WORKERS", n);
    }
    cmd
}

/// Tiers with a fixed number of workers run the concurrency cases only.
fn runs_case(tier: &str, case: &Path) -> bool {
    !tier.contains("@w") || case.components().any(|c| c.as_os_str() == "concurrency")
}

/// Runs one case; `None` if it passed, else the reason.
fn run_case(forge: &str, tier: &str, case: &Path) -> Option<String> {
    let dir = case.parent().expect("case in a folder");
    let name = case.file_name().expect("file name");
    let stdin = match std::fs::File::open(case.with_extension("in")) {
        Ok(f) => Stdio::from(f),
        Err(_) => Stdio::null(),
    };
    let mut child = tier_command(forge, tier)
        .arg(name)
        .current_dir(dir)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                return Some(format!("timeout after {}s", TIMEOUT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Some(format!("wait failed: {e}")),
        }
    }
    let out = child.wait_with_output().ok()?;
    let code = out.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = std::fs::read_to_string(case.with_extension("out")).unwrap_or_default();
    let (want_code, needles) = match std::fs::read_to_string(case.with_extension("err")) {
        Ok(text) => {
            let mut lines = text.lines();
            let code = lines.next().and_then(|l| l.trim().parse().ok()).unwrap_or(1);
            (code, lines.filter(|l| !l.is_empty()).map(String::from).collect::<Vec<_>>())
        }
        Err(_) => (0, Vec::new()),
    };
    if code != want_code {
        return Some(format!("exit {code}, want {want_code}; stderr: {}", stderr.lines().next().unwrap_or("")));
    }
    if stdout != expected {
        return Some(format!("stdout differs:\n--- want\n{expected}--- got\n{stdout}"));
    }
    needles.iter().find(|n| !stderr.contains(n.as_str())).map(|n| format!("stderr lacks {n:?}: {stderr}"))
}

fn tier_available(forge: &str, tier: &str) -> bool {
    let probe = std::env::temp_dir().join(format!("forge-tier-probe-{}.fg", std::process::id()));
    let _ = std::fs::write(&probe, "say 1\n");
    let ok = tier_command(forge, tier).arg(&probe).output().map(|o| o.status.success()).unwrap_or(false);
    let _ = std::fs::remove_file(&probe);
    ok
}

fn main() {
    let forge = env!("CARGO_BIN_EXE_forge");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests");
    let mut all = cases(&root.join("conformance"));
    all.extend(cases(&root.join("cases")));
    if let Ok(filter) = std::env::var("FORGE_CASES") {
        all.retain(|c| c.to_string_lossy().contains(&filter));
    }
    let tiers = std::env::var("FORGE_TIERS")
        .unwrap_or_else(|_| "interp,vm,vm-stress,jit,vm@w1,vm@w2,vm@w8,interp@w1,interp@w8".into());
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 8);
    let mut failed_any = false;
    for tier in tiers.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !tier_available(forge, tier) {
            println!("{tier}: not available yet, skipped");
            continue;
        }
        let cases: Vec<&PathBuf> = all.iter().filter(|c| runs_case(tier, c)).collect();
        let next = AtomicUsize::new(0);
        let failures = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    if let Some(why) = run_case(forge, tier, case) {
                        failures.lock().expect("lock").push(((*case).clone(), why));
                    }
                });
            }
        });
        let mut failures = failures.into_inner().expect("lock");
        failures.sort();
        for (case, why) in &failures {
            println!("FAIL [{tier}] {}: {why}", case.strip_prefix(&root).unwrap_or(case).display());
        }
        println!("{tier}: {} passed, {} failed", cases.len() - failures.len(), failures.len());
        failed_any |= !failures.is_empty();
    }
    if failed_any {
        std::process::exit(1);
    }
}
