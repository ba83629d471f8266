#!/usr/bin/env bash
# Instructions counted by callgrind: a loaded machine stretches wall-clock benches by its
# neighbours' work; instruction counts do not move with it.
#
#   bash benches/callgrind.sh                 instructions per Monitor step: no_fire, fire_1, fire_4
#   bash benches/callgrind.sh hooks [COMMIT]  instructions per firing through hook cdylibs: dispatch
#                                             (fire_5_vars/cdylib), logger (logger_fire/cdylib_2_vars),
#                                             tensorboard (fire_100_scalars/cdylib_back_pressure_paced);
#                                             with COMMIT, the same at that commit, side by side
#
# Each mode runs twice (STEPS and 2 * STEPS steps) and only the loop is counted (not the set-up);
# the difference of the two totals divided by STEPS is one step, without the first steps' one-time
# work. Monitor steps: core/xmen-core/examples/firing_loop.rs, counting `steps_of`. Hook firings:
# benches/noop-hook/examples/hook_loop.rs, counting `burst_of` on the training thread only
# (callgrind's collection state is per thread, so TensorBoard's writer thread is not counted).
# For COMMIT, the script checks it out in a temporary worktree, copies hook_loop.rs into it (it
# uses only API that existed then), builds it in $CARGO_TARGET_DIR/base and removes the worktree.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xmen/target}"
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install -y valgrind)" >&2; exit 1; }
tmp=$(mktemp -d)
worktree=""
cleanup() {
    rm -rf "$tmp"
    if [ -n "$worktree" ]; then git worktree remove --force "$worktree" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# count BIN TOGGLE ARGS... -> total instructions collected inside TOGGLE
count() {
    local bin=$1 toggle=$2
    shift 2
    valgrind --tool=callgrind --toggle-collect="$toggle" --callgrind-out-file="$tmp/out" "$bin" "$@" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
# per_step BIN TOGGLE MODE STEPS [EXTRA...] -> instructions of one step
per_step() {
    local bin=$1 toggle=$2 mode=$3 steps=$4
    shift 4
    local a b
    a=$(count "$bin" "$toggle" "$mode" "$steps" "$@")
    b=$(count "$bin" "$toggle" "$mode" $((2 * steps)) "$@")
    python3 -c "print(round(($b - $a) / $steps))"
}

if [ "${1:-}" != hooks ]; then
    cargo build -q --release -p xmen-core --example firing_loop
    bin="$CARGO_TARGET_DIR/release/examples/firing_loop"
    steps=${STEPS:-20000}
    for mode in no_fire fire_1 fire_4; do
        printf '%-8s %8s instructions per step\n' "$mode" "$(per_step "$bin" '*steps_of*' "$mode" "$steps")"
    done
    exit 0
fi

hook_pkgs=(-p xmen-bench-noop-hook -p xmen-hook-logger -p xmen-hook-tensorboard)
# build DIR TARGET_DIR: the three hook libraries and the driver, in release
build() {
    (cd "$1" && CARGO_TARGET_DIR=$2 cargo build -q --release "${hook_pkgs[@]}" --lib --example hook_loop)
}
modes=(dispatch logger tensorboard)
declare -A steps=([dispatch]=20000 [logger]=5000 [tensorboard]=2000)
declare -A now base
build . "$CARGO_TARGET_DIR"
for mode in "${modes[@]}"; do
    now[$mode]=$(per_step "$CARGO_TARGET_DIR/release/examples/hook_loop" '*burst_of*' "$mode" "${steps[$mode]}" \
        "$CARGO_TARGET_DIR/release")
done
commit=${2:-}
if [ -n "$commit" ]; then
    worktree="$tmp/base"
    git worktree add --detach "$worktree" "$commit" >/dev/null 2>&1
    mkdir -p "$worktree/benches/noop-hook/examples"
    cp benches/noop-hook/examples/hook_loop.rs "$worktree/benches/noop-hook/examples/"
    build "$worktree" "$CARGO_TARGET_DIR/base"
    for mode in "${modes[@]}"; do
        base[$mode]=$(per_step "$CARGO_TARGET_DIR/base/release/examples/hook_loop" '*burst_of*' "$mode" \
            "${steps[$mode]}" "$CARGO_TARGET_DIR/base/release")
    done
    printf '%-12s %12s %12s %7s   (instructions per firing)\n' mode "$commit" now ratio
    for mode in "${modes[@]}"; do
        printf '%-12s %12s %12s %7s\n' "$mode" "${base[$mode]}" "${now[$mode]}" \
            "$(python3 -c "print(f'{${now[$mode]} / ${base[$mode]}:.3f}')")"
    done
else
    for mode in "${modes[@]}"; do
        printf '%-12s %8s instructions per firing\n' "$mode" "${now[$mode]}"
    done
fi
