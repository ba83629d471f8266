#!/usr/bin/env bash
# The quickstart: build xmen and its hook libraries, initialise an experiment set from
# a small training experiment, register a 2x2 sweep, run it (each run's Monitor loads its
# Logger, Timer and Messenger hooks from their .so files), and list the results.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xmen/target}"
bin="$CARGO_TARGET_DIR/release"
echo "== building xmen, every hook library and the examples (release)"
cargo build --release --workspace --quiet
cargo build --release -p xmen-examples --examples --quiet
ls "$bin"/libxmen_hook_*.so | sed 's/^/   /'
xmen="$bin/xmen"
echo "== xmen hooks install --first-party: xmen's own hooks for experiments built anywhere"
"$xmen" hooks install --first-party | tail -1
set_dir="${1:-$(mktemp -d -t xmen-quickstart-XXXXXX)/toy-sweep}"
echo "== xmen init: a set from the train_toy experiment in $set_dir"
"$xmen" init -n "$bin/examples/train_toy" -r "$set_dir" --purpose "quickstart sweep"
echo "== xmen register: a 2x2 sweep over lr and epochs"
"$xmen" register -r "$set_dir" -u "{lr: 0.1 | 0.01, epochs: 2 | 4}"
echo "== xmen run: each run prints its Monitor's Logger/Timer/Messenger lines"
"$xmen" run -r "$set_dir" "*" bash
echo "== xmen list: status, and the best loss each run left as a message"
cd "$set_dir"
"$xmen" list -s -f "lr" -f "epochs" -f "_messages_loss" -f "_messages_step_best"
