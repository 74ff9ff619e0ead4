#!/usr/bin/env bash
# Model-checks the scheduler's wake-up core (channel, join cell, task state
# machine) with loom: scheduler/tests/loom_models/.
#
# Builds with `--cfg loom` in its own target directory (target/loom), so it
# never invalidates the ordinary build. Extra arguments go to the test
# binary, e.g. `scripts/loom.sh withdrawn` runs the models whose names
# contain "withdrawn".
#
# Every model is explored exhaustively except one, bounded to 5 preemptions
# (see loom_models/main.rs); LOOM_MAX_PREEMPTIONS=N sets the bound for all
# (255: explore everything in full, about 30 s more). A failing model aborts
# the test binary (loom panics again while unwinding): run that model alone,
# with LOOM_LOG=trace LOOM_LOCATION=1 and --nocapture, to read its trace.
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTFLAGS="${RUSTFLAGS:-} --cfg loom"
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-$PWD/target/loom}"
# Release for exploration speed, but without the workspace's thin LTO and
# single codegen unit: they buy the models nothing and double the rebuild
# after an edit (about 16 s instead of 8 s on 2 cores).
export CARGO_PROFILE_RELEASE_LTO=false
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
# Keep debug assertions: `TaskState::block` checks NOTIFIED with one.
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true

exec cargo test -p forge-scheduler --release --test loom_models -- "$@"
