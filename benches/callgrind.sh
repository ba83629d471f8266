#!/usr/bin/env bash
# Instructions per Monitor step, counted by callgrind: a loaded machine stretches wall-clock
# benches by its neighbours' work; instruction counts do not move with it.
#
#   bash benches/callgrind.sh        prints instructions per step for no_fire, fire_1, fire_4
#
# Each mode runs twice (STEPS and 2 * STEPS steps of core/xmen-core/examples/firing_loop.rs);
# only the loop is counted (not the TSC calibration, whose count varies), and the difference of
# the two totals divided by STEPS is one step, without the first steps' one-time work.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xmen/target}"
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install -y valgrind)" >&2; exit 1; }
cargo build -q --release -p xmen-core --example firing_loop
bin="$CARGO_TARGET_DIR/release/examples/firing_loop"
steps=${STEPS:-20000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() { # mode steps -> total instructions
    valgrind --tool=callgrind --toggle-collect="*steps_of*" --callgrind-out-file="$tmp/out" "$bin" "$1" "$2" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for mode in no_fire fire_1 fire_4; do
    a=$(count "$mode" "$steps")
    b=$(count "$mode" $((2 * steps)))
    python3 -c "print(f'{\"$mode\":8} {($b - $a) / $steps:8.1f} instructions per step')"
done
