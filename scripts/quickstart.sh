#!/usr/bin/env bash
# The quickstart: build xmen and its hook libraries, then run a monitored training
# loop whose Logger and Timer hooks are loaded from their .so files at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xmen/target}"
echo "== building the workspace and every hook library (release)"
cargo build --release --workspace --quiet
echo "== hook libraries:"
ls "$CARGO_TARGET_DIR"/release/libxmen_hook_*.so
echo "== a monitored loop (spec §5.15 logger.py): Logger hooks loaded from libxmen_hook_logger.so"
cargo run --release --quiet --example logger
echo "== the Timer hook, loaded from libxmen_hook_timer.so"
cargo run --release --quiet --example timer
