#!/usr/bin/env bash
# Every test of the project: the workspace's tests (unit tests, the
# conformance suite on every tier, fuzz, differential, stress and bad-input
# tests), then the loom models of the scheduler's wake-up core.
# `.ci/run` runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
bash scripts/loom.sh
